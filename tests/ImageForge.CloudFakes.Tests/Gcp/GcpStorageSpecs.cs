using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Google;
using Google.Cloud.Storage.V1;
using ImageForge.CloudFakes.Gcp;
using Shouldly;
using Xunit;
using static ImageForge.CloudFakes.Tests.Gcp.GcpSpecKit;

namespace ImageForge.CloudFakes.Tests.Gcp;

public sealed class GcpStorageSpecs
{
    private const int ChunkSize = 2 * GcpStorageState.Granularity; // 512 KiB
    private const string ObjectName = "debian-11-cis/2026.11.22.1/disk.tar.gz";

#pragma warning disable CA5351 // GCS's own hash
    private static string Md5(byte[] data) => Convert.ToBase64String(MD5.HashData(data));
#pragma warning restore CA5351

    [Fact]
    public void Crc32c_is_castagnoli_as_gcs_computes_it()
    {
        Crc32C.Compute("123456789"u8).ShouldBe(0xE3069283u);
        Crc32C.Base64(Crc32C.Compute([])).ShouldBe("AAAAAA==");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_resumable_upload_through_the_library_stores_the_object_with_its_hashes()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        var archive = DiskTarGz(3 * 1024 * 1024);

        var uploaded = await UploadAsync(gcp, ObjectName, archive, ChunkSize);

        var stored = gcp.Fake.Storage.Find(Bucket, ObjectName).ShouldNotBeNull();
        stored.Data.ShouldBe(archive);
        uploaded.Crc32c.ShouldBe(Crc32C.Base64(Crc32C.Compute(archive)));
        uploaded.Md5Hash.ShouldBe(Md5(archive));
        uploaded.Size.ShouldBe((ulong)archive.Length);
        var chunks = gcp.Fake.Storage.UploadLog;
        chunks.Count.ShouldBe((archive.Length + ChunkSize - 1) / ChunkSize);
        chunks.Select(c => c.Start).ShouldBe(chunks.Select((_, i) => (long)i * ChunkSize));
        gcp.Fake.CallsOf("storage.objects.insert").ShouldBe(1);
        gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_chunk_cut_at_60_percent_resumes_from_the_last_committed_byte_and_sends_no_byte_twice_beyond_one_chunk()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        var archive = DiskTarGz(3 * 1024 * 1024);
        var cut = archive.Length * 6L / 10;
        gcp.Fake.Faults.CutUploadAt(cut);

        var uploaded = await UploadAsync(gcp, ObjectName, archive, ChunkSize);

        gcp.Fake.Storage.Find(Bucket, ObjectName)!.Data.ShouldBe(archive);
        uploaded.Crc32c.ShouldBe(Crc32C.Base64(Crc32C.Compute(archive)));
        var chunks = gcp.Fake.Storage.UploadLog.ToList();
        var broken = chunks.Single(c => c.Cut);
        (broken.Start + broken.Received).ShouldBe(cut);
        broken.CommittedAfter.ShouldBe(
            cut / GcpStorageState.Granularity * GcpStorageState.Granularity
        );
        var resumed = chunks[chunks.IndexOf(broken) + 1];
        resumed.Start.ShouldBe(broken.CommittedAfter);
        chunks.Sum(c => c.Received).ShouldBeLessThanOrEqualTo(archive.Length + ChunkSize);
        gcp.AssertNoModelProblems();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_503_on_a_chunk_makes_the_library_ask_what_was_committed_and_go_on()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        var archive = DiskTarGz(1024 * 1024);
        gcp.Fake.Faults.FailNextCalls(GcpFake.ResumableChunk, 1, HttpStatusCode.ServiceUnavailable);

        await UploadAsync(gcp, ObjectName, archive, ChunkSize);

        gcp.Fake.Storage.Find(Bucket, ObjectName)!.Data.ShouldBe(archive);
        gcp.AssertNoModelProblems();
    }

