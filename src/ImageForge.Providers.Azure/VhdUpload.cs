using System.Globalization;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ImageForge.Core.Errors;

namespace ImageForge.Providers.Azure;

/// <summary>
/// Uploads a fixed VHD as a page blob (Azure imports VHDs from page blobs only): pages in parallel, each Put Page with
/// its MD5 checked by the service. Resumable: the blob carries the disk's sha256 in its metadata, the pages it already
/// holds (Get Page Ranges) are not sent again, and all-zero pages are never sent (a page blob reads zeros where
/// nothing was written). A blob that is complete (metadata <c>imageforge_complete</c>) is not touched again.
/// </summary>
internal sealed class VhdUpload(BlobServiceClient service, int chunkBytes, int parallelism)
{
    public const string Sha256Key = "imageforge_sha256";
    public const string CompleteKey = "imageforge_complete";

    /// <summary>What an upload did: bytes sent, pages skipped because they were there or zero.</summary>
    public sealed record Result(
        Uri Blob,
        long SentBytes,
        long PresentBytes,
        long ZeroBytes,
        bool WasComplete
    );

    public async Task<Result> UploadAsync(
        string container,
        string name,
        string file,
        string sha256,
        Action<string> progress,
        CancellationToken cancellationToken
    )
    {
        var length = new FileInfo(file).Length;
        if (length % 512 != 0)
        {
            throw new ToolFailedException(
                "azure",
                $"azure: {file} is {length} bytes, not a whole number of 512-byte pages: it is not a fixed VHD",
                []
            );
        }

        var containerClient = service.GetBlobContainerClient(container);
        await containerClient.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var blob = containerClient.GetPageBlobClient(name);
        var existing = await PropertiesAsync(blob, cancellationToken);
        if (existing is not null)
        {
            var sameDisk =
                existing.ContentLength == length
                && existing.Metadata.TryGetValue(Sha256Key, out var recorded)
                && recorded == sha256;
            if (sameDisk && existing.Metadata.ContainsKey(CompleteKey))
            {
                return new Result(blob.Uri, 0, length, 0, WasComplete: true);
            }

            if (!sameDisk)
            {
                // Another disk under this name (an older attempt of the same version): start over.
                await blob.DeleteAsync(cancellationToken: cancellationToken);
                existing = null;
            }
        }

        if (existing is null)
        {
            await blob.CreateAsync(
                length,
                new PageBlobCreateOptions
                {
                    Metadata = new Dictionary<string, string> { [Sha256Key] = sha256 },
                },
                cancellationToken
            );
        }

        var present = new List<HttpRange>();
        if (existing is not null)
        {
            await foreach (
                var range in blob.GetAllPageRangesAsync(
                    new GetPageRangesOptions(),
                    cancellationToken
                )
            )
            {
                if (!range.IsClear)
                {
                    present.Add(range.Range);
                }
            }
        }

        long sent = 0,
            there = 0,
            zero = 0,
            done = 0;
        var lastReported = -1L;
        var chunks = (length + chunkBytes - 1) / chunkBytes;
        using var handle = File.OpenHandle(
            file,
            FileMode.Open,
            FileAccess.Read,
            FileShare.Read,
            FileOptions.Asynchronous
        );
        await Parallel.ForEachAsync(
            LongRange(chunks),
            new ParallelOptions
            {
                MaxDegreeOfParallelism = parallelism,
                CancellationToken = cancellationToken,
            },
            async (index, ct) =>
            {
                var offset = index * chunkBytes;
                var size = (int)Math.Min(chunkBytes, length - offset);
                if (Covered(present, offset, size))
                {
                    Interlocked.Add(ref there, size);
                }
                else
                {
                    var buffer = new byte[size];
                    var read = 0;
                    while (read < size)
                    {
                        read += await RandomAccess.ReadAsync(
                            handle,
                            buffer.AsMemory(read),
                            offset + read,
                            ct
                        );
                    }

                    if (buffer.AsSpan().IndexOfAnyExcept((byte)0) < 0)
                    {
                        Interlocked.Add(ref zero, size);
                    }
                    else
                    {
                        using var pages = new MemoryStream(buffer, writable: false);
                        await blob.UploadPagesAsync(
                            pages,
                            offset,
                            new PageBlobUploadPagesOptions
                            {
                                TransferValidation = new UploadTransferValidationOptions
                                {
                                    ChecksumAlgorithm = StorageChecksumAlgorithm.MD5,
                                },
                            },
                            ct
                        );
                        Interlocked.Add(ref sent, size);
                    }
                }

                var percent = Interlocked.Add(ref done, size) * 10 / length;
                if (Interlocked.Exchange(ref lastReported, percent) != percent)
                {
                    progress(
                        string.Create(
                            CultureInfo.InvariantCulture,
                            $"uploading {name}: {percent * 10}%"
                        )
                    );
                }
            }
        );

        await blob.SetMetadataAsync(
            new Dictionary<string, string> { [Sha256Key] = sha256, [CompleteKey] = "true" },
            cancellationToken: cancellationToken
        );
        return new Result(blob.Uri, sent, there, zero, WasComplete: false);
    }

    private static async Task<BlobProperties?> PropertiesAsync(
        PageBlobClient blob,
        CancellationToken cancellationToken
    )
    {
        try
        {
            return (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private static bool Covered(List<HttpRange> ranges, long offset, int size) =>
        ranges.Any(r =>
            r.Offset <= offset && (r.Length is null || r.Offset + r.Length >= offset + size)
        );

    private static IEnumerable<long> LongRange(long count)
    {
        for (var i = 0L; i < count; i++)
        {
            yield return i;
        }
    }
}
