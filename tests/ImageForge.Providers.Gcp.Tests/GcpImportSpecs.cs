using System.Net;
using ImageForge.CloudFakes.Gcp;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using Shouldly;
using Xunit;
using Xunit.Abstractions;
using FakeCrc = ImageForge.CloudFakes.Gcp.Crc32C;

namespace ImageForge.Providers.Gcp.Tests;

/// <summary>
/// The import path against the GCP fake through the real libraries: upload (resumable, hashes checked), images.insert
/// (deterministic name, requestId, guest OS features, labels, no family), the wait on the operation, the upload
/// deleted; every step journaled, so a resumed import finishes without a second image.
/// </summary>
public sealed class GcpImportSpecs(GcpKit kit, ITestOutputHelper output) : IClassFixture<GcpKit>
{
    private readonly IImageImporter _importer = kit.Connect().Importer!;

    [Fact(Timeout = 30_000)]
    public async Task An_import_yields_one_READY_image_with_its_features_labels_and_location_and_leaves_no_upload()
    {
        var disk = kit.Disk("plain", 1024 * 1024);
        var journal = new MemoryJournal();
        var sink = new RecordingSink();

        var artifact = (
            await _importer.ImportAsync(
                GcpKit.Request("plain", "2026.12.02.1", disk, journal),
                sink
            )
        ).ShouldHaveSingleItem();

        var image = kit.Fake.Compute.Image(GcpKit.Project, "plain-20261202-1").ShouldNotBeNull();
        ((string?)image["status"]).ShouldBe("READY");
        ((string?)image["family"]).ShouldBeNull();
        image["guestOsFeatures"]!
            .AsArray()
            .Select(f => (string?)f!["type"])
            .ShouldBe(["UEFI_COMPATIBLE", "GVNIC", "VIRTIO_SCSI_MULTIQUEUE"]);
        ((string?)image["labels"]!["image"]).ShouldBe("plain");
        ((string?)image["labels"]!["version"]).ShouldBe("2026-12-02-1");
        ((string?)image["labels"]!["fingerprint"]).ShouldBe(new string('a', 40));
        image["storageLocations"]!.AsArray().Select(l => (string?)l).ShouldBe(["europe-west1"]);
        artifact.Location.ShouldBe((string?)image["selfLink"]);
        artifact.Location.ShouldBe(
            "https://www.googleapis.com/compute/v1/projects/imageforge-test/global/images/plain-20261202-1"
        );
        artifact.Kind.ShouldBe("gce-image");
        artifact.SourceSha256.ShouldBe(disk.Sha256);
        artifact
            .Details["crc32c"]
            .ShouldBe(FakeCrc.Base64(FakeCrc.Compute(await File.ReadAllBytesAsync(disk.Location))));
        artifact.Details["family.prod"].ShouldBe("debian-11-hardened");
        artifact.Details["family.dev"].ShouldBe("plain-dev");
        kit.Fake.Storage.Find(GcpKit.Bucket, "plain/2026.12.02.1/disk.tar.gz").ShouldBeNull();
        journal
            .Steps.Select(s => (s.Step, s.State))
            .Order()
            .ShouldBe([
                ("delete-upload", ImportStepState.Done),
                ("insert", ImportStepState.Done),
                ("upload", ImportStepState.Done),
            ]);
        sink.Messages.ShouldContain(m => m.Contains("images.insert plain-20261202-1: DONE 100%"));
        kit.Gcp.AssertNoModelProblems();
    }

