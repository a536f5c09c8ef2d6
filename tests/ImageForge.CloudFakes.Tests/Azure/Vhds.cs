using System.Security.Cryptography;
using Azure.Storage.Blobs.Specialized;
using ImageForge.CloudFakes.Azure;

namespace ImageForge.CloudFakes.Tests.Azure;

/// <summary>A fixed VHD made in memory and uploaded to Azurite as a page blob, the way the Azure provider will.</summary>
internal static class Vhds
{
    /// <summary>The largest page range Azure Storage takes in one Put Page call.</summary>
    public const int PageChunk = 4 << 20;

    /// <summary>A fixed VHD: <paramref name="diskSize"/> bytes of pseudo-random disk, then its footer.</summary>
    public static byte[] Make(long diskSize, int seed = 7)
    {
        var vhd = new byte[diskSize + FixedVhd.FooterSize];
        new Random(seed).NextBytes(vhd.AsSpan(0, (int)diskSize));
        FixedVhd.Footer(diskSize, new Guid(seed, 0, 0, new byte[8])).CopyTo(vhd, diskSize);
        return vhd;
    }

    /// <summary>Uploads as a page blob in parallel chunks of pages; returns the blob's URI.</summary>
    public static async Task<Uri> UploadAsync(
        Azurite azurite,
        string container,
        string name,
        byte[] vhd,
        int chunk = 1 << 20
    )
    {
        var containerClient = azurite.CreateServiceClient().GetBlobContainerClient(container);
        await containerClient.CreateIfNotExistsAsync();
        var blob = containerClient.GetPageBlobClient(name);
        await blob.CreateAsync(vhd.Length);
        var offsets = Enumerable
            .Range(0, (vhd.Length + chunk - 1) / chunk)
            .Select(i => (long)i * chunk);
        await Parallel.ForEachAsync(
            offsets,
            new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (offset, cancellationToken) =>
            {
                var length = (int)Math.Min(chunk, vhd.Length - offset);
                using var pages = new MemoryStream(vhd, (int)offset, length, writable: false);
                await blob.UploadPagesAsync(pages, offset, cancellationToken: cancellationToken);
            }
        );
        return blob.Uri;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));
}
