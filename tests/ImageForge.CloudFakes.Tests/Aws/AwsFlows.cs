using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.S3;
using Amazon.S3.Model;
using ImageForge.CloudFakes.Aws;
using Shouldly;

namespace ImageForge.CloudFakes.Tests.Aws;

/// <summary>The steps of an image import as the AWS provider will make them, through the real SDK clients.</summary>
internal static class AwsFlows
{
    public const string Home = "eu-west-1";
    public const string Other = "us-east-2";
    public const int PartSize = 5 << 20;

    /// <summary>A raw disk of zeros: 12 MiB, so three parts (5, 5, 2 MiB).</summary>
    public static byte[] Disk(int bytes = 12 << 20) => new byte[bytes];

    public static async Task<string> BucketAsync(
        AmazonS3Client s3,
        string region,
        string name = "imageforge-import"
    )
    {
        await s3.PutBucketAsync(
            new PutBucketRequest { BucketName = name, BucketRegionName = region }
        );
        return name;
    }

    public static async Task<string> StartUploadAsync(
        AmazonS3Client s3,
        string bucket,
        string key
    ) =>
        (
            await s3.InitiateMultipartUploadAsync(
                new InitiateMultipartUploadRequest
                {
                    BucketName = bucket,
                    Key = key,
                    ChecksumAlgorithm = ChecksumAlgorithm.CRC32,
                }
            )
        ).UploadId;

    public static Task<UploadPartResponse> UploadPartAsync(
        AmazonS3Client s3,
        string bucket,
        string key,
        string uploadId,
        byte[] disk,
        int number
    ) =>
        s3.UploadPartAsync(
            new UploadPartRequest
            {
                BucketName = bucket,
                Key = key,
                UploadId = uploadId,
                PartNumber = number,
                InputStream = new MemoryStream(
                    disk,
                    (number - 1) * PartSize,
                    Math.Min(PartSize, disk.Length - ((number - 1) * PartSize)),
                    writable: false
                ),
                ChecksumAlgorithm = ChecksumAlgorithm.CRC32,
            }
        );

    public static int Parts(byte[] disk) => (disk.Length + PartSize - 1) / PartSize;

    /// <summary>Completes an upload with the parts S3 lists (so it also finishes an upload resumed after a failure).</summary>
    public static async Task<CompleteMultipartUploadResponse> CompleteAsync(
        AmazonS3Client s3,
        string bucket,
        string key,
        string uploadId
    )
    {
        var listed = await s3.ListPartsAsync(
            new ListPartsRequest
            {
                BucketName = bucket,
                Key = key,
                UploadId = uploadId,
            }
        );
        return await s3.CompleteMultipartUploadAsync(
            new CompleteMultipartUploadRequest
            {
                BucketName = bucket,
                Key = key,
                UploadId = uploadId,
                PartETags =
                [
                    .. listed.Parts.Select(p => new PartETag
                    {
                        PartNumber = p.PartNumber,
                        ETag = p.ETag,
                        ChecksumCRC32 = p.ChecksumCRC32,
                    }),
                ],
            }
        );
    }

    /// <summary>Uploads <paramref name="disk"/> in parallel parts and completes the upload.</summary>
    public static async Task<CompleteMultipartUploadResponse> UploadAsync(
        AmazonS3Client s3,
        string bucket,
        string key,
        byte[] disk
    )
    {
        var uploadId = await StartUploadAsync(s3, bucket, key);
        await Task.WhenAll(
            Enumerable
                .Range(1, Parts(disk))
                .Select(n => UploadPartAsync(s3, bucket, key, uploadId, disk, n))
        );
        return await CompleteAsync(s3, bucket, key, uploadId);
    }

    public static async Task<string> ImportAsync(
        AmazonEC2Client ec2,
        string bucket,
        string key,
        string token
    ) =>
        (
            await ec2.ImportSnapshotAsync(
                new ImportSnapshotRequest
                {
                    ClientToken = token,
                    Description = "imageforge debian-11-cis 2026.11.22.1",
                    DiskContainer = new SnapshotDiskContainer
                    {
                        Format = "RAW",
                        UserBucket = new UserBucket { S3Bucket = bucket, S3Key = key },
                    },
                }
            )
        ).ImportTaskId;

    /// <summary>Polls the import task until it ends; returns every detail seen, the last one final.</summary>
    public static async Task<List<SnapshotTaskDetail>> PollAsync(AmazonEC2Client ec2, string taskId)
    {
        var seen = new List<SnapshotTaskDetail>();
        for (var i = 0; i < 20; i++)
        {
            var response = await ec2.DescribeImportSnapshotTasksAsync(
                new DescribeImportSnapshotTasksRequest { ImportTaskIds = [taskId] }
            );
            var detail = response.ImportSnapshotTasks.Single().SnapshotTaskDetail;
            seen.Add(detail);
            if (detail.Status != "active")
            {
                return seen;
            }
        }

        throw new ShouldAssertException("the import never ended");
    }

    public static RegisterImageRequest Register(string name, string snapshotId) =>
        new()
        {
            Name = name,
            Architecture = ArchitectureValues.X86_64,
            BootMode = BootModeValues.Uefi,
            EnaSupport = true,
            ImdsSupport = ImdsSupportValues.V20,
            VirtualizationType = "hvm",
            RootDeviceName = "/dev/xvda",
            BlockDeviceMappings =
            [
                new BlockDeviceMapping
                {
                    DeviceName = "/dev/xvda",
                    Ebs = new EbsBlockDevice
                    {
                        SnapshotId = snapshotId,
                        VolumeType = VolumeType.Gp3,
                        DeleteOnTermination = true,
                    },
                },
            ],
            TagSpecifications =
            [
                new TagSpecification
                {
                    ResourceType = ResourceType.Image,
                    Tags =
                    [
                        new Amazon.EC2.Model.Tag("imageforge:image", "debian-11-cis"),
                        new Amazon.EC2.Model.Tag("imageforge:version", "2026.11.22.1"),
                    ],
                },
            ],
        };

    /// <summary>Describes the image until it is available; returns how many describes saw it pending.</summary>
    public static async Task<(Image Image, int Pending)> WaitAvailableAsync(
        AmazonEC2Client ec2,
        string imageId
    )
    {
        for (var pending = 0; pending < 20; pending++)
        {
            var image = (
                await ec2.DescribeImagesAsync(new DescribeImagesRequest { ImageIds = [imageId] })
            ).Images.Single();
            if (image.State == ImageState.Available)
            {
                return (image, pending);
            }

            image.State.ShouldBe(ImageState.Pending);
        }

        throw new ShouldAssertException($"{imageId} never became available");
    }

    /// <summary>Upload, import and register: an available image in <paramref name="region"/>.</summary>
    public static async Task<(string ImageId, string SnapshotId)> ImageAsync(
        AwsFakeFixture aws,
        string region,
        string name
    )
    {
        var s3 = aws.S3(region);
        var bucket = await BucketAsync(s3, region, "imageforge-" + name);
        await UploadAsync(s3, bucket, "disk.raw", Disk(PartSize));
        var ec2 = aws.Ec2(region);
        var detail = (
            await PollAsync(ec2, await ImportAsync(ec2, bucket, "disk.raw", "import-" + name))
        )[^1];
        var imageId = (await ec2.RegisterImageAsync(Register(name, detail.SnapshotId))).ImageId;
        await WaitAvailableAsync(ec2, imageId);
        return (imageId, detail.SnapshotId);
    }
}
