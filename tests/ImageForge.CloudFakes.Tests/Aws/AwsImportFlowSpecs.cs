using Amazon.EC2;
using Amazon.EC2.Model;
using ImageForge.CloudFakes.Aws;
using Shouldly;
using Xunit;
using static ImageForge.CloudFakes.Tests.Aws.AwsFlows;

namespace ImageForge.CloudFakes.Tests.Aws;

public sealed class AwsImportFlowSpecs
{
    [Fact(Timeout = 60_000)]
    public async Task A_raw_disk_uploaded_in_parallel_parts_becomes_an_image_copied_to_a_second_region()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var s3 = aws.S3(Home);
        var ec2 = aws.Ec2(Home);
        var disk = Disk();
        var bucket = await BucketAsync(s3, Home);

        var completed = await UploadAsync(s3, bucket, "debian-11-cis/2026.11.22.1/disk.raw", disk);
        var taskId = await ImportAsync(
            ec2,
            bucket,
            "debian-11-cis/2026.11.22.1/disk.raw",
            "import-2026.11.22.1"
        );
        var polls = await PollAsync(ec2, taskId);
        var imageId = (
            await ec2.RegisterImageAsync(
                Register("debian-11-cis-2026.11.22.1", polls[^1].SnapshotId)
            )
        ).ImageId;
        var (image, pending) = await WaitAvailableAsync(ec2, imageId);
        var copyId = (
            await aws.Ec2(Other)
                .CopyImageAsync(
                    new CopyImageRequest
                    {
                        ClientToken = "copy-2026.11.22.1-us-east-2",
                        Name = "debian-11-cis-2026.11.22.1",
                        SourceImageId = imageId,
                        SourceRegion = Home,
                        Encrypted = true,
                        KmsKeyId =
                            "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                        CopyImageTags = true,
                    }
                )
        ).ImageId;
        var (copy, _) = await WaitAvailableAsync(aws.Ec2(Other), copyId);

        completed.ETag.ShouldEndWith("-3\"");
        completed.ChecksumCRC32.ShouldEndWith("-3");
        polls.Count.ShouldBe(3);
        polls.SkipLast(1).ShouldAllBe(p => p.Status == "active" && p.Progress != null);
        polls
            .SkipLast(1)
            .Select(p => int.Parse(p.Progress, System.Globalization.CultureInfo.InvariantCulture))
            .ShouldBeInOrder(SortDirection.Ascending);
        polls[^1].Status.ShouldBe("completed");
        polls[^1].DiskImageSize.ShouldBe(disk.Length);
        polls[^1].SnapshotId.ShouldStartWith("snap-");
        pending.ShouldBe(2);
        foreach (var (found, region) in new[] { (image, Home), (copy, Other) })
        {
            found.Name.ShouldBe("debian-11-cis-2026.11.22.1");
            found.BootMode.ShouldBe(BootModeValues.Uefi);
            found.ImdsSupport.ShouldBe(ImdsSupportValues.V20);
            found.EnaSupport.ShouldBe(true);
            found.Architecture.ShouldBe(ArchitectureValues.X86_64);
            found.OwnerId.ShouldBe(AwsFake.AccountId);
            found.Tags.ShouldContain(t =>
                t.Key == "imageforge:version" && t.Value == "2026.11.22.1"
            );
            found.BlockDeviceMappings.Single().Ebs.VolumeType.ShouldBe(VolumeType.Gp3);
            aws.Fake.Requests.In(region).ShouldBeGreaterThan(0);
        }

        copy.SourceImageId.ShouldBe(imageId);
        copy.SourceImageRegion.ShouldBe(Home);
        copy.BlockDeviceMappings.Single().Ebs.Encrypted.ShouldBe(true);
        copy.BlockDeviceMappings.Single().Ebs.SnapshotId.ShouldNotBe(polls[^1].SnapshotId);
        aws.Fake.Requests.Of("UploadPart").ShouldBe(3);
        aws.Fake.Requests.Of("DescribeImportSnapshotTasks", Home).ShouldBe(3);
    }

    [Theory(Timeout = 30_000)]
    [InlineData(0, "does not exist")]
    [InlineData(1000, "multiple of 512")]
    public async Task An_import_of_a_missing_or_invalid_disk_fails_its_task(int size, string reason)
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var s3 = aws.S3(Home);
        var ec2 = aws.Ec2(Home);
        var bucket = await BucketAsync(s3, Home);
        if (size > 0)
        {
            await s3.PutObjectAsync(
                new Amazon.S3.Model.PutObjectRequest
                {
                    BucketName = bucket,
                    Key = "disk.raw",
                    InputStream = new MemoryStream(new byte[size]),
                }
            );
        }

        var polls = await PollAsync(ec2, await ImportAsync(ec2, bucket, "disk.raw", "import-bad"));

        polls[^1].Status.ShouldBe("deleted");
        polls[^1].StatusMessage.ShouldStartWith("ClientError:");
        polls[^1].StatusMessage.ShouldContain(reason);
        polls[^1].SnapshotId.ShouldBeNull();
    }
}
