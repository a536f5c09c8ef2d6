using Amazon.EC2;
using Amazon.EC2.Model;
using ImageForge.CloudFakes.Aws;
using Shouldly;
using Xunit;
using static ImageForge.CloudFakes.Tests.Aws.AwsFlows;

namespace ImageForge.CloudFakes.Tests.Aws;

public sealed class AwsIdempotencySpecs
{
    [Fact(Timeout = 30_000)]
    public async Task A_replayed_client_token_returns_the_first_result_and_a_changed_request_under_it_is_refused()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var (imageId, _) = await ImageAsync(aws, Home, "debian-11-cis-1");
        var ec2 = aws.Ec2(Home);
        var other = aws.Ec2(Other);
        CopyImageRequest Copy(string name) =>
            new()
            {
                ClientToken = "copy-1",
                Name = name,
                SourceImageId = imageId,
                SourceRegion = Home,
            };

        var firstTask = await ImportAsync(
            ec2,
            "imageforge-debian-11-cis-1",
            "disk.raw",
            "import-debian-11-cis-1"
        );
        var firstCopy = (await other.CopyImageAsync(Copy("debian-11-cis-1"))).ImageId;
        var againCopy = (await other.CopyImageAsync(Copy("debian-11-cis-1"))).ImageId;
        var importMismatch = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            ec2.ImportSnapshotAsync(
                new ImportSnapshotRequest
                {
                    ClientToken = "import-debian-11-cis-1",
                    Description = "another disk",
                    DiskContainer = new SnapshotDiskContainer
                    {
                        Format = "RAW",
                        UserBucket = new UserBucket
                        {
                            S3Bucket = "imageforge-debian-11-cis-1",
                            S3Key = "disk.raw",
                        },
                    },
                }
            )
        );
        var copyMismatch = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            other.CopyImageAsync(Copy("debian-11-cis-other"))
        );

        firstTask.ShouldStartWith("import-snap-");
        againCopy.ShouldBe(firstCopy);
        importMismatch.ErrorCode.ShouldBe("IdempotentParameterMismatch");
        copyMismatch.ErrorCode.ShouldBe("IdempotentParameterMismatch");
        (
            await other.DescribeImagesAsync(new DescribeImagesRequest { Owners = ["self"] })
        ).Images.Count.ShouldBe(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_same_import_token_returns_the_same_task()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var ec2 = aws.Ec2(Home);

        var first = await ImportAsync(ec2, "bucket", "disk.raw", "import-token");
        var again = await ImportAsync(ec2, "bucket", "disk.raw", "import-token");

        again.ShouldBe(first);
        (
            await ec2.DescribeImportSnapshotTasksAsync(new DescribeImportSnapshotTasksRequest())
        ).ImportSnapshotTasks.Count.ShouldBe(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_name_already_used_in_the_region_is_refused_by_register_and_copy()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var (imageId, snapshotId) = await ImageAsync(aws, Home, "debian-11-cis-1");
        await aws.Ec2(Other)
            .CopyImageAsync(
                new CopyImageRequest
                {
                    Name = "debian-11-cis-1",
                    SourceImageId = imageId,
                    SourceRegion = Home,
                }
            );

        var register = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            aws.Ec2(Home).RegisterImageAsync(Register("debian-11-cis-1", snapshotId))
        );
        var copy = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            aws.Ec2(Other)
                .CopyImageAsync(
                    new CopyImageRequest
                    {
                        Name = "debian-11-cis-1",
                        SourceImageId = imageId,
                        SourceRegion = Home,
                    }
                )
        );

        register.ErrorCode.ShouldBe("InvalidAMIName.Duplicate");
        copy.ErrorCode.ShouldBe("InvalidAMIName.Duplicate");
        register.Message.ShouldContain(imageId);
    }
}
