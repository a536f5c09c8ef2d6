using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using ImageForge.CloudFakes.Aws;
using Shouldly;
using Xunit;
using static ImageForge.CloudFakes.Tests.Aws.AwsFlows;

namespace ImageForge.CloudFakes.Tests.Aws;

public sealed class AwsImageLifecycleSpecs
{
    private const string Partner = "210987654321";
    private const string Role = "arn:aws:iam::210987654321:role/imageforge-distribution";

    [Theory(Timeout = 30_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Deregistering_deletes_the_snapshot_only_when_asked(bool deleteSnapshots)
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var (imageId, snapshotId) = await ImageAsync(aws, Home, "debian-11-cis-1");
        var ec2 = aws.Ec2(Home);
        var inUse = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            ec2.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshotId })
        );

        var deregistered = await ec2.DeregisterImageAsync(
            new DeregisterImageRequest
            {
                ImageId = imageId,
                DeleteAssociatedSnapshots = deleteSnapshots,
            }
        );
        var snapshots = await ec2.DescribeSnapshotsAsync(
            new DescribeSnapshotsRequest { OwnerIds = ["self"] }
        );
        var images = await ec2.DescribeImagesAsync(new DescribeImagesRequest { Owners = ["self"] });

        inUse.ErrorCode.ShouldBe("InvalidSnapshot.InUse");
        (images.Images ?? []).ShouldBeEmpty(); // the SDK gives null for an empty list
        if (deleteSnapshots)
        {
            (snapshots.Snapshots ?? []).ShouldBeEmpty();
            deregistered
                .DeleteSnapshotResults.Single()
                .ReturnCode.ShouldBe(SnapshotReturnCodes.Success);
        }
        else
        {
            snapshots.Snapshots.Single().SnapshotId.ShouldBe(snapshotId);
            await ec2.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshotId });
            (
                (
                    await ec2.DescribeSnapshotsAsync(
                        new DescribeSnapshotsRequest { OwnerIds = ["self"] }
                    )
                ).Snapshots
                ?? []
            ).ShouldBeEmpty();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Sharing_deprecating_and_disabling_an_image_read_back_as_set()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var (imageId, snapshotId) = await ImageAsync(aws, Home, "debian-11-cis-1");
        var ec2 = aws.Ec2(Home);
        const string organization = "arn:aws:organizations::123456789012:organization/o-abcdefghij";
        var deprecateAt = new DateTime(2099, 1, 1, 12, 30, 45, DateTimeKind.Utc);

        await ec2.ModifyImageAttributeAsync(
            new ModifyImageAttributeRequest
            {
                ImageId = imageId,
                LaunchPermission = new LaunchPermissionModifications
                {
                    Add =
                    [
                        new LaunchPermission { UserId = Partner },
                        new LaunchPermission { OrganizationArn = organization },
                    ],
                },
            }
        );
        await ec2.ModifySnapshotAttributeAsync(
            new ModifySnapshotAttributeRequest
            {
                SnapshotId = snapshotId,
                Attribute = SnapshotAttributeName.CreateVolumePermission,
                CreateVolumePermission = new CreateVolumePermissionModifications
                {
                    Add = [new CreateVolumePermission { UserId = Partner }],
                },
            }
        );
        await ec2.EnableImageDeprecationAsync(
            new EnableImageDeprecationRequest { ImageId = imageId, DeprecateAt = deprecateAt }
        );
        var launch = await ec2.DescribeImageAttributeAsync(
            new DescribeImageAttributeRequest
            {
                ImageId = imageId,
                Attribute = ImageAttributeName.LaunchPermission,
            }
        );
        var volume = await ec2.DescribeSnapshotAttributeAsync(
            new DescribeSnapshotAttributeRequest
            {
                SnapshotId = snapshotId,
                Attribute = SnapshotAttributeName.CreateVolumePermission,
            }
        );
        var deprecated = (
            await ec2.DescribeImagesAsync(new DescribeImagesRequest { ImageIds = [imageId] })
        ).Images.Single();
        var badUser = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            ec2.ModifyImageAttributeAsync(
                new ModifyImageAttributeRequest
                {
                    ImageId = imageId,
                    Attribute = "launchPermission",
                    OperationType = OperationType.Add,
                    UserIds = ["not-an-account"],
                }
            )
        );
        await ec2.DisableImageAsync(new DisableImageRequest { ImageId = imageId });
        var listed = await ec2.DescribeImagesAsync(new DescribeImagesRequest { Owners = ["self"] });
        var withDisabled = await ec2.DescribeImagesAsync(
            new DescribeImagesRequest { Owners = ["self"], IncludeDisabled = true }
        );

        launch
            .ImageAttribute.LaunchPermissions.Select(p => p.UserId ?? p.OrganizationArn)
            .ShouldBe([Partner, organization]);
        volume.CreateVolumePermissions.Single().UserId.ShouldBe(Partner);
        deprecated.DeprecationTime.ShouldBe("2099-01-01T12:30:00.000Z");
        badUser.ErrorCode.ShouldBe("InvalidAMIAttributeItemValue");
        (listed.Images ?? []).ShouldBeEmpty(); // the SDK gives null for an empty list
        withDisabled.Images.Single().State.ShouldBe(ImageState.Disabled);
    }

    [Fact(Timeout = 30_000)]
    public async Task An_image_parameter_holds_an_existing_ami_and_an_unknown_one_is_never_written()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var (imageId, _) = await ImageAsync(aws, Home, "debian-11-cis-1");
        var ssm = aws.Ssm(Home);
        PutParameterRequest Put(string name, string value, bool overwrite = false) =>
            new()
            {
                Name = name,
                Value = value,
                Type = ParameterType.String,
                DataType = "aws:ec2:image",
                Overwrite = overwrite,
            };

        var written = await ssm.PutParameterAsync(Put("/imageforge/debian-11-cis/prod", imageId));
        var unknownUpdate = await ssm.PutParameterAsync(
            Put("/imageforge/debian-11-cis/prod", "ami-0123456789abcdef0", overwrite: true)
        );
        await ssm.PutParameterAsync(Put("/imageforge/debian-11-cis/dev", "ami-0123456789abcdef0"));
        var read = (
            await ssm.GetParameterAsync(
                new GetParameterRequest { Name = "/imageforge/debian-11-cis/prod" }
            )
        ).Parameter;
        var missing = await Should.ThrowAsync<ParameterNotFoundException>(() =>
            ssm.GetParameterAsync(
                new GetParameterRequest { Name = "/imageforge/debian-11-cis/dev" }
            )
        );
        var exists = await Should.ThrowAsync<ParameterAlreadyExistsException>(() =>
            ssm.PutParameterAsync(Put("/imageforge/debian-11-cis/prod", imageId))
        );
        var otherRegion = await ssm.PutParameterAsync(
            Put("/imageforge/debian-11-cis/prod", imageId, overwrite: true)
        );
        await aws.Ssm(Other).PutParameterAsync(Put("/imageforge/debian-11-cis/prod", imageId));
        await ssm.DeleteParameterAsync(
            new DeleteParameterRequest { Name = "/imageforge/debian-11-cis/prod" }
        );
        var deleted = await Should.ThrowAsync<ParameterNotFoundException>(() =>
            ssm.GetParameterAsync(
                new GetParameterRequest { Name = "/imageforge/debian-11-cis/prod" }
            )
        );

        written.Version.ShouldBe(1);
        unknownUpdate.Version.ShouldBe(2); // AWS answers before it validates
        (read.Value, read.Version, read.DataType, read.Type).ShouldBe(
            (imageId, 1L, "aws:ec2:image", ParameterType.String)
        );
        read.ARN.ShouldBe(
            "arn:aws:ssm:eu-west-1:123456789012:parameter/imageforge/debian-11-cis/prod"
        );
        missing.ShouldNotBeNull();
        exists.ShouldNotBeNull();
        otherRegion.Version.ShouldBe(2);
        deleted.ShouldNotBeNull();
        aws.Fake.FailedImageParameterValidations.Count.ShouldBe(3); // two unknown AMIs, and the image is not in us-east-2
    }

    [Fact(Timeout = 30_000)]
    public async Task Assumed_role_credentials_act_as_that_role_until_the_role_is_unknown_or_the_token_missing()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        aws.Fake.AddRole(Role);
        var (imageId, _) = await ImageAsync(aws, Home, "debian-11-cis-1");
        await aws.Ec2(Home)
            .ModifyImageAttributeAsync(
                new ModifyImageAttributeRequest
                {
                    ImageId = imageId,
                    LaunchPermission = new() { Add = [new LaunchPermission { UserId = Partner }] },
                }
            );
        var sts = aws.Sts(Home);

        var me = await sts.GetCallerIdentityAsync(new GetCallerIdentityRequest());
        var assumed = await sts.AssumeRoleAsync(
            new AssumeRoleRequest
            {
                RoleArn = Role,
                RoleSessionName = "imageforge-promote",
                DurationSeconds = 900,
            }
        );
        var role = new SessionAWSCredentials(
            assumed.Credentials.AccessKeyId,
            assumed.Credentials.SecretAccessKey,
            assumed.Credentials.SessionToken
        );
        var asRole = await aws.Sts(Home, role)
            .GetCallerIdentityAsync(new GetCallerIdentityRequest());
        var shared = await aws.Ec2(Home, role)
            .DescribeImagesAsync(new DescribeImagesRequest { ExecutableUsers = ["self"] });
        var owned = await aws.Ec2(Home, role)
            .DescribeImagesAsync(new DescribeImagesRequest { Owners = ["self"] });
        var unknownRole = await Should.ThrowAsync<AmazonSecurityTokenServiceException>(() =>
            sts.AssumeRoleAsync(
                new AssumeRoleRequest
                {
                    RoleArn = "arn:aws:iam::210987654321:role/other",
                    RoleSessionName = "imageforge",
                }
            )
        );
        var noToken = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            aws.Ec2(
                    Home,
                    new BasicAWSCredentials(
                        assumed.Credentials.AccessKeyId,
                        assumed.Credentials.SecretAccessKey
                    ),
                    c => c.MaxErrorRetry = 0
                )
                .DescribeImagesAsync(new DescribeImagesRequest())
        );

        (me.Account, me.Arn).ShouldBe(
            (AwsFake.AccountId, "arn:aws:iam::123456789012:user/imageforge-test")
        );
        assumed.Credentials.AccessKeyId.ShouldStartWith("ASIA");
        assumed
            .Credentials.Expiration.ShouldNotBeNull()
            .ShouldBeGreaterThan(TimeProvider.System.GetUtcNow().UtcDateTime.AddMinutes(10));
        assumed.AssumedRoleUser.Arn.ShouldBe(
            "arn:aws:sts::210987654321:assumed-role/imageforge-distribution/imageforge-promote"
        );
        (asRole.Account, asRole.Arn).ShouldBe((Partner, assumed.AssumedRoleUser.Arn));
        shared.Images.Single().ImageId.ShouldBe(imageId);
        (owned.Images ?? []).ShouldBeEmpty(); // the SDK gives null for an empty list
        unknownRole.ErrorCode.ShouldBe("AccessDenied");
        noToken.ErrorCode.ShouldBe("AuthFailure");
    }
}
