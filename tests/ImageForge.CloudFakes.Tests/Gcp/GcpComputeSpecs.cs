using System.Net;
using System.Text.Json.Nodes;
using ImageForge.CloudFakes.Gcp;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;
using static ImageForge.CloudFakes.Tests.Gcp.GcpSpecKit;

namespace ImageForge.CloudFakes.Tests.Gcp;

public sealed class GcpComputeSpecs
{
    private const string Family = "debian-11-cis";

    [Fact(Timeout = 30_000)]
    public async Task An_inserted_image_is_ready_with_its_features_and_labels_once_its_operation_is_done()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        using var compute = gcp.CreateComputeClient();
        await UploadAsync(gcp, "v1/disk.tar.gz", DiskTarGz(256 * 1024));
        var requestId = "9d1b6f4e-4a53-4b8f-9a8e-2f1f0c6a7b21";
        var insert = Images($"?requestId={requestId}");

        var pending = await OkAsync(
            compute,
            HttpMethod.Post,
            insert,
            ImageBody("debian-11-cis-v1", Family, "v1/disk.tar.gz")
        );
        var whilePending = await OkAsync(compute, HttpMethod.Get, Images("/debian-11-cis-v1"));
        var operation = $"projects/{Project}/global/operations/{pending["name"]}";
        var running = await OkAsync(compute, HttpMethod.Get, operation);
        var done = await OkAsync(compute, HttpMethod.Get, operation);
        var image = await OkAsync(compute, HttpMethod.Get, Images("/debian-11-cis-v1"));
        var retried = await OkAsync(
            compute,
            HttpMethod.Post,
            insert,
            ImageBody("debian-11-cis-v1", Family, "v1/disk.tar.gz")
        );
        var (again, conflict) = await SendAsync(
            compute,
            HttpMethod.Post,
            Images(),
            ImageBody("debian-11-cis-v1", Family, "v1/disk.tar.gz")
        );

