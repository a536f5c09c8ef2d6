using System.Text.Json;
using ImageForge.Core.Providers;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Gcp.Tests;

/// <summary>
/// The GCP module through the unchanged imageforge command against the fake: a build imports the disk another target
/// of the definition made, promotion serves it from the channel's family, rollback returns the family to the
/// earlier version, admit knows its image, revoke makes it OBSOLETE, gc deletes it.
/// </summary>
public sealed class GcpCliSpecs(GcpKit kit) : IClassFixture<GcpKit>, IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-gcp-cli");

    [Fact(Timeout = 120_000)]
    public async Task A_gcp_image_is_built_by_import_promoted_rolled_back_admitted_revoked_and_collected()
    {
        var content = WriteContent();
        var providers = new ProviderRegistry([new DiskMaker(), new GcpProvider(kit.Settings)]);

        var invalid = await RunAsync(
            providers,
            WriteContent("project_id: Bad_Project", "bad"),
            "validate"
        );
        var built = await RunAsync(providers, content, "build", "gcp-image", "--output", "json");
        var v1 = Version(built);
        var second = await RunAsync(providers, content, "build", "gcp-image", "--output", "json");
        var v2 = Version(second);
        var verify = await RunAsync(providers, content, "verify", $"gcp-image@{v1}");
        var promote1 = await RunAsync(
            providers,
            content,
            "promote",
            $"gcp-image@{v1}",
            "--to",
            "dev"
        );
        var promote2 = await RunAsync(
            providers,
            content,
            "promote",
            $"gcp-image@{v2}",
            "--to",
            "dev"
        );
        var servedAfterPromotions = Served("gcp-image-dev");
        var rollback = await RunAsync(
            providers,
            content,
            "rollback",
            "gcp-image",
            "--channel",
            "dev"
        );
        var servedAfterRollback = Served("gcp-image-dev");
        var n1 = GcpNames.Image("gcp-image", v1);
        var n2 = GcpNames.Image("gcp-image", v2);
        var admit = await RunAsync(
            providers,
            content,
            "admit",
            "--provider",
            "gcp",
            "--image-id",
            $"projects/{GcpKit.Project}/global/images/{n1}"
        );
        var revoke = await RunAsync(
            providers,
            content,
            "revoke",
            $"gcp-image@{v2}",
            "--reason",
            "spec"
        );
        var revoked = kit.Fake.Compute.Image(GcpKit.Project, n2)!.DeepClone();
        var third = await RunAsync(providers, content, "build", "gcp-image");
        var gc = await RunAsync(
            providers,
            content,
            "gc",
            "--keep",
            "1",
            "--window",
            "0",
            "--apply"
        );

        invalid.ExitCode.ShouldBe(2, invalid.ToString());
        invalid.ToString().ShouldMatch(@"gcp-image\.yaml:\d+: targets\[0\]\.options\.project_id");
        built.ExitCode.ShouldBe(0, built.ToString());
        second.ExitCode.ShouldBe(0, second.ToString());
        verify.ExitCode.ShouldBe(0, verify.ToString());
        var image = JsonDocument
            .Parse(built.Out)
            .RootElement.GetProperty("version")
            .GetProperty("artifacts")
            .EnumerateArray()
            .Single(a => a.GetProperty("target").GetString() == "gcp");
        image.GetProperty("path").GetString().ShouldBe(GcpNames.SelfLink(GcpKit.Project, n1));
        promote1.ExitCode.ShouldBe(0, promote1.ToString());
        promote2.ExitCode.ShouldBe(0, promote2.ToString());
        servedAfterPromotions.ShouldBe(n2);
        rollback.ExitCode.ShouldBe(0, rollback.ToString());
        servedAfterRollback.ShouldBe(n1);
        admit.ExitCode.ShouldBe(0, admit.ToString());
        revoke.ExitCode.ShouldBe(0, revoke.ToString());
        ((string?)revoked["deprecated"]!["state"]).ShouldBe("OBSOLETE");
        gc.ExitCode.ShouldBe(0, gc.ToString());
        third.ExitCode.ShouldBe(0, third.ToString());
        gc.Out.ShouldContain($"gcp-image@{v2}");
        gc.Out.ShouldContain("deleted 1 version(s)");
        kit.Fake.Compute.Image(GcpKit.Project, n2).ShouldBeNull();
        kit.Fake.Compute.Image(GcpKit.Project, n1).ShouldNotBeNull();
        kit.Fake.Storage.Objects(GcpKit.Bucket)
            .ShouldNotContain(o => o.Name.StartsWith("gcp-image/", StringComparison.Ordinal));
        kit.Gcp.AssertNoModelProblems();
    }

    public void Dispose() => _dir.Dispose();

    private static string Version(CliResult built) =>
        built.ExitCode == 0
            ? JsonDocument
                .Parse(built.Out)
                .RootElement.GetProperty("version")
                .GetProperty("version")
                .GetString()!
            : throw new ShouldAssertException(built.ToString());

    private string? Served(string family) =>
        kit
            .Fake.Compute.Images(GcpKit.Project)
            .Where(i => (string?)i["family"] == family && (string?)i["status"] == "READY")
            .Where(i => (string?)i["deprecated"]?["state"] is null or "ACTIVE")
            .OrderByDescending(i => (string)i["creationTimestamp"]!, StringComparer.Ordinal)
            .Select(i => (string?)i["name"])
            .FirstOrDefault();

    private Task<CliResult> RunAsync(
        ProviderRegistry providers,
        string content,
        params string[] args
    ) =>
        CliRunner.RunAsync(
            content,
            new Dictionary<string, string> { ["GOOGLE_APPLICATION_CREDENTIALS"] = kit.Gcp.KeyFile },
            providers,
            CancellationToken.None,
            [.. args, "--data-dir", _dir.Combine("data")]
        );

    // The shipped content, plus an image imported into gcp from the spec's disk, with a baseline that gates nothing.
    private string WriteContent(
        string projectLine = $"project_id: {GcpKit.Project}",
        string name = "content"
    )
    {
        var root = ContentCopy.Create(_dir.Combine(name));
        ContentCopy.AddOpenBaseline(root);
        File.WriteAllText(
            Path.Combine(root, "templates", "images", "gcp-image.yaml"),
            $$"""
            name: gcp-image
            description: an image imported into the GCP fake
            os: { family: debian, release: "11" }
            baseline: open
            targets:
              - provider: gcp
                build: import
                base_image: debian-11
                regions: [europe-west1]
                options:
                  {{projectLine}}
                  bucket: {{GcpKit.Bucket}}
              - provider: diskmaker
                base_image: any
            channels: [dev, prod]
            """
        );
        return root;
    }
}
