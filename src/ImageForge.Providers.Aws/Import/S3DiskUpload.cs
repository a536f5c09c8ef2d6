using System.Collections.Concurrent;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using ImageForge.Core.Builds;

namespace ImageForge.Providers.Aws.Import;

/// <summary>What the upload step leaves: the object ImportSnapshot reads.</summary>
internal sealed record UploadDone(string Bucket, string Key, string ETag, long Size);

/// <summary>
/// The disk into S3 as one multipart upload: parts of a fixed size sent in parallel, each with its SHA-256 (computed
/// here from the file, checked by S3), the upload id recorded as soon as it exists. A resumed upload lists the parts S3
/// holds and sends only those missing or different, so a cut connection or a killed process costs at most the parts
/// in flight.
/// </summary>
internal sealed class S3DiskUpload(IAmazonS3 s3, long partSize, ITargetBuildSink sink)
{
    private const int Parallel = 4;

    public async Task<UploadDone> RunAsync(
        string bucket,
        string key,
        string path,
        string? started,
        Func<string, Task> record,
        CancellationToken cancellationToken
    )
    {
        var size = new FileInfo(path).Length;
        var parts = (int)Math.Max(1, (size + partSize - 1) / partSize);
        // An upload whose id never reached the journal (the process died right after starting it) is found by its key.
        var uploadId = started is null
            ? await UnfinishedAsync(bucket, key, cancellationToken)
            : AwsImporter.Read<Started>(started).UploadId;
        var held = uploadId is null
            ? new Dictionary<int, PartDetail>()
            : await HeldPartsAsync(bucket, key, uploadId, cancellationToken);
        if (held is null || uploadId is null)
        {
            uploadId = (
                await s3.InitiateMultipartUploadAsync(
                    new InitiateMultipartUploadRequest
                    {
                        BucketName = bucket,
                        Key = key,
                        ChecksumAlgorithm = ChecksumAlgorithm.SHA256,
                        ContentType = "application/octet-stream",
                    },
                    cancellationToken
                )
            ).UploadId;
            await record(AwsImporter.Write(new Started(uploadId)));
            held = [];
        }

        var etags = new ConcurrentDictionary<int, PartETag>();
        var sent = 0;
        await System.Threading.Tasks.Parallel.ForEachAsync(
            Enumerable.Range(1, parts),
            new ParallelOptions
            {
                MaxDegreeOfParallelism = Parallel,
                CancellationToken = cancellationToken,
            },
            async (number, ct) =>
            {
                var offset = (number - 1) * partSize;
                var length = Math.Min(partSize, size - offset);
                var sha256 = await PartSha256Async(path, offset, length, ct);
                if (
                    held.TryGetValue(number, out var have)
                    && have.ChecksumSHA256 == sha256
                    && have.Size == length
                )
                {
                    etags[number] = Tag(number, have.ETag, sha256);
                    return;
                }

                var response = await s3.UploadPartAsync(
                    new UploadPartRequest
                    {
                        BucketName = bucket,
                        Key = key,
                        UploadId = uploadId,
                        PartNumber = number,
                        FilePath = path,
                        FilePosition = offset,
                        PartSize = length,
                        ChecksumAlgorithm = ChecksumAlgorithm.SHA256,
                        ChecksumSHA256 = sha256,
                    },
                    ct
                );
                etags[number] = Tag(number, response.ETag, sha256);
                sink.Progress(
                    "aws upload",
                    $"part {Interlocked.Increment(ref sent)} of {parts - held.Count} sent ({length} bytes)"
                );
            }
        );

        var completed = await s3.CompleteMultipartUploadAsync(
            new CompleteMultipartUploadRequest
            {
                BucketName = bucket,
                Key = key,
                UploadId = uploadId,
                PartETags = [.. etags.Values.OrderBy(e => e.PartNumber)],
            },
            cancellationToken
        );
        return new UploadDone(bucket, key, completed.ETag, size);
    }

    // The newest unfinished upload of the key, if any; older ones (nothing else writes below the version's key) are
    // aborted so that no stray parts are left to pay for.
    private async Task<string?> UnfinishedAsync(
        string bucket,
        string key,
        CancellationToken cancellationToken
    )
    {
        var uploads =
            (
                await s3.ListMultipartUploadsAsync(
                    new ListMultipartUploadsRequest { BucketName = bucket, Prefix = key },
                    cancellationToken
                )
            ).MultipartUploads
            ?? [];
        var ours = uploads.Where(u => u.Key == key).OrderByDescending(u => u.Initiated).ToList();
        foreach (var stale in ours.Skip(1))
        {
            await s3.AbortMultipartUploadAsync(bucket, key, stale.UploadId, cancellationToken);
        }

        return ours.FirstOrDefault()?.UploadId;
    }

    // The parts S3 holds of a recorded upload; null when the upload is gone (completed or aborted meanwhile).
    private async Task<Dictionary<int, PartDetail>?> HeldPartsAsync(
        string bucket,
        string key,
        string uploadId,
        CancellationToken cancellationToken
    )
    {
        var held = new Dictionary<int, PartDetail>();
        string? marker = null;
        try
        {
            while (true)
            {
                var page = await s3.ListPartsAsync(
                    new ListPartsRequest
                    {
                        BucketName = bucket,
                        Key = key,
                        UploadId = uploadId,
                        PartNumberMarker = marker,
                    },
                    cancellationToken
                );
                foreach (var part in page.Parts ?? [])
                {
                    held[part.PartNumber ?? 0] = part;
                }

                if (page.IsTruncated != true)
                {
                    return held;
                }

                marker = page.NextPartNumberMarker?.ToString(
                    System.Globalization.CultureInfo.InvariantCulture
                );
            }
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchUpload")
        {
            return null;
        }
    }

    private static PartETag Tag(int number, string etag, string sha256) =>
        new()
        {
            PartNumber = number,
            ETag = etag,
            ChecksumSHA256 = sha256,
        };

    private static async Task<string> PartSha256Async(
        string path,
        long offset,
        long length,
        CancellationToken cancellationToken
    )
    {
        await using var file = new FileStream(
            path,
            FileMode.Open,
            FileAccess.Read,
            FileShare.Read,
            1 << 16,
            FileOptions.Asynchronous
        );
        file.Position = offset;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        var left = length;
        while (left > 0)
        {
            var read = await file.ReadAsync(
                buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)),
                cancellationToken
            );
            if (read == 0)
            {
                throw new EndOfStreamException($"{path} ended before byte {offset + length}");
            }

            hash.AppendData(buffer, 0, read);
            left -= read;
        }

        return Convert.ToBase64String(hash.GetHashAndReset());
    }

    private sealed record Started(string UploadId);
}