    public static TheoryData<string> SimpleUploads => new() { "media", "multipart" };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(SimpleUploads))]
    public async Task A_simple_upload_stores_the_object_and_checks_the_hash_the_client_sends(
        string uploadType
    )
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        var data = Encoding.UTF8.GetBytes("a small manifest");
        var crc = Crc32C.Base64(Crc32C.Compute(data));

        var (ok, body) = await SimpleUploadAsync(
            gcp,
            uploadType,
            "manifest.json",
            data,
            crc,
            Md5(data)
        );
        var (refused, error) = await SimpleUploadAsync(
            gcp,
            uploadType,
            "bad.json",
            data,
            "AAAAAA==",
            Md5(data)
        );

        ok.ShouldBe(HttpStatusCode.OK, body.ToJsonString());
        ((string?)body["crc32c"]).ShouldBe(crc);
        ((string?)body["md5Hash"]).ShouldBe(Md5(data));
        gcp.Fake.Storage.Find(Bucket, "manifest.json")!.Data.ShouldBe(data);
        refused.ShouldBe(HttpStatusCode.BadRequest);
        ((string)error["error"]!["message"]!).ShouldContain("doesn't match calculated CRC32C");
        gcp.Fake.Storage.Find(Bucket, "bad.json").ShouldBeNull();
        gcp.Fake.Problems.All.ShouldHaveSingleItem().ShouldContain("CRC32C");
    }

    // Media sends the hash in X-Goog-Hash; multipart in the metadata part, as GCS takes either.
    private static async Task<(HttpStatusCode, JsonObject)> SimpleUploadAsync(
        GcpFakeFixture gcp,
        string uploadType,
        string name,
        byte[] data,
        string crc32c,
        string md5
    )
    {
        var uri = new Uri(
            gcp.Fake.Url,
            $"upload/storage/v1/b/{Bucket}/o?uploadType={uploadType}&name={name}"
        );
        using var request = new HttpRequestMessage(HttpMethod.Post, uri);
        if (uploadType == "media")
        {
            request.Content = new ByteArrayContent(data)
            {
                Headers = { ContentType = new("application/json") },
            };
            request.Headers.Add("X-Goog-Hash", $"crc32c={crc32c},md5={md5}");
        }
        else
        {
            var metadata = new JsonObject
            {
                ["name"] = name,
                ["contentType"] = "application/json",
                ["crc32c"] = crc32c,
                ["md5Hash"] = md5,
            };
            var multipart = new MultipartContent("related")
            {
                new StringContent(metadata.ToJsonString(), Encoding.UTF8, "application/json"),
                new ByteArrayContent(data)
                {
                    Headers = { ContentType = new MediaTypeHeaderValue("application/json") },
                },
            };
            request.Content = multipart;
        }
        using var response = await gcp.Storage.Service.HttpClient.SendAsync(request);
        return (
            response.StatusCode,
            JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject()
        );
    }

    [Fact(Timeout = 30_000)]
    public async Task Get_answers_metadata_and_media_and_delete_removes_the_object()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        var archive = DiskTarGz(300 * 1024);
        await UploadAsync(gcp, ObjectName, archive);

        var stored = gcp.Fake.Storage.Find(Bucket, ObjectName)!;

        var metadata = await gcp.Storage.GetObjectAsync(Bucket, ObjectName);
        using var downloaded = new MemoryStream();
        await gcp.Storage.DownloadObjectAsync(Bucket, ObjectName, downloaded);
        await gcp.Storage.DeleteObjectAsync(Bucket, ObjectName);
        var gone = await Should.ThrowAsync<GoogleApiException>(() =>
            gcp.Storage.GetObjectAsync(Bucket, ObjectName)
        );

        metadata.Generation.ShouldBe(stored.Generation);
        metadata.Crc32c.ShouldBe(Crc32C.Base64(Crc32C.Compute(archive)));
        downloaded.ToArray().ShouldBe(archive);
        gcp.Fake.Storage.Find(Bucket, ObjectName).ShouldBeNull();
        gone.HttpStatusCode.ShouldBe(HttpStatusCode.NotFound);
        gcp.AssertNoModelProblems();
    }

    [Theory(Timeout = 60_000)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task The_library_retries_a_throttled_get(HttpStatusCode status)
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        await gcp.Storage.UploadObjectAsync(
            Bucket,
            "x",
            "text/plain",
            new MemoryStream("x"u8.ToArray())
        );
        gcp.Fake.Faults.FailNextCalls("storage.objects.get", 2, status);

        // The library's own retry policy for idempotent calls, with backoffs short enough for a unit test.
        var retry = new RetryOptions(
            new RetryTiming(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50), 2),
            RetryPredicate.RetriableIdempotentErrors
        );
        var found = await gcp.Storage.GetObjectAsync(
            Bucket,
            "x",
            new GetObjectOptions { RetryOptions = retry }
        );

        found.Name.ShouldBe("x");
        gcp.Fake.CallsOf("storage.objects.get").ShouldBe(3);
        gcp.AssertNoModelProblems();
    }
}
