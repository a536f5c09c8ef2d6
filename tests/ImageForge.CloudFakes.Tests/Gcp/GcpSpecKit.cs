using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Google.Cloud.Storage.V1;
using ImageForge.CloudFakes.Gcp;
using Shouldly;

namespace ImageForge.CloudFakes.Tests.Gcp;

/// <summary>What the GCP specs build again and again: a disk.tar.gz, and Compute calls as the product will send them.</summary>
internal static class GcpSpecKit
{
    public const string Bucket = "imageforge-images";
    public const string Project = GcpFakeFixture.ProjectId;

    /// <summary>A disk.tar.gz as the pipeline makes it: a gzip-compressed tar holding disk.raw (random, so it does not shrink).</summary>
    public static byte[] DiskTarGz(int diskBytes, int seed = 7)
    {
        var disk = new byte[diskBytes];
        new Random(seed).NextBytes(disk);
        using var archive = new MemoryStream();
        using (var gzip = new GZipStream(archive, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Gnu))
        {
            tar.WriteEntry(
                new GnuTarEntry(TarEntryType.RegularFile, "disk.raw")
                {
                    DataStream = new MemoryStream(disk),
                }
            );
        }
        return archive.ToArray();
    }

    /// <summary>Uploads through the library (resumable), in chunks of <paramref name="chunkSize"/> when given.</summary>
    public static Task<Google.Apis.Storage.v1.Data.Object> UploadAsync(
        GcpFakeFixture gcp,
        string name,
        byte[] data,
        int? chunkSize = null
    ) =>
        gcp.Storage.UploadObjectAsync(
            Bucket,
            name,
            "application/gzip",
            new MemoryStream(data),
            new UploadObjectOptions { ChunkSize = chunkSize }
        );

    public static string ObjectUrl(string name) =>
        $"https://storage.googleapis.com/{Bucket}/{name}";

    /// <summary>An images.insert body of the shape the product sends.</summary>
    public static JsonObject ImageBody(string name, string family, string objectName) =>
        new()
        {
            ["name"] = name,
            ["family"] = family,
            ["description"] = "ImageForge debian-11-cis 2026.11.22.1",
            ["rawDisk"] = new JsonObject
            {
                ["source"] = ObjectUrl(objectName),
                ["containerType"] = "TAR",
            },
            ["guestOsFeatures"] = new JsonArray(
                new JsonObject { ["type"] = "UEFI_COMPATIBLE" },
                new JsonObject { ["type"] = "GVNIC" },
                new JsonObject { ["type"] = "VIRTIO_SCSI_MULTIQUEUE" }
            ),
            ["labels"] = new JsonObject
            {
                ["managed-by"] = "imageforge",
                ["imageforge-version"] = "2026-11-22-1",
            },
            ["storageLocations"] = new JsonArray("eu"),
            ["architecture"] = "X86_64",
        };

    public static async Task<(HttpStatusCode Status, JsonObject Body)> SendAsync(
        HttpClient client,
        HttpMethod method,
        string path,
        JsonNode? body = null
    )
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject());
    }

    public static async Task<JsonObject> OkAsync(
        HttpClient client,
        HttpMethod method,
        string path,
        JsonNode? body = null
    )
    {
        var (status, answer) = await SendAsync(client, method, path, body);
        status.ShouldBe(HttpStatusCode.OK, answer.ToJsonString());
        return answer;
    }

    public static string Images(string rest = "") => $"projects/{Project}/global/images{rest}";

    /// <summary>globalOperations.wait until the operation is DONE.</summary>
    public static async Task<JsonObject> WaitAsync(HttpClient client, JsonObject operation)
    {
        for (var i = 0; i < 20; i++)
        {
            operation = await OkAsync(
                client,
                HttpMethod.Post,
                $"projects/{Project}/global/operations/{operation["name"]}/wait"
            );
            if ((string?)operation["status"] == "DONE")
            {
                return operation;
            }
        }
        throw new ShouldAssertException($"operation {operation["name"]} never finished");
    }

    /// <summary>Uploads a small disk.tar.gz and inserts an image from it, waiting for its operation.</summary>
    public static async Task<JsonObject> InsertReadyImageAsync(
        GcpFakeFixture gcp,
        HttpClient compute,
        string name,
        string family
    )
    {
        var objectName = $"{name}/disk.tar.gz";
        if (gcp.Fake.Storage.Find(Bucket, objectName) is null)
        {
            await UploadAsync(gcp, objectName, DiskTarGz(64 * 1024));
        }
        var operation = await OkAsync(
            compute,
            HttpMethod.Post,
            Images(),
            ImageBody(name, family, objectName)
        );
        (await WaitAsync(compute, operation))["error"].ShouldBeNull();
        return await OkAsync(compute, HttpMethod.Get, Images($"/{name}"));
    }
}
