using System.Text.Json;
using ImageForge.CloudFakes.Azure;
using ImageForge.Core.Providers;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace ImageForge.Providers.Azure.Tests;

/// <summary>
/// The real Azure module through the unchanged imageforge command, against Azurite and the ARM fake: a disk built
/// once (by a disk provider written here: a small fixed VHD) is imported, verified, promoted, admitted, revoked and
/// collected; a failed region is finished by <c>build --resume</c>.
/// </summary>
[Collection(AzureFakesGroup.Name)]
public sealed class CliSpecs(AzureWorld world, ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-azure-cli");

    [Fact(Timeout = 120_000)]
    public async Task A_build_imports_into_the_gallery_and_the_version_is_promoted_admitted_revoked_and_collected()
    {
        var definition = world.NewImageDefinition();
        var content = WriteContent(definition);
        var before = world.Arm.TotalCalls;

        var built = await RunAsync(content, "build", "azure-imported", "--output", "json");
        var callsPerBuild = world.Arm.TotalCalls - before;
        var version = VersionOf(built);
        var name = GalleryVersionName.For(version);
        var id =
            $"/subscriptions/{ArmFake.DefaultSubscriptionId}/resourceGroups/{AzureWorld.ResourceGroup}/providers/Microsoft.Compute/galleries/{AzureWorld.Gallery}/images/{definition}/versions/{name}";
        var imported = await world.VersionDataAsync(definition, name);
        var verify = await RunAsync(content, "verify", "azure-imported");
        var dev = await RunAsync(content, "promote", $"azure-imported@{version}", "--to", "dev");
        var prod = await RunAsync(content, "promote", $"azure-imported@{version}", "--to", "prod");
        var promoted = await world.VersionDataAsync(definition, name);
        var admit = await RunAsync(
            content,
            "admit",
            "--provider",
            "azure",
            "--image-id",
            id,
            "--region",
            "westeurope"
        );
        var revoke = await RunAsync(
            content,
            "revoke",
            $"azure-imported@{version}",
            "--reason",
            "spec"
        );
        var revoked = await world.VersionDataAsync(definition, name);
        var second = await RunAsync(content, "build", "azure-imported");
        var gc = await RunAsync(content, "gc", "--keep", "1", "--window", "0", "--apply");

        output.WriteLine($"ARM calls for one build: {callsPerBuild}");
        built.ExitCode.ShouldBe(0, built.ToString());
        imported.PublishingProfile.IsExcludedFromLatest.ShouldBe(true);
        imported
            .ReplicationStatus.Summary.Select(s => (s.Region, s.State?.ToString()))
            .ShouldBe([("westeurope", "Completed"), ("northeurope", "Completed")]);
        verify.ExitCode.ShouldBe(0, verify.ToString());
        dev.ExitCode.ShouldBe(0, dev.ToString());
        prod.ExitCode.ShouldBe(0, prod.ToString());
        promoted.PublishingProfile.IsExcludedFromLatest.ShouldBe(false);
        promoted.Tags["imageforge-channel-prod"].ShouldBe(version);
        admit.ExitCode.ShouldBe(0, admit.ToString());
        revoke.ExitCode.ShouldBe(0, revoke.ToString());
        revoked.PublishingProfile.IsExcludedFromLatest.ShouldBe(true);
        revoked.PublishingProfile.EndOfLifeOn.ShouldNotBeNull();
        second.ExitCode.ShouldBe(0, second.ToString());
        gc.ExitCode.ShouldBe(0, gc.ToString());
        world
            .Arm.State.Versions.Where(v =>
                v.Id.Contains($"/images/{definition}/", StringComparison.Ordinal)
            )
            .Select(v => v.Id.Split('/')[^1])
            .ShouldBe([GalleryVersionName.For(VersionOfBuild(content, 2))]);
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 120_000)]
    public async Task A_region_that_fails_fails_the_build_naming_it_and_the_resume_finishes_that_region_alone()
    {
        var definition = world.NewImageDefinition();
        var content = WriteContent(definition);
        world.Arm.Faults.FailReplicationIn("northeurope", "Failed with internal server error.");
        CliResult failed;
        try
        {
            failed = await RunAsync(content, "build", "azure-imported");
        }
        finally
        {
            world.Arm.Faults.HealReplicationIn("northeurope");
        }

        var resumed = await RunAsync(content, "build", "--resume", "1", "--output", "json");
        var name = GalleryVersionName.For(VersionOf(resumed));

        output.WriteLine(failed.ToString());
        failed.ExitCode.ShouldBe(3, failed.ToString());
        failed.Out.ShouldContain("step replicate northeurope failed");
        failed.Out.ShouldContain("replicated to westeurope");
        failed.Out.ShouldContain("imageforge build --resume 1");
        resumed.ExitCode.ShouldBe(0, resumed.ToString());
        world.PutsOf(definition, name).ShouldBe(1);
        world.Calls("PATCH", definition, name).ShouldBe(2);
        world
            .Arm.State.Versions.Count(v =>
                v.Id.Contains($"/images/{definition}/", StringComparison.Ordinal)
            )
            .ShouldBe(1);
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    public void Dispose() => _dir.Dispose();

    private static string VersionOf(CliResult result)
    {
        result.ExitCode.ShouldBe(0, result.ToString());
        return JsonDocument
            .Parse(result.Out)
            .RootElement.GetProperty("version")
            .GetProperty("version")
            .GetString()!;
    }

    private string VersionOfBuild(string content, int build)
    {
        var shown = RunAsync(
                content,
                "builds",
                "show",
                build.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--output",
                "json"
            )
            .GetAwaiter()
            .GetResult();
        return JsonDocument.Parse(shown.Out).RootElement.GetProperty("version").GetString()!;
    }

    private Task<CliResult> RunAsync(string content, params string[] args) =>
        CliRunner.RunAsync(
            content,
            null,
            new ProviderRegistry([new DiskMaker(), new AzureProvider(world.Connection())]),
            CancellationToken.None,
            [.. args, "--data-dir", _dir.Combine("data")]
        );

    private string WriteContent(string definition)
    {
        var root = ContentCopy.Create(_dir.Combine("content"));
        ContentCopy.AddOpenBaseline(root);
        File.WriteAllText(
            Path.Combine(root, "templates", "images", "azure-imported.yaml"),
            $"""
            name: azure-imported
            description: a disk built once and imported into a compute gallery
            os: {"{"} family: debian, release: "11" {"}"}
            baseline: open
            targets:
              - provider: diskmaker
                base_image: any
              - provider: azure
                base_image: Debian:debian-11:11-gen2:latest
                regions: [westeurope, northeurope]
                options:
                  subscription_id: {ArmFake.DefaultSubscriptionId}
                  resource_group: {AzureWorld.ResourceGroup}
                  gallery: {AzureWorld.Gallery}
                  image_definition: {definition}
                  publisher: imageforge
                  storage_account: {Azurite.AccountName}
                  storage_container: {AzureWorld.Container}
                channels:
                  prod: {"{"} latest: true {"}"}
            channels: [dev, prod]
            """
        );
        return root;
    }
}
