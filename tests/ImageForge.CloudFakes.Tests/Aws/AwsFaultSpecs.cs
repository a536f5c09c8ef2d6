using System.Security.Cryptography;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.SimpleSystemsManagement.Model;
using ImageForge.CloudFakes.Aws;
using Shouldly;
using Xunit;
using static ImageForge.CloudFakes.Tests.Aws.AwsFlows;

namespace ImageForge.CloudFakes.Tests.Aws;

public sealed class AwsFaultSpecs
{
    [Theory(Timeout = 30_000)]
    [InlineData("DescribeImages")]
    [InlineData("ListMultipartUploads")]
    [InlineData("GetParameter")]
    public async Task A_throttled_call_is_retried_by_the_sdks_own_policy_and_succeeds(
        string operation
    )
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var bucket = await BucketAsync(aws.S3(Home), Home);
        await aws.Ssm(Home)
            .PutParameterAsync(
                new PutParameterRequest
                {
                    Name = "/imageforge/channel",
                    Value = "none",
                    Type = "String",
                }
            );
        aws.Fake.Faults.Throttle(operation, 2);

        Func<Task> call = operation switch
        {
            "DescribeImages" => () =>
                aws.Ec2(Home).DescribeImagesAsync(new DescribeImagesRequest { Owners = ["self"] }),
            "ListMultipartUploads" => () =>
                aws.S3(Home)
                    .ListMultipartUploadsAsync(
                        new ListMultipartUploadsRequest { BucketName = bucket }
                    ),
            _ => () =>
                aws.Ssm(Home)
                    .GetParameterAsync(new GetParameterRequest { Name = "/imageforge/channel" }),
        };
        await call();

        aws.Fake.Requests.Of(operation).ShouldBe(3);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_fresh_copy_is_not_found_by_the_first_calls_that_name_it()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var (imageId, _) = await ImageAsync(aws, Home, "debian-11-cis-1");
        var other = aws.Ec2(Other);
        aws.Fake.Faults.HideCopiedImages(2);
        var copyId = (
            await other.CopyImageAsync(
                new CopyImageRequest
                {
                    Name = "debian-11-cis-1",
                    SourceImageId = imageId,
                    SourceRegion = Home,
                }
            )
        ).ImageId;

        var describe = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            other.DescribeImagesAsync(new DescribeImagesRequest { ImageIds = [copyId] })
        );
        var tag = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            other.CreateTagsAsync(
                new CreateTagsRequest
                {
                    Resources = [copyId],
                    Tags = [new("imageforge:channel", "dev")],
                }
            )
        );
        var found = await other.DescribeImagesAsync(
            new DescribeImagesRequest { ImageIds = [copyId] }
        );

        describe.ErrorCode.ShouldBe("InvalidAMIID.NotFound");
        tag.ErrorCode.ShouldBe("InvalidAMIID.NotFound");
        found.Images.Single().ImageId.ShouldBe(copyId);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_failing_region_fails_only_its_own_calls()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        aws.Fake.Faults.FailRegion(Other);

        var failed = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            aws.Ec2(Other).DescribeImagesAsync(new DescribeImagesRequest { Owners = ["self"] })
        );
        var s3 = await Should.ThrowAsync<AmazonS3Exception>(() =>
            aws.S3(Other)
                .ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = "any" })
        );
        var home = await aws.Ec2(Home)
            .DescribeImagesAsync(new DescribeImagesRequest { Owners = ["self"] });

        (failed.ErrorCode, failed.StatusCode).ShouldBe(
            ("Unavailable", System.Net.HttpStatusCode.ServiceUnavailable)
        );
        s3.ErrorCode.ShouldBe("ServiceUnavailable");
        (home.Images ?? []).ShouldBeEmpty(); // the SDK gives null for an empty list
        aws.Fake.Requests.Of("DescribeImages", Other).ShouldBeGreaterThan(1); // the SDK retried a 503
    }

    [Fact(Timeout = 60_000)]
    public async Task A_part_whose_connection_is_cut_fails_and_the_resumed_upload_completes_with_the_right_etag_and_checksum()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var s3 = aws.S3(Home);
        var disk = Disk();
        for (var i = 0; i < disk.Length; i += 4096)
        {
            disk[i] = (byte)(i / 4096); // not all zeros, so a part sent twice or out of place would show
        }

        var bucket = await BucketAsync(s3, Home);
        var clean = await UploadAsync(s3, bucket, "clean.raw", disk);
        var uploadId = await StartUploadAsync(s3, bucket, "disk.raw");
        aws.Fake.Faults.CutUploadPart(2, afterBytes: 1 << 20, times: 100);

        var results = await Task.WhenAll(
            Enumerable
                .Range(1, Parts(disk))
                .Select(async n =>
                {
                    try
                    {
                        await UploadPartAsync(s3, bucket, "disk.raw", uploadId, disk, n);
                        return (n, Error: (Exception?)null);
                    }
                    catch (Exception e) when (e is not ShouldAssertException)
                    {
                        return (n, Error: e);
                    }
                })
        );
        var uploads = await s3.ListMultipartUploadsAsync(
            new ListMultipartUploadsRequest { BucketName = bucket }
        );
        var listed = await s3.ListPartsAsync(
            new ListPartsRequest
            {
                BucketName = bucket,
                Key = "disk.raw",
                UploadId = uploadId,
            }
        );
        aws.Fake.Faults.Reset();
        foreach (
            var missing in Enumerable
                .Range(1, Parts(disk))
                .Except(listed.Parts.Select(p => p.PartNumber!.Value))
        )
        {
            await UploadPartAsync(s3, bucket, "disk.raw", uploadId, disk, missing);
        }

        var resumed = await CompleteAsync(s3, bucket, "disk.raw", uploadId);

        results
            .Where(r => r.Error is not null)
            .Select(r => r.n)
            .ShouldBe([2], $"UploadPart calls: {aws.Fake.Requests.Of("UploadPart")}");
        results.Single(r => r.n == 2).Error.ShouldNotBeOfType<AmazonS3Exception>(); // a cut connection, not an S3 error
        uploads.MultipartUploads.ShouldContain(u => u.UploadId == uploadId && u.Key == "disk.raw");
        listed.Parts.Select(p => p.PartNumber!.Value).ShouldBe([1, 3]);
        resumed.ETag.ShouldBe(clean.ETag);
        resumed.ETag.ShouldBe(MultipartEtag(disk));
        resumed.ChecksumCRC32.ShouldBe(clean.ChecksumCRC32);
        var stored = await s3.GetObjectMetadataAsync(
            new GetObjectMetadataRequest { BucketName = bucket, Key = "disk.raw" }
        );
        stored.ContentLength.ShouldBe(disk.Length);
    }

    /// <summary>S3's multipart ETag, computed here independently: MD5 of the parts' MD5s, then "-N".</summary>
    private static string MultipartEtag(byte[] disk)
    {
#pragma warning disable CA5351 // S3's ETag is MD5 by protocol
        var parts = disk.Chunk(PartSize).Select(p => MD5.HashData(p)).ToList();
        return $"\"{Convert.ToHexStringLower(MD5.HashData([.. parts.SelectMany(p => p)]))}-{parts.Count}\"";
#pragma warning restore CA5351
    }
}
