using System.Net;
using System.Text.Json.Nodes;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
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
    public async Task Disabling_a_revoked_image_marks_it_DELETED_keeping_its_replacement_and_a_repeat_does_nothing()
    {
        var a = await _services.ImportAsync("disabled", "2026.12.02.1");
        var b = await _services.ImportAsync("disabled", "2026.12.02.2");
        await _services.Distribution.PublishAsync(a, "staging", Step(a));
        await _services.Distribution.PublishAsync(b, "staging", Step(b));
        await _services.Distribution.DeprecateAsync(b, "CVE-2026-0002");

        var outcome = await _services.Distribution.DisableAsync(b, "CVE-2026-0002");
        var again = await _services.Distribution.DisableAsync(b, "CVE-2026-0002");

        outcome.Succeeded.ShouldBeTrue(outcome.Detail);
        again.Detail.ShouldContain("DELETED already");
        var disabled = kit.Fake.Compute.Image(GcpKit.Project, "disabled-20261202-2")!;
        ((string?)disabled["deprecated"]!["state"]).ShouldBe("DELETED");
        ((string?)disabled["deprecated"]!["deleted"]).ShouldNotBeNull();
        ((string?)disabled["deprecated"]!["replacement"]).ShouldBe(a.Artifacts[0].Location);
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

    [Fact(Timeout = 30_000)]
    public async Task An_imported_version_inspects_as_READY_and_labelled_with_its_version()
    {
        var a = await _services.ImportAsync("inspected", "2026.12.02.1");

        var live = await _services.Distribution.InspectAsync(a);

        var image = live.ShouldHaveSingleItem();
        (image.Target, image.Region, image.Id).ShouldBe(("gcp", "global", a.Artifacts[0].Location));
        image.State.ShouldBe(LiveState.Available, image.Detail);
        image.TaggedVersion.ShouldBe("2026.12.02.1");
        LiveImages.Compare(a, live, Inspectable).ShouldBeEmpty();
        kit.Gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_revoked_version_inspects_as_deprecated_which_is_drift_only_while_the_catalog_calls_it_live()
    {
        var a = await _services.ImportAsync("inspected-revoked", "2026.12.02.1");
        (await _services.Distribution.DeprecateAsync(a, "CVE-2026-0002")).Succeeded.ShouldBeTrue();

        var image = (await _services.Distribution.InspectAsync(a)).ShouldHaveSingleItem();

        image.State.ShouldBe(LiveState.Deprecated);
        image.Detail.ShouldStartWith("OBSOLETE");
        LiveImages
            .Compare(a with { Status = VersionStatus.Revoked }, [image], Inspectable)
            .ShouldBeEmpty();
        LiveImages
            .Compare(a, [image], Inspectable)
            .ShouldHaveSingleItem()
            .Problem.ShouldContain("deprecated at the provider (OBSOLETE");
    }

    [Fact(Timeout = 30_000)]
    public async Task An_image_deleted_behind_ImageForges_back_inspects_as_missing_and_is_the_only_drift()
    {
        var a = await _services.ImportAsync("inspected-deleted", "2026.12.02.1");
        var b = await _services.ImportAsync("inspected-deleted", "2026.12.02.2");
        kit.Fake.Compute.DeleteImage(GcpKit.Project, "inspected-deleted-20261202-1").ShouldBeTrue();

        var live = await _services.Distribution.InspectAsync(a);
        var other = await _services.Distribution.InspectAsync(b);

        live.ShouldHaveSingleItem().State.ShouldBe(LiveState.Missing);
        var drift = LiveImages.Compare(a, live, Inspectable).ShouldHaveSingleItem();
        (drift.Target, drift.Id).ShouldBe(("gcp", a.Artifacts[0].Location));
        drift.Problem.ShouldContain("missing");
        LiveImages.Compare(b, other, Inspectable).ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task Inspecting_when_compute_does_not_answer_throws_naming_gcp_and_the_image()
    {
        var a = await _services.ImportAsync("inspected-unreachable", "2026.12.02.1");
        // A loopback port nobody listens on: the connection is refused.
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var unreachable = kit.Connect(
            kit.Settings with
            {
                ComputeBaseUri = new Uri($"http://127.0.0.1:{port}/compute/v1/"),
            }
        );

        var e = await Should.ThrowAsync<ToolFailedException>(() =>
            unreachable.Distribution!.InspectAsync(a)
        );

        e.Message.ShouldStartWith("could not ask gcp in global");
        e.Message.ShouldContain("inspected-unreachable-20261202-1");
    }

    private static readonly HashSet<string> Inspectable = ["gcp"];

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
