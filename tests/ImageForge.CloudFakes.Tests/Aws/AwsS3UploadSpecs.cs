using Amazon.S3;
using Amazon.S3.Model;
using ImageForge.CloudFakes.Aws;
using Shouldly;
using Xunit;
using static ImageForge.CloudFakes.Tests.Aws.AwsFlows;

namespace ImageForge.CloudFakes.Tests.Aws;

public sealed class AwsS3UploadSpecs
{
    [Theory(Timeout = 30_000)]
    [InlineData("crc32", "The CRC32 you specified did not match")]
    [InlineData("sha256", "The SHA256 you specified did not match")]
    [InlineData("content-md5", "The Content-MD5 you specified did not match")]
    public async Task A_part_whose_declared_digest_does_not_match_its_body_is_refused(
        string digest,
        string message
    )
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var s3 = aws.S3(Home, configure: c => c.MaxErrorRetry = 0);
        var bucket = await BucketAsync(s3, Home);
        var uploadId = (
            await s3.InitiateMultipartUploadAsync(
                new InitiateMultipartUploadRequest { BucketName = bucket, Key = "disk.raw" }
            )
        ).UploadId;
        var request = new UploadPartRequest
        {
            BucketName = bucket,
            Key = "disk.raw",
            UploadId = uploadId,
            PartNumber = 1,
            InputStream = new MemoryStream(Disk(1 << 20)),
        };
        switch (digest)
        {
            case "crc32":
                request.ChecksumCRC32 = Convert.ToBase64String([1, 2, 3, 4]);
                break;
            case "sha256":
                request.ChecksumSHA256 = Convert.ToBase64String(new byte[32]);
                break;
            default:
                request.MD5Digest = Convert.ToBase64String(new byte[16]);
                break;
        }

        var error = await Should.ThrowAsync<AmazonS3Exception>(() => s3.UploadPartAsync(request));
        var parts = await s3.ListPartsAsync(
            new ListPartsRequest
            {
                BucketName = bucket,
                Key = "disk.raw",
                UploadId = uploadId,
            }
        );

        error.ErrorCode.ShouldBe("BadDigest");
        error.Message.ShouldStartWith(message);
        (parts.Parts ?? []).ShouldBeEmpty(); // the SDK gives null for an empty list
    }

    [Fact(Timeout = 30_000)]
    public async Task Completing_with_a_wrong_etag_a_small_middle_part_or_no_part_checksums_is_refused()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var s3 = aws.S3(Home);
        var bucket = await BucketAsync(s3, Home);
        var disk = Disk();
        var uploadId = await StartUploadAsync(s3, bucket, "disk.raw");
        var parts = new List<PartETag>();
        foreach (var n in Enumerable.Range(1, Parts(disk)))
        {
            var part = await UploadPartAsync(s3, bucket, "disk.raw", uploadId, disk, n);
            parts.Add(
                new PartETag
                {
                    PartNumber = n,
                    ETag = part.ETag,
                    ChecksumCRC32 = part.ChecksumCRC32,
                }
            );
        }

        Task Complete(IEnumerable<PartETag> list) =>
            s3.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest
                {
                    BucketName = bucket,
                    Key = "disk.raw",
                    UploadId = uploadId,
                    PartETags = [.. list],
                }
            );
        var wrongEtag = await Should.ThrowAsync<AmazonS3Exception>(() =>
            Complete([
                parts[0],
                parts[1],
                new PartETag
                {
                    PartNumber = 3,
                    ETag = parts[0].ETag,
                    ChecksumCRC32 = parts[2].ChecksumCRC32,
                },
            ])
        );
        var fourth = await s3.UploadPartAsync(
            new UploadPartRequest
            {
                BucketName = bucket,
                Key = "disk.raw",
                UploadId = uploadId,
                PartNumber = 4,
                InputStream = new MemoryStream(Disk(1 << 20)),
                ChecksumAlgorithm = ChecksumAlgorithm.CRC32,
            }
        );
        var smallMiddle = await Should.ThrowAsync<AmazonS3Exception>(() =>
            Complete([
                .. parts,
                new PartETag
                {
                    PartNumber = 4,
                    ETag = fourth.ETag,
                    ChecksumCRC32 = fourth.ChecksumCRC32,
                },
            ])
        );
        var missingChecksum = await Should.ThrowAsync<AmazonS3Exception>(() =>
            Complete(parts.Select(p => new PartETag { PartNumber = p.PartNumber, ETag = p.ETag }))
        );

        wrongEtag.ErrorCode.ShouldBe("InvalidPart");
        smallMiddle.ErrorCode.ShouldBe("EntityTooSmall"); // part 3 (2 MiB) is not the last any more
        missingChecksum.ErrorCode.ShouldBe("InvalidRequest");
        (
            await s3.ListMultipartUploadsAsync(
                new ListMultipartUploadsRequest { BucketName = bucket }
            )
        )
            .MultipartUploads.Single()
            .UploadId.ShouldBe(uploadId);
    }
}
