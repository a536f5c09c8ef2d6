using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace ImageForge.Providers.Azure.Tests;

/// <summary>The page-blob upload of the VHD against Azurite: what arrives, what a resume sends, how fast.</summary>
[Collection(AzureFakesGroup.Name)]
public sealed class UploadSpecs(AzureWorld world, ITestOutputHelper output)
{
    private const int MiB = 1 << 20;

    [Fact(Timeout = 60_000)]
    public async Task The_blob_holds_the_vhd_byte_for_byte_and_zero_pages_are_never_sent()
    {
        var disk = world.Disk("upload-whole.vhd");

        var result = await UploadAsync(disk, "whole.vhd", MiB);

        result.SentBytes.ShouldBe((2 * MiB) + 512);
        result.ZeroBytes.ShouldBe(4 * MiB);
        (await BlobSha256Async("whole.vhd")).ShouldBe(disk.Sha256);
        var properties = (await Blob("whole.vhd").GetPropertiesAsync()).Value;
        properties.BlobType.ShouldBe(BlobType.Page);
        properties.Metadata[VhdUpload.Sha256Key].ShouldBe(disk.Sha256);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_resumed_upload_sends_only_the_pages_the_blob_does_not_hold_and_a_complete_one_sends_nothing()
    {
        var disk = world.Disk("upload-resumed.vhd");
        var blob = Blob("resumed.vhd");
        // An upload that died after its first Put Page.
        await blob.CreateAsync(
            disk.SizeBytes!.Value,
            new PageBlobCreateOptions
            {
                Metadata = new Dictionary<string, string> { [VhdUpload.Sha256Key] = disk.Sha256! },
            }
        );
        await using (var first = new MemoryStream(File.ReadAllBytes(disk.Location), 0, MiB))
        {
            await blob.UploadPagesAsync(first, 0);
        }

        var resumed = await UploadAsync(disk, "resumed.vhd", MiB);
        var again = await UploadAsync(disk, "resumed.vhd", MiB);

        resumed.PresentBytes.ShouldBe(MiB);
        resumed.SentBytes.ShouldBe(MiB + 512);
        (await BlobSha256Async("resumed.vhd")).ShouldBe(disk.Sha256);
        again.WasComplete.ShouldBeTrue();
        again.SentBytes.ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_blob_left_by_another_disk_under_the_same_name_is_replaced()
    {
        var old = world.Disk("upload-old.vhd", seed: 1);
        var disk = world.Disk("upload-new.vhd", seed: 2);
        await UploadAsync(old, "replaced.vhd", MiB);

        var result = await UploadAsync(disk, "replaced.vhd", MiB);

        result.PresentBytes.ShouldBe(0);
        (await BlobSha256Async("replaced.vhd")).ShouldBe(disk.Sha256);
    }

    [Fact(Timeout = 60_000)]
    public async Task Benchmark_the_upload_of_a_full_disk_to_azurite()
    {
        var disk = world.Disk("upload-bench.vhd", diskMiB: 64, seed: 3, full: true);
        var clock = Stopwatch.StartNew();

        var result = await UploadAsync(disk, "bench.vhd", 4 * MiB, parallelism: 8);

        clock.Stop();
        var rate = result.SentBytes / (double)MiB / clock.Elapsed.TotalSeconds;
        output.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"uploaded {result.SentBytes / (double)MiB:F1} MiB to Azurite in {clock.Elapsed.TotalSeconds:F2} s: {rate:F1} MiB/s (4 MiB pages, 8 in flight)"
            )
        );
        (await BlobSha256Async("bench.vhd")).ShouldBe(disk.Sha256);
        await Blob("bench.vhd").DeleteAsync();
    }

    private Task<VhdUpload.Result> UploadAsync(
        ImageForge.Core.Builds.Artifact disk,
        string name,
        int chunk = MiB,
        int parallelism = 4
    ) =>
        Upload(chunk, parallelism)
            .UploadAsync(
                AzureWorld.Container,
                name,
                disk.Location,
                disk.Sha256!,
                _ => { },
                default
            );

    private VhdUpload Upload(int chunk, int parallelism = 4) =>
        new(world.Azurite.CreateServiceClient(), chunk, parallelism);

    private PageBlobClient Blob(string name)
    {
        var container = world
            .Azurite.CreateServiceClient()
            .GetBlobContainerClient(AzureWorld.Container);
        container.CreateIfNotExists();
        return container.GetPageBlobClient(name);
    }

    private async Task<string> BlobSha256Async(string name)
    {
        await using var stream = await Blob(name).OpenReadAsync();
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
    }
}