        ((string?)pending["status"]).ShouldBe("PENDING");
        ((string?)pending["operationType"]).ShouldBe("insert");
        ((string?)pending["clientOperationId"]).ShouldBe(requestId);
        ((string?)whilePending["status"]).ShouldBe("PENDING");
        ((string?)running["status"]).ShouldBe("RUNNING");
        ((int?)running["progress"]).ShouldBe(50);
        ((string?)done["status"]).ShouldBe("DONE");
        done["error"].ShouldBeNull();
        ((string?)done["targetLink"]).ShouldBe(
            $"https://www.googleapis.com/compute/v1/{Images("/debian-11-cis-v1")}"
        );
        ((string?)image["status"]).ShouldBe("READY");
        ((string?)image["selfLink"]).ShouldBe((string?)done["targetLink"]);
        ((string?)image["id"]).ShouldBe((string?)done["targetId"]);
        ((string?)image["family"]).ShouldBe(Family);
        image["guestOsFeatures"]!
            .AsArray()
            .Select(f => (string?)f!["type"])
            .ShouldBe(["UEFI_COMPATIBLE", "GVNIC", "VIRTIO_SCSI_MULTIQUEUE"]);
        ((string?)image["labels"]!["managed-by"]).ShouldBe("imageforge");
        ((string?)image["labelFingerprint"]).ShouldNotBeNullOrEmpty();
        image["storageLocations"]!.AsArray().Select(l => (string?)l).ShouldBe(["eu"]);
        ((string?)image["diskSizeGb"]).ShouldBe("1");
        ((string?)retried["name"]).ShouldBe((string?)pending["name"]);
        again.ShouldBe(HttpStatusCode.Conflict);
        ((string?)conflict["error"]!["errors"]![0]!["reason"]).ShouldBe("alreadyExists");
        gcp.AssertNoModelProblems();
    }

    // The local target's disk.tar.gz is a GNU tar with a sparse disk.raw (GCE's instructions make it with tar -S):
    // GCE takes it, with the disk's real size, not the size of the data the archive holds.
    [Fact(Timeout = 30_000)]
    public async Task An_image_from_a_gnu_sparse_disk_tar_gz_made_by_tar_has_the_disks_real_size()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        using var compute = gcp.CreateComputeClient();
        var archive = await File.ReadAllBytesAsync(
            Path.Combine(
                RepoPaths.Root,
                "tests",
                "ImageForge.CloudFakes.Tests",
                "Gcp",
                "Fixtures",
                "sparse-3g.disk.tar.gz"
            )
        );
        await UploadAsync(gcp, "sparse/disk.tar.gz", archive);

        var operation = await OkAsync(
            compute,
            HttpMethod.Post,
            Images(),
            ImageBody("debian-11-cis-sparse", Family, "sparse/disk.tar.gz")
        );
        var done = await WaitAsync(compute, operation);
        var image = await OkAsync(compute, HttpMethod.Get, Images("/debian-11-cis-sparse"));

        done["error"].ShouldBeNull(done.ToJsonString());
        ((string?)image["status"]).ShouldBe("READY");
        ((string?)image["diskSizeGb"]).ShouldBe("3");
        gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 30_000)]
    public async Task GetFromFamily_answers_the_newest_image_that_is_not_deprecated()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        using var compute = gcp.CreateComputeClient();
        var older = await InsertReadyImageAsync(gcp, compute, "debian-11-cis-v1", Family);
        await InsertReadyImageAsync(gcp, compute, "debian-11-cis-v2", Family);
        var family = Images($"/family/{Family}");

        var newest = await OkAsync(compute, HttpMethod.Get, family);
        await Deprecate(
            "debian-11-cis-v2",
            new JsonObject
            {
                ["state"] = "DEPRECATED",
                ["replacement"] = (string?)older["selfLink"],
                ["obsolete"] = "2027-01-01T00:00:00Z",
            }
        );
        var afterDeprecation = await OkAsync(compute, HttpMethod.Get, family);
        var deprecated = await OkAsync(compute, HttpMethod.Get, Images("/debian-11-cis-v2"));
        await Deprecate("debian-11-cis-v2", new JsonObject { ["state"] = "ACTIVE" });
        var afterReactivation = await OkAsync(compute, HttpMethod.Get, family);
        await Deprecate("debian-11-cis-v1", new JsonObject { ["state"] = "OBSOLETE" });
        await Deprecate("debian-11-cis-v2", new JsonObject { ["state"] = "DELETED" });
        var (none, _) = await SendAsync(compute, HttpMethod.Get, family);

        ((string?)newest["name"]).ShouldBe("debian-11-cis-v2");
        ((string?)afterDeprecation["name"]).ShouldBe("debian-11-cis-v1");
        ((string?)deprecated["deprecated"]!["state"]).ShouldBe("DEPRECATED");
        ((string?)deprecated["deprecated"]!["replacement"]).ShouldBe((string?)older["selfLink"]);
        ((string?)afterReactivation["name"]).ShouldBe("debian-11-cis-v2");
        none.ShouldBe(HttpStatusCode.NotFound);
        gcp.AssertNoModelProblems();

        async Task Deprecate(string image, JsonObject status) =>
            (
                await WaitAsync(
                    compute,
                    await OkAsync(compute, HttpMethod.Post, Images($"/{image}/deprecate"), status)
                )
            )["error"]
                .ShouldBeNull();
    }

    [Fact(Timeout = 30_000)]
    public async Task SetLabels_needs_the_current_fingerprint_and_patch_changes_the_family()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        using var compute = gcp.CreateComputeClient();
        var image = await InsertReadyImageAsync(gcp, compute, "debian-11-cis-v1", Family);
        var stale = (string?)image["labelFingerprint"];
        var labels = new JsonObject { ["managed-by"] = "imageforge", ["channel"] = "prod" };

        await WaitAsync(
            compute,
            await OkAsync(
                compute,
                HttpMethod.Post,
                Images("/debian-11-cis-v1/setLabels"),
                new JsonObject { ["labels"] = labels, ["labelFingerprint"] = stale }
            )
        );
        var (refused, error) = await SendAsync(
            compute,
            HttpMethod.Post,
            Images("/debian-11-cis-v1/setLabels"),
            new JsonObject { ["labels"] = new JsonObject(), ["labelFingerprint"] = stale }
        );
        await WaitAsync(
            compute,
            await OkAsync(
                compute,
                HttpMethod.Patch,
                Images("/debian-11-cis-v1"),
                new JsonObject { ["family"] = "debian-11-hardened" }
            )
        );
        var changed = await OkAsync(compute, HttpMethod.Get, Images("/debian-11-cis-v1"));

        ((string?)changed["labels"]!["channel"]).ShouldBe("prod");
        ((string?)changed["labelFingerprint"]).ShouldNotBe(stale);
        refused.ShouldBe(HttpStatusCode.PreconditionFailed);
        ((string?)error["error"]!["errors"]![0]!["reason"]).ShouldBe("conditionNotMet");
        ((string?)changed["family"]).ShouldBe("debian-11-hardened");
        gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 30_000)]
    public async Task List_filters_by_label_and_pages()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        using var compute = gcp.CreateComputeClient();
        var ours = new Dictionary<string, string> { ["managed-by"] = "imageforge" };
        gcp.Fake.Compute.AddImage(Project, "a-image", labels: ours);
        gcp.Fake.Compute.AddImage(Project, "b-image");
        gcp.Fake.Compute.AddImage(Project, "c-image", labels: ours);
        var filter = Uri.EscapeDataString("labels.managed-by = \"imageforge\"");

        var first = await OkAsync(
            compute,
            HttpMethod.Get,
            Images($"?filter={filter}&maxResults=1")
        );
        var second = await OkAsync(
            compute,
            HttpMethod.Get,
            Images($"?filter={filter}&maxResults=1&pageToken={first["nextPageToken"]}")
        );
        var (unmodeled, _) = await SendAsync(
            compute,
            HttpMethod.Get,
            Images($"?filter={Uri.EscapeDataString("name eq a.*")}")
        );

        first["items"]!.AsArray().Select(i => (string?)i!["name"]).ShouldBe(["a-image"]);
        second["items"]!.AsArray().Select(i => (string?)i!["name"]).ShouldBe(["c-image"]);
        second["nextPageToken"].ShouldBeNull();
        unmodeled.ShouldBe(HttpStatusCode.NotImplemented);
        gcp.Fake.Problems.All.ShouldHaveSingleItem().ShouldContain("does not model the filter");
    }

    [Fact(Timeout = 30_000)]
    public async Task Delete_removes_the_image_when_its_operation_is_done()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        using var compute = gcp.CreateComputeClient();
        await InsertReadyImageAsync(gcp, compute, "debian-11-cis-v1", Family);

        var operation = await OkAsync(compute, HttpMethod.Delete, Images("/debian-11-cis-v1"));
        var (beforeDone, _) = await SendAsync(compute, HttpMethod.Get, Images("/debian-11-cis-v1"));
        var done = await WaitAsync(compute, operation);
        var (afterDone, _) = await SendAsync(compute, HttpMethod.Get, Images("/debian-11-cis-v1"));

        ((string?)operation["operationType"]).ShouldBe("delete");
        beforeDone.ShouldBe(HttpStatusCode.OK);
        done["error"].ShouldBeNull();
        afterDone.ShouldBe(HttpStatusCode.NotFound);
        gcp.Fake.Compute.Images(Project).ShouldBeEmpty();
        gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 30_000)]
    public async Task An_insert_from_a_missing_object_ends_its_operation_in_error_and_the_image_failed()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        using var compute = gcp.CreateComputeClient();

        var operation = await OkAsync(
            compute,
            HttpMethod.Post,
            Images(),
            ImageBody("debian-11-cis-v1", Family, "never/uploaded.tar.gz")
        );
        var done = await WaitAsync(compute, operation);
        var image = await OkAsync(compute, HttpMethod.Get, Images("/debian-11-cis-v1"));

        ((string?)done["error"]!["errors"]![0]!["code"]).ShouldBe("RESOURCE_NOT_FOUND");
        ((int?)done["httpErrorStatusCode"]).ShouldBe(404);
        ((string?)image["status"]).ShouldBe("FAILED");
        gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 30_000)]
    public async Task Injected_faults_throttle_calls_and_fail_operations_and_every_call_is_counted()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        using var compute = gcp.CreateComputeClient();
        await UploadAsync(gcp, "v1/disk.tar.gz", DiskTarGz(64 * 1024));
        gcp.Fake.Faults.FailNextCalls("compute.images.insert", 1, HttpStatusCode.TooManyRequests);
        gcp.Fake.Faults.FailNextCalls(
            "compute.globalOperations.wait",
            1,
            HttpStatusCode.ServiceUnavailable
        );
        gcp.Fake.Faults.FailNextOperation("compute.images.insert");
        var body = ImageBody("debian-11-cis-v1", Family, "v1/disk.tar.gz");

        var (throttled, throttledBody) = await SendAsync(compute, HttpMethod.Post, Images(), body);
        var operation = await OkAsync(compute, HttpMethod.Post, Images(), body);
        var (unavailable, _) = await SendAsync(
            compute,
            HttpMethod.Post,
            $"projects/{Project}/global/operations/{operation["name"]}/wait"
        );
        var done = await WaitAsync(compute, operation);
        var image = await OkAsync(compute, HttpMethod.Get, Images("/debian-11-cis-v1"));

        throttled.ShouldBe(HttpStatusCode.TooManyRequests);
        ((string?)throttledBody["error"]!["errors"]![0]!["reason"]).ShouldBe("rateLimitExceeded");
        unavailable.ShouldBe(HttpStatusCode.ServiceUnavailable);
        ((string?)done["error"]!["errors"]![0]!["code"]).ShouldBe("QUOTA_EXCEEDED");
        ((string?)image["status"]).ShouldBe("FAILED");
        gcp.Fake.CallsOf("compute.images.insert").ShouldBe(2);
        gcp.Fake.CallsOf("compute.globalOperations.wait").ShouldBeGreaterThanOrEqualTo(2);
        gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 30_000)]
    public async Task An_image_removed_behind_the_clients_back_is_404_notFound_to_images_get()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        using var compute = gcp.CreateComputeClient();
        gcp.Fake.Compute.AddImage(Project, "removed-image");

        var removed = gcp.Fake.Compute.DeleteImage(Project, "removed-image");
        var again = gcp.Fake.Compute.DeleteImage(Project, "removed-image");
        var (status, body) = await SendAsync(compute, HttpMethod.Get, Images("/removed-image"));

        removed.ShouldBeTrue();
        again.ShouldBeFalse();
        status.ShouldBe(HttpStatusCode.NotFound);
        ((string?)body["error"]!["errors"]![0]!["reason"]).ShouldBe("notFound");
    }
}
