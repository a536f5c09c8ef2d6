using System.Net;
using System.Text.Json.Nodes;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Gcp.Tests;

/// <summary>
/// Promotion, return to an earlier version, revocation and gc of imported images against the GCP fake: what a
/// channel's family serves is asked of images.getFromFamily, as a consumer (Terraform, gcloud) would.
/// </summary>
public sealed class GcpDistributionSpecs(GcpKit kit) : IClassFixture<GcpKit>
{
    private readonly ProviderServicesPair _services = new(kit);

    [Fact(Timeout = 30_000)]
    public async Task Promotion_makes_the_channels_family_serve_the_version_and_labels_it_with_the_channel()
    {
        var a = await _services.ImportAsync("promoted", "2026.12.02.1");

        var outcome = await _services.Distribution.PublishAsync(a, "dev", Step(a));
        var again = await _services.Distribution.PublishAsync(a, "dev", Step(a));

        outcome.Succeeded.ShouldBeTrue(outcome.Detail);
        outcome.Detail.ShouldContain("family promoted-dev serves promoted-20261202-1");
        again.Succeeded.ShouldBeTrue(again.Detail);
        (await FromFamilyAsync("promoted-dev")).ShouldBe("promoted-20261202-1");
        var image = kit.Fake.Compute.Image(GcpKit.Project, "promoted-20261202-1")!;
        ((string?)image["labels"]!["channel"]).ShouldBe("dev");
        ((string?)image["labels"]!["version"]).ShouldBe("2026-12-02-1");
        kit.Gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 30_000)]
    public async Task Returning_a_channel_to_an_earlier_version_deprecates_the_newer_one_with_the_earlier_as_replacement()
    {
        var a = await _services.ImportAsync("rolled", "2026.12.02.1");
        var b = await _services.ImportAsync("rolled", "2026.12.02.2");
        (await _services.Distribution.PublishAsync(a, "prod", Step(a))).Succeeded.ShouldBeTrue();
        (await _services.Distribution.PublishAsync(b, "prod", Step(b))).Succeeded.ShouldBeTrue();
        var servedAfterB = await FromFamilyAsync("debian-11-hardened");

        var back = await _services.Distribution.PublishAsync(a, "prod", Step(a));

        servedAfterB.ShouldBe("rolled-20261202-2");
        back.Succeeded.ShouldBeTrue(back.Detail);
        (await FromFamilyAsync("debian-11-hardened")).ShouldBe("rolled-20261202-1");
        var newer = kit.Fake.Compute.Image(GcpKit.Project, "rolled-20261202-2")!;
        ((string?)newer["deprecated"]!["state"]).ShouldBe("DEPRECATED");
        ((string?)newer["deprecated"]!["replacement"]).ShouldBe(a.Artifacts[0].Location);

        var forward = await _services.Distribution.PublishAsync(b, "prod", Step(b));

        forward.Succeeded.ShouldBeTrue(forward.Detail);
        (await FromFamilyAsync("debian-11-hardened")).ShouldBe("rolled-20261202-2");
        kit.Fake.Compute.Image(GcpKit.Project, "rolled-20261202-2")!["deprecated"].ShouldBeNull();
        kit.Gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 30_000)]
    public async Task Revocation_makes_the_image_OBSOLETE_with_the_familys_previous_image_as_replacement()
    {
        var a = await _services.ImportAsync("revoked", "2026.12.02.1");
        var b = await _services.ImportAsync("revoked", "2026.12.02.2");
        await _services.Distribution.PublishAsync(a, "staging", Step(a));
        await _services.Distribution.PublishAsync(b, "staging", Step(b));

        var outcome = await _services.Distribution.DeprecateAsync(b, "CVE-2026-0001");
        var again = await _services.Distribution.DeprecateAsync(b, "CVE-2026-0001");

        outcome.Succeeded.ShouldBeTrue(outcome.Detail);
        again.Detail.ShouldContain("OBSOLETE already");
        var revoked = kit.Fake.Compute.Image(GcpKit.Project, "revoked-20261202-2")!;
        ((string?)revoked["deprecated"]!["state"]).ShouldBe("OBSOLETE");
        ((string?)revoked["deprecated"]!["replacement"]).ShouldBe(a.Artifacts[0].Location);
        (await FromFamilyAsync("revoked-staging")).ShouldBe("revoked-20261202-1");
        kit.Gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 30_000)]
    public async Task Gc_deletes_the_image_and_any_upload_object_left_and_a_repeat_finds_nothing_to_do()
    {
        var a = await _services.ImportAsync("collected", "2026.12.02.1");
        // An upload kept by an import that stopped before its last step.
        await kit.Gcp.Storage.UploadObjectAsync(
            GcpKit.Bucket,
            "collected/2026.12.02.1/disk.tar.gz",
            "application/gzip",
            new MemoryStream([1, 2, 3])
        );

        var outcome = await _services.Distribution.DeleteAsync(a);
        var again = await _services.Distribution.DeleteAsync(a);

        outcome.Succeeded.ShouldBeTrue(outcome.Detail);
        again.Succeeded.ShouldBeTrue(again.Detail);
        again.Detail.ShouldContain("gone already");
        kit.Fake.Compute.Image(GcpKit.Project, "collected-20261202-1").ShouldBeNull();
        kit.Fake.Storage.Find(GcpKit.Bucket, "collected/2026.12.02.1/disk.tar.gz").ShouldBeNull();
        kit.Gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_failed_operation_is_a_failed_step_naming_what_was_being_done()
    {
        var a = await _services.ImportAsync("refused", "2026.12.02.1");
        kit.Fake.Faults.FailNextOperation("compute.images.patch", "INVALID_USAGE", "no.");

        var outcome = await _services.Distribution.PublishAsync(a, "dev", Step(a));
        var retried = await _services.Distribution.PublishAsync(a, "dev", Step(a));

        outcome.Succeeded.ShouldBeFalse();
        outcome.Detail.ShouldContain("publish refused-20261202-1 to family refused-dev");
        outcome.Detail.ShouldContain("INVALID_USAGE");
        retried.Succeeded.ShouldBeTrue(retried.Detail);
        kit.Gcp.AssertNoModelProblems();
    }

    private static DistributionStep Step(ImageVersion version) =>
        new("gcp", "global", version.Artifacts);

    private async Task<string?> FromFamilyAsync(string family)
    {
        using var client = kit.Gcp.CreateComputeClient();
        using var response = await client.GetAsync(
            $"projects/{GcpKit.Project}/global/images/family/{family}"
        );
        return response.StatusCode == HttpStatusCode.NotFound
            ? null
            : (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["name"];
    }

    // The provider connected to the fake, and versions made by importing a small disk.
    private sealed class ProviderServicesPair(GcpKit kit)
    {
        private readonly Core.Providers.ProviderServices _services = kit.Connect();

        public IDistributionTarget Distribution => _services.Distribution!;

        public async Task<ImageVersion> ImportAsync(string image, string version)
        {
            var artifacts = await _services.Importer!.ImportAsync(
                GcpKit.Request(
                    image,
                    version,
                    kit.Disk($"{image}-{version}", 256 * 1024),
                    new MemoryJournal()
                ),
                new RecordingSink()
            );
            return new ImageVersion
            {
                Image = image,
                Version = version,
                BuildId = "b-" + version,
                CreatedAt = DateTimeOffset.UnixEpoch,
                Status = VersionStatus.Built,
                Fingerprint = "sha256:" + new string('a', 64),
                Artifacts = artifacts,
            };
        }
    }
}
