using System.Text.Json;
using Amazon.EC2.Model;
using Amazon.SimpleSystemsManagement.Model;
using Azure.ResourceManager.Compute;
using Azure.ResourceManager.Compute.Models;
using ImageForge.CloudFakes.Azure;
using ImageForge.Providers.Azure;
using ImageForge.Providers.Gcp;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.MultiCloud.Tests;

/// <summary>The three clouds' fakes, shared by every spec of the project (each spec builds its own image).</summary>
public sealed class CloudsFixture : IAsyncLifetime
{
    public ThreeClouds Clouds { get; private set; } = null!;

    public async Task InitializeAsync() => Clouds = await ThreeClouds.StartAsync();

    public async Task DisposeAsync() => await Clouds.DisposeAsync();
}

/// <summary>
/// One version on three clouds through the unchanged imageforge command: one disk (made by <see cref="DiskMaker"/>)
/// imported into AWS (two regions), Azure (two regions) and GCP, bound to one digest in one signed provenance,
/// promoted across all three with one Azure region failing and resumed, rolled back and revoked on all three, and
/// admitted from a Terraform plan that mixes the three clouds.
/// </summary>
public sealed partial class MultiCloudSpecs(CloudsFixture fixture)
    : IClassFixture<CloudsFixture>,
        IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-multicloud");
    private readonly DiskMaker _disks = new();

    private ThreeClouds Clouds => fixture.Clouds;

    [Fact(Timeout = 120_000)]
    public async Task One_build_makes_one_disk_and_images_on_three_clouds_bound_to_its_digest_in_one_signed_provenance()
    {
        var image = "mc-build";
        var content = WriteContent(image);

        var built = await RunAsync(content, "build", image, "--output", "json");
        var verify = await RunAsync(content, "verify", image);

        built.ExitCode.ShouldBe(0, built.ToString());
        _disks.Builds.ShouldBe(1, "one disk for every cloud");
        using var json = JsonDocument.Parse(built.Out);
        var artifacts = json
            .RootElement.GetProperty("version")
            .GetProperty("artifacts")
            .EnumerateArray()
            .Select(a =>
                (
                    Target: a.GetProperty("target").GetString()!,
                    Region: a.GetProperty("region").GetString()!,
                    Id: a.GetProperty("path").GetString()!
                )
            )
            .ToList();
        artifacts
            .Where(a => a.Target != DiskMaker.ProviderName)
            .Select(a => $"{a.Target}/{a.Region}")
            .Order(StringComparer.Ordinal)
            .ShouldBe(ThreeClouds.Places);
        verify.ExitCode.ShouldBe(0, verify.ToString());

        // The signed statement names every cloud image, each bound (through its cloud's format) to the raw disk.
        var statement = await StatementAsync(content, image);
        var raw = statement.Subjects.Single(s =>
            s.Name.EndsWith("/disk-raw/disk.raw", StringComparison.Ordinal)
        );
        var formats = statement.Disks();
        foreach (
            var (target, region, id) in artifacts.Where(a => a.Target != DiskMaker.ProviderName)
        )
        {
            var source = statement.SourceOf(target, region, id);
            (source == raw.Sha256 || formats.GetValueOrDefault(source) == raw.Sha256).ShouldBeTrue(
                $"{target}/{region} {id} is made from {source}, not from the raw disk {raw.Sha256} or one of its formats"
            );
        }

        Clouds.Aws.AssertNoModelProblems();
        Clouds.Gcp.AssertNoModelProblems();
        Clouds.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 120_000)]
    public async Task A_promotion_with_an_azure_region_failing_moves_no_pointer_and_resume_runs_only_that_step()
    {
        var image = "mc-promote";
        var content = WriteContent(image);
        var version = VersionOf(await RunAsync(content, "build", image, "--output", "json"));

        Clouds.Arm.Faults.FailNextOperation();
        var failed = await RunAsync(
            content,
            "promote",
            $"{image}@{version}",
            "--to",
            "dev",
            "--output",
            "json"
        );
        var afterFailure = await ChannelVersionAsync(content, image, "dev");
        var resumed = await RunAsync(
            content,
            "promote",
            $"{image}@{version}",
            "--to",
            "dev",
            "--resume",
            "--output",
            "json"
        );
        var afterResume = await ChannelVersionAsync(content, image, "dev");
        var audit = await RunAsync(content, "audit", "log", "--image", image, "--output", "json");

        failed.ExitCode.ShouldNotBe(0, failed.ToString());
        var firstSteps = Steps(failed);
        firstSteps
            .Where(s => s.Status == "failed")
            .Select(s => s.Target)
            .ShouldBe(["azure"], failed.Out);
        firstSteps.Where(s => s.Target is "aws" or "gcp").ShouldAllBe(s => s.Status == "succeeded");
        afterFailure.ShouldBeNull("a failed step keeps the pointer where it was");
        resumed.ExitCode.ShouldBe(0, resumed.ToString());
        Steps(resumed)
            .Where(s => s.RanNow)
            .Select(s => $"{s.Target}/{s.Region}")
            .ShouldBe(
                firstSteps.Where(s => s.Status == "failed").Select(s => $"{s.Target}/{s.Region}")
            );
        afterResume.ShouldBe(version);
        (
            await Clouds
                .Aws.Ssm(ThreeClouds.AwsHome)
                .GetParameterAsync(new GetParameterRequest { Name = $"/imageforge/{image}/dev" })
        ).Parameter.Value.ShouldStartWith("ami-");
        audit.ExitCode.ShouldBe(0, audit.ToString());
        var actions = JsonDocument
            .Parse(audit.Out)
            .RootElement.EnumerateArray()
            .Select(e => e.GetProperty("action").GetString())
            .ToList();
        actions
            .Count(a => a == "promote-step")
            .ShouldBe(firstSteps.Count + 1, "each step, and the retried one");
        actions.ShouldContain("promote-failed");
        actions.ShouldContain("promote-resume");
        actions.Last().ShouldBe("promote");
    }

    [Fact(Timeout = 180_000)]
    public async Task Rollback_and_revocation_reach_all_three_clouds()
    {
        var image = "mc-revoke";
        var content = WriteContent(image);
        var v1 = VersionOf(await RunAsync(content, "build", image, "--output", "json"));
        var v2 = VersionOf(await RunAsync(content, "build", image, "--output", "json"));
        (await RunAsync(content, "promote", $"{image}@{v1}", "--to", "dev")).ExitCode.ShouldBe(0);
        (await RunAsync(content, "promote", $"{image}@{v2}", "--to", "dev")).ExitCode.ShouldBe(0);
        var v1Amis = await AmisAsync($"{image}-{v1}");

        var rollback = await RunAsync(content, "rollback", image, "--channel", "dev");
        var devAfterRollback = await ParameterAsync(image, "dev");
        var revoke = await RunAsync(
            content,
            "revoke",
            $"{image}@{v1}",
            "--reason",
            "CVE-2026-1234"
        );
        var shown = await RunAsync(content, "channels", "show", image, "--output", "json");

        rollback.ExitCode.ShouldBe(0, rollback.ToString());
        devAfterRollback.ShouldBe(v1Amis[ThreeClouds.AwsHome].ImageId);
        revoke.ExitCode.ShouldBe(0, revoke.ToString());
        foreach (var (region, ami) in await AmisAsync($"{image}-{v1}"))
        {
            ami.DeprecationTime.ShouldNotBeNullOrEmpty($"deprecated in {region}");
        }

        var azure = await AzureVersionAsync(image, v1);
        azure.PublishingProfile.EndOfLifeOn.ShouldNotBeNull();
        azure.PublishingProfile.IsExcludedFromLatest.ShouldBe(true);
        var gce = Clouds.Gcp.Fake.Compute.Image(ThreeClouds.GcpProject, GcpNames.Image(image, v1))!;
        ((string?)gce["deprecated"]!["state"]).ShouldBe("OBSOLETE");
        // The revocation moved dev off v1 (to nothing: v2 was rolled back from), on every cloud's view.
        shown.ExitCode.ShouldBe(0, shown.ToString());
    }

    [Fact(Timeout = 120_000)]
    public async Task Verify_live_and_channels_show_live_report_the_gcp_image_deleted_behind_imageforges_back()
    {
        var image = "mc-live";
        var content = WriteContent(image);
        var version = VersionOf(await RunAsync(content, "build", image, "--output", "json"));
        (await RunAsync(content, "promote", $"{image}@{version}", "--to", "dev")).ExitCode.ShouldBe(
            0
        );

        var before = await RunAsync(content, "verify", image, "--live");
        var shownBefore = await RunAsync(content, "channels", "show", image, "--output", "json");
        Clouds.Gcp.Fake.Compute.DeleteImage(ThreeClouds.GcpProject, GcpNames.Image(image, version));
        var after = await RunAsync(content, "verify", image, "--live", "--output", "json");
        var shownAfter = await RunAsync(
            content,
            "channels",
            "show",
            image,
            "--live",
            "--output",
            "json"
        );

        before.ExitCode.ShouldBe(0, before.ToString());
        before.Out.ShouldContain(
            "live: 5 images at their providers as the catalog says",
            Case.Sensitive,
            before.Out
        );
        Images(shownBefore, "dev")
            .Select(i => $"{i.Target}/{i.Region}:{i.State}")
            .Order(StringComparer.Ordinal)
            .ShouldBe([
                "aws/eu-west-1:published",
                "aws/us-east-1:published",
                "azure/northeurope:published",
                "azure/westeurope:published",
                "gcp/global:published",
            ]);
        after.ExitCode.ShouldBe(1, after.ToString());
        using var report = JsonDocument.Parse(after.Out);
        var live = report.RootElement.GetProperty("live");
        live.GetProperty("ok").GetBoolean().ShouldBeFalse();
        var drift = live.GetProperty("drift").EnumerateArray().ShouldHaveSingleItem();
        drift.GetProperty("target").GetString().ShouldBe("gcp");
        drift.GetProperty("problem").GetString().ShouldStartWith("missing at the provider");
        shownAfter.ExitCode.ShouldBe(1, shownAfter.ToString());
        var images = Images(shownAfter, "dev");
        images.Single(i => i.Target == "gcp").State.ShouldBe("missing");
        images.Single(i => i.Target == "gcp").Drift.ShouldNotBeNull();
        images
            .Where(i => i.Target != "gcp")
            .ShouldAllBe(i => i.State == "available" && i.Drift == null);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_terraform_plan_mixing_three_clouds_is_admitted_in_one_run_naming_each_bad_resource()
    {
        var image = "mc-admit";
        var content = WriteContent(image);
        var v1 = VersionOf(await RunAsync(content, "build", image, "--output", "json"));
        var v2 = VersionOf(await RunAsync(content, "build", image, "--output", "json"));
        (await RunAsync(content, "promote", $"{image}@{v1}", "--to", "dev")).ExitCode.ShouldBe(0);
        (await RunAsync(content, "revoke", $"{image}@{v2}", "--reason", "bad")).ExitCode.ShouldBe(
            0
        );
        var ami = (await AmisAsync($"{image}-{v1}"))[ThreeClouds.AwsHome].ImageId;
        var azureId = GalleryImageVersionResource
            .CreateResourceIdentifier(
                ArmFake.DefaultSubscriptionId,
                ThreeClouds.AzureResourceGroup,
                ThreeClouds.AzureGallery,
                image,
                GalleryVersionName.For(v2)
            )
            .ToString();
        var plan = _dir.Combine("plan.json");
        await File.WriteAllTextAsync(
            plan,
            JsonSerializer.Serialize(
                new
                {
                    format_version = "1.2",
                    planned_values = new
                    {
                        root_module = new
                        {
                            resources = new object[]
                            {
                                Resource("aws_instance.web", "aws_instance", new { ami }),
                                Resource(
                                    "azurerm_linux_virtual_machine.api",
                                    "azurerm_linux_virtual_machine",
                                    new { source_image_id = azureId }
                                ),
                                Resource(
                                    "google_compute_instance.batch",
                                    "google_compute_instance",
                                    new
                                    {
                                        boot_disk = new[]
                                        {
                                            new
                                            {
                                                initialize_params = new[]
                                                {
                                                    new
                                                    {
                                                        image = $"projects/{ThreeClouds.GcpProject}/global/images/unknown-image",
                                                    },
                                                },
                                            },
                                        },
                                    }
                                ),
                            },
                        },
                    },
                }
            )
        );

        var admit = await RunAsync(
            content,
            "admit",
            "--terraform-plan",
            plan,
            "--region",
            ThreeClouds.AwsHome
        );

        admit.ExitCode.ShouldBe(1, admit.ToString());
        var text = admit.ToString();
        text.ShouldNotContain("refused: aws_instance.web", Case.Sensitive, text);
        text.ShouldContain("refused: azurerm_linux_virtual_machine.api", Case.Sensitive, text);
        text.ShouldContain($"{image}@{v2} is revoked", Case.Sensitive, text);
        text.ShouldContain("refused: google_compute_instance.batch", Case.Sensitive, text);
    }

    public void Dispose() => _dir.Dispose();

    private static object Resource(string address, string type, object values) =>
        new
        {
            address,
            mode = "managed",
            type,
            name = address[(address.IndexOf('.', StringComparison.Ordinal) + 1)..],
            values,
        };

    private async Task<Dictionary<string, Image>> AmisAsync(string name)
    {
        var found = new Dictionary<string, Image>(StringComparer.Ordinal);
        foreach (var region in new[] { ThreeClouds.AwsHome, ThreeClouds.AwsOther })
        {
            var images = await Clouds
                .Aws.Ec2(region)
                .DescribeImagesAsync(
                    new DescribeImagesRequest
                    {
                        Owners = ["self"],
                        IncludeDeprecated = true,
                        Filters = [new Filter("name", [name])],
                    }
                );
            found[region] = images.Images.ShouldHaveSingleItem();
        }

        return found;
    }

    private async Task<string> ParameterAsync(string image, string channel) =>
        (
            await Clouds
                .Aws.Ssm(ThreeClouds.AwsHome)
                .GetParameterAsync(
                    new GetParameterRequest { Name = $"/imageforge/{image}/{channel}" }
                )
        )
            .Parameter
            .Value;

    private async Task<GalleryImageVersionData> AzureVersionAsync(string image, string version) =>
        (
            await Clouds
                .Arm.CreateClient()
                .GetGalleryImageVersionResource(
                    GalleryImageVersionResource.CreateResourceIdentifier(
                        ArmFake.DefaultSubscriptionId,
                        ThreeClouds.AzureResourceGroup,
                        ThreeClouds.AzureGallery,
                        image,
                        GalleryVersionName.For(version)
                    )
                )
                .GetAsync(ReplicationStatusType.ReplicationStatus)
        )
            .Value
            .Data;

    private async Task<string?> ChannelVersionAsync(string content, string image, string channel)
    {
        var shown = await RunAsync(content, "channels", "show", image, "--output", "json");
        shown.ExitCode.ShouldBe(0, shown.ToString());
        return JsonDocument
            .Parse(shown.Out)
            .RootElement.GetProperty("channels")
            .EnumerateArray()
            .Single(c => c.GetProperty("channel").GetString() == channel)
            .GetProperty("version")
            .GetString();
    }

    private static List<(string Target, string Region, string State, string? Drift)> Images(
        CliResult shown,
        string channel
    ) =>
        [
            .. JsonDocument
                .Parse(shown.Out)
                .RootElement.GetProperty("channels")
                .EnumerateArray()
                .Single(c => c.GetProperty("channel").GetString() == channel)
                .GetProperty("images")
                .EnumerateArray()
                .Select(i =>
                    (
                        i.GetProperty("target").GetString()!,
                        i.GetProperty("region").GetString()!,
                        i.GetProperty("state").GetString()!,
                        i.TryGetProperty("drift", out var d) ? d.GetString() : null
                    )
                ),
        ];

    private static List<(string Target, string Region, string Status, bool RanNow)> Steps(
        CliResult promoted
    ) =>
        [
            .. JsonDocument
                .Parse(promoted.Out)
                .RootElement.GetProperty("steps")
                .EnumerateArray()
                .Select(s =>
                    (
                        s.GetProperty("target").GetString()!,
                        s.GetProperty("region").GetString()!,
                        s.GetProperty("status").GetString()!,
                        s.GetProperty("ran_now").GetBoolean()
                    )
                ),
        ];

    private async Task<SignedStatement> StatementAsync(string content, string image)
    {
        var shown = await RunAsync(content, "images", "show", image, "--output", "json");
        shown.ExitCode.ShouldBe(0, shown.ToString());
        return SignedStatement.OfNewestVersion(shown.Out);
    }

    private static string VersionOf(CliResult built)
    {
        built.ExitCode.ShouldBe(0, built.ToString());
        return JsonDocument
                .Parse(built.Out)
                .RootElement.GetProperty("version")
                .GetProperty("version")
                .GetString()
            ?? throw new InvalidOperationException(built.ToString());
    }

    private Task<CliResult> RunAsync(string content, params string[] args) =>
        CliRunner.RunAsync(
            content,
            Clouds.Variables,
            Clouds.Providers(_disks),
            CancellationToken.None,
            [.. args, "--data-dir", _dir.Combine("data")]
        );

    // The shipped content, plus an image whose disk the spec's disk maker builds and the three clouds import.
    private string WriteContent(params string[] images)
    {
        var root = ContentCopy.Create(_dir.Combine("content"));
        ContentCopy.AddOpenBaseline(root);
        foreach (var image in images)
        {
            File.WriteAllText(
                Path.Combine(root, "templates", "images", $"{image}.yaml"),
                $"""
                name: {image}
                description: one version on three clouds
                os: {"{"} family: debian, release: "11" {"}"}
                baseline: open
                targets:
                  - provider: {DiskMaker.ProviderName}
                    base_image: bullseye
                {ThreeClouds.CloudTargets(image)}
                channels: [dev, staging, prod]
                """
            );
        }
        return root;
    }
}