    // Records: 1 upload started (session URI), 2 upload done, 3 insert started (operation), 4 insert done,
    // 5 delete-upload done.
    [Theory(Timeout = 60_000)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task An_import_stopped_after_any_journal_record_resumes_to_the_same_single_image(
        int crashAfter
    )
    {
        var name = $"crash{crashAfter}";
        var disk = kit.Disk(name, 1024 * 1024, seed: crashAfter);
        var journal = new MemoryJournal { CrashAfter = crashAfter };
        var request = GcpKit.Request(name, "2026.12.02.3", disk, journal);
        var inserts = kit.Fake.CallsOf("compute.images.insert");

        await Should.ThrowAsync<OperationCanceledException>(() =>
            _importer.ImportAsync(request, new RecordingSink())
        );
        journal.CrashAfter = 0;
        var artifact = (
            await _importer.ImportAsync(request, new RecordingSink())
        ).ShouldHaveSingleItem();

        kit.Fake.Compute.Images(GcpKit.Project)
            .Count(i => ((string)i["name"]!).StartsWith(name + "-", StringComparison.Ordinal))
            .ShouldBe(1);
        (kit.Fake.CallsOf("compute.images.insert") - inserts).ShouldBe(1);
        ((string?)kit.Fake.Compute.Image(GcpKit.Project, $"{name}-20261202-3")!["status"]).ShouldBe(
            "READY"
        );
        artifact.Location.ShouldEndWith($"/{name}-20261202-3");
        kit.Fake.Storage.Objects(GcpKit.Bucket)
            .ShouldNotContain(o => o.Name.StartsWith(name + "/", StringComparison.Ordinal));
        kit.Gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 60_000)]
    public async Task An_upload_stopped_at_60_percent_resumes_in_the_next_run_from_the_last_committed_byte()
    {
        var disk = kit.Disk("cut", 3 * 1024 * 1024);
        var journal = new MemoryJournal();
        var before = kit.Fake.Storage.UploadLog.Count;
        var cut = disk.SizeBytes!.Value * 6 / 10;
        kit.Fake.Faults.CutUploadAt(cut);
        // The first run ends where the connection was cut (the process died): cancelled on the first retry.
        var first = new RecordingSink
        {
            CancelWhen = d =>
                d.StartsWith("uploaded", StringComparison.Ordinal)
                && kit.Fake.Storage.UploadLog.Skip(before).Any(c => c.Cut),
        };

        await Should.ThrowAsync<OperationCanceledException>(() =>
            _importer.ImportAsync(
                GcpKit.Request("cut", "2026.12.02.4", disk, journal),
                first,
                first.Cancellation.Token
            )
        );
        var resumed = new RecordingSink();
        await _importer.ImportAsync(GcpKit.Request("cut", "2026.12.02.4", disk, journal), resumed);

        var chunks = kit.Fake.Storage.UploadLog.Skip(before).ToList();
        var broken = chunks.First(c => c.Cut);
        broken.CommittedAfter.ShouldBe(
            cut / GcpStorageState.Granularity * GcpStorageState.Granularity
        );
        chunks[chunks.IndexOf(broken) + 1].Start.ShouldBe(broken.CommittedAfter);
        chunks
            .Sum(c => c.Received)
            .ShouldBeLessThanOrEqualTo(disk.SizeBytes.Value + GcpKit.ChunkSize);
        resumed.Messages.ShouldContain(m => m.Contains("resuming the upload"));
        (kit.Fake.CallsOf("storage.objects.insert") > 0).ShouldBeTrue();
        kit.Fake.Compute.Image(GcpKit.Project, "cut-20261202-4").ShouldNotBeNull();
        kit.Gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 60_000)]
    public async Task Rate_limits_and_server_errors_are_retried_with_back_off()
    {
        var disk = kit.Disk("throttled", 1024 * 1024);
        kit.Fake.Faults.FailNextCalls("compute.images.insert", 2, (HttpStatusCode)429);
        kit.Fake.Faults.FailNextCalls(
            "compute.globalOperations.wait",
            1,
            HttpStatusCode.ServiceUnavailable
        );
        kit.Fake.Faults.FailNextCalls(GcpFake.ResumableChunk, 1, HttpStatusCode.ServiceUnavailable);

        await _importer.ImportAsync(
            GcpKit.Request("throttled", "2026.12.02.5", disk, new MemoryJournal()),
            new RecordingSink()
        );

        (
            (string?)kit.Fake.Compute.Image(GcpKit.Project, "throttled-20261202-5")!["status"]
        ).ShouldBe("READY");
        kit.Gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_insert_operation_is_reported_naming_the_step_and_a_resume_replaces_the_failed_image()
    {
        var disk = kit.Disk("failing", 1024 * 1024);
        var journal = new MemoryJournal();
        var request = GcpKit.Request("failing", "2026.12.02.6", disk, journal);
        kit.Fake.Faults.FailNextOperation(
            "compute.images.insert",
            "QUOTA_EXCEEDED",
            "Quota 'IMAGES' exceeded."
        );

        var failed = await Should.ThrowAsync<ToolFailedException>(() =>
            _importer.ImportAsync(request, new RecordingSink())
        );
        var failedImage = (string?)
            kit.Fake.Compute.Image(GcpKit.Project, "failing-20261202-6")!["status"];
        await _importer.ImportAsync(request, new RecordingSink());

        failed.Message.ShouldContain("step insert failed");
        failed.Message.ShouldContain("QUOTA_EXCEEDED");
        failedImage.ShouldBe("FAILED");
        ((string?)kit.Fake.Compute.Image(GcpKit.Project, "failing-20261202-6")!["status"]).ShouldBe(
            "READY"
        );
        journal.Steps.Single(s => s.Step == "upload").State.ShouldBe(ImportStepState.Done);
        kit.Gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 60_000)]
    public async Task An_import_sends_a_bounded_number_of_requests_and_reports_its_upload_throughput()
    {
        var disk = kit.Disk("counted", 8 * 1024 * 1024);
        var before = kit.Fake.Calls.ToDictionary(c => c.Key, c => c.Value);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await _importer.ImportAsync(
            GcpKit.Request("counted", "2026.12.02.8", disk, new MemoryJournal()),
            new RecordingSink()
        );

        clock.Stop();
        var calls = kit
            .Fake.Calls.Select(c => (c.Key, Count: c.Value - before.GetValueOrDefault(c.Key)))
            .Where(c => c.Count > 0)
            .OrderBy(c => c.Key, StringComparer.Ordinal)
            .ToList();
        var chunks = (int)((disk.SizeBytes!.Value + GcpKit.ChunkSize - 1) / GcpKit.ChunkSize);
        output.WriteLine(
            $"{disk.SizeBytes / 1048576.0:0.0} MiB in {clock.Elapsed.TotalSeconds:0.00} s "
                + $"({disk.SizeBytes / 1048576.0 / clock.Elapsed.TotalSeconds:0.0} MiB/s incl. the insert), "
                + $"{calls.Sum(c => c.Count)} requests: {string.Join(", ", calls.Select(c => $"{c.Key} {c.Count}"))}"
        );
        // One session, one PUT per chunk (the library may close with one more), and a handful of Compute calls: nothing is polled in a tight loop.
        calls
            .Single(c => c.Key == GcpFake.ResumableChunk)
            .Count.ShouldBeLessThanOrEqualTo(chunks + 1);
        calls.Single(c => c.Key == "storage.objects.insert").Count.ShouldBe(1);
        calls.Single(c => c.Key == "compute.images.insert").Count.ShouldBe(1);
        calls
            .Where(c => c.Key.StartsWith("compute.", StringComparison.Ordinal))
            .Sum(c => c.Count)
            .ShouldBeLessThanOrEqualTo(6);
    }
}
