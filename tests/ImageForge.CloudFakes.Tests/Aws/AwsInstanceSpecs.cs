using System.Security.Cryptography;
using Amazon.EC2;
using Amazon.EC2.Model;
using ImageForge.CloudFakes.Aws;
using Shouldly;
using Xunit;
using static ImageForge.CloudFakes.Tests.Aws.AwsFlows;

namespace ImageForge.CloudFakes.Tests.Aws;

/// <summary>
/// The calls Packer's amazon-ebs makes around its instance, in its order, through the real SDK: every request passes
/// the botocore model (the fixture fails on any problem), and the instance runs on the host the spec gives.
/// </summary>
public sealed class AwsInstanceSpecs
{
    [Fact(Timeout = 30_000)]
    public async Task Packers_instance_sequence_runs_a_machine_images_its_tree_and_leaves_nothing()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var host = new RecordingHost();
        aws.Fake.InstanceHost = host;
        var source = aws.Fake.RegisterSourceImage(
            Home,
            "debian-11-amd64-20260101-1",
            "136693071363",
            "/trees/base"
        );
        var ec2 = aws.Ec2(Home);

        var regions = await ec2.DescribeRegionsAsync(new DescribeRegionsRequest());
        regions.Regions.ShouldContain(r => r.RegionName == Home);
        var found = await ec2.DescribeImagesAsync(
            new DescribeImagesRequest
            {
                Owners = ["136693071363"],
                Filters =
                [
                    new Filter("name", ["debian-11-amd64-*"]),
                    new Filter("architecture", ["x86_64"]),
                    new Filter("virtualization-type", ["hvm"]),
                    new Filter("root-device-type", ["ebs"]),
                ],
            }
        );
        found.Images.Single().ImageId.ShouldBe(source);

        var key = await ec2.CreateKeyPairAsync(new CreateKeyPairRequest { KeyName = "packer_1" });
        // A real RSA private key, which Packer's SSH client loads.
        using (var rsa = RSA.Create())
        {
            rsa.ImportFromPem(key.KeyPair.KeyMaterial);
            rsa.KeySize.ShouldBe(2048);
        }

        var group = await ec2.CreateSecurityGroupAsync(
            new CreateSecurityGroupRequest { GroupName = "packer_1", Description = "Temporary" }
        );
        (
            await ec2.DescribeSecurityGroupsAsync(
                new DescribeSecurityGroupsRequest { GroupIds = [group.GroupId] }
            )
        )
            .SecurityGroups.Single()
            .GroupName.ShouldBe("packer_1");
        await ec2.AuthorizeSecurityGroupIngressAsync(
            new AuthorizeSecurityGroupIngressRequest
            {
                GroupId = group.GroupId,
                IpPermissions =
                [
                    new IpPermission
                    {
                        IpProtocol = "tcp",
                        FromPort = 22,
                        ToPort = 22,
                        Ipv4Ranges = [new IpRange { CidrIp = "0.0.0.0/0" }],
                    },
                ],
            }
        );

        var run = await ec2.RunInstancesAsync(
            new RunInstancesRequest
            {
                ImageId = source,
                InstanceType = InstanceType.T3Small,
                KeyName = "packer_1",
                MinCount = 1,
                MaxCount = 1,
                SecurityGroupIds = [group.GroupId],
            }
        );
        var instance = run.Reservation.Instances.Single();
        instance.State.Name.Value.ShouldBe("pending");
        host.Launched.ShouldBe([("/trees/base", "admin", OpenSshKey(key.KeyPair.KeyMaterial))]);
        var running = await DescribeAsync(ec2, instance.InstanceId, "running");
        running.PublicIpAddress.ShouldBe("127.0.0.1");

        await ec2.StopInstancesAsync(
            new StopInstancesRequest { InstanceIds = [instance.InstanceId] }
        );
        await DescribeAsync(ec2, instance.InstanceId, "stopped");
        host.Halted.ShouldBe(1);

        var image = await ec2.CreateImageAsync(
            new CreateImageRequest { InstanceId = instance.InstanceId, Name = "debian-11-cis-b1" }
        );
        var ami = await AvailableAsync(ec2, image.ImageId);
        ami.SourceImageId.ShouldBe(source);
        host.Snapshots.ShouldBe([image.ImageId]);

        var volumes = await ec2.DescribeVolumesAsync(
            new DescribeVolumesRequest
            {
                Filters = [new Filter("attachment.instance-id", [instance.InstanceId])],
            }
        );
        volumes.Volumes.Single().Attachments.Single().InstanceId.ShouldBe(instance.InstanceId);

        await ec2.TerminateInstancesAsync(
            new TerminateInstancesRequest { InstanceIds = [instance.InstanceId] }
        );
        await DescribeAsync(ec2, instance.InstanceId, "terminated");
        host.Terminated.ShouldBe(1);
        aws.Fake.LiveMachines.ShouldBe(0);
        (
            (await ec2.DescribeVolumesAsync(new DescribeVolumesRequest())).Volumes ?? []
        ).ShouldBeEmpty();

        await ec2.DeleteSecurityGroupAsync(
            new DeleteSecurityGroupRequest { GroupId = group.GroupId }
        );
        await ec2.DeleteKeyPairAsync(new DeleteKeyPairRequest { KeyName = "packer_1" });
        (
            (
                await ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest())
            ).SecurityGroups
            ?? []
        ).ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_group_in_use_and_a_second_key_of_the_same_name_are_refused_as_ec2_does()
    {
        await using var aws = await AwsFakeFixture.StartAsync();
        var source = aws.Fake.RegisterSourceImage(Home, "debian-11-amd64-1", "136693071363", "/t");
        var ec2 = aws.Ec2(Home, configure: c => c.MaxErrorRetry = 0);
        await ec2.CreateKeyPairAsync(new CreateKeyPairRequest { KeyName = "k" });
        var duplicate = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            ec2.CreateKeyPairAsync(new CreateKeyPairRequest { KeyName = "k" })
        );
        duplicate.ErrorCode.ShouldBe("InvalidKeyPair.Duplicate");
        var group = await ec2.CreateSecurityGroupAsync(
            new CreateSecurityGroupRequest { GroupName = "g", Description = "d" }
        );
        var run = await ec2.RunInstancesAsync(
            new RunInstancesRequest
            {
                ImageId = source,
                KeyName = "k",
                MinCount = 1,
                MaxCount = 1,
                SecurityGroupIds = [group.GroupId],
            }
        );

        var inUse = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            ec2.DeleteSecurityGroupAsync(new DeleteSecurityGroupRequest { GroupId = group.GroupId })
        );

        inUse.ErrorCode.ShouldBe("DependencyViolation");
        var missing = await Should.ThrowAsync<AmazonEC2Exception>(() =>
            ec2.DescribeInstancesAsync(
                new DescribeInstancesRequest { InstanceIds = ["i-0123456789abcdef0"] }
            )
        );
        missing.ErrorCode.ShouldBe("InvalidInstanceID.NotFound");
        run.Reservation.Instances.Single().State.Name.Value.ShouldBe("pending");
    }

    private static async Task<Instance> DescribeAsync(
        AmazonEC2Client ec2,
        string instanceId,
        string state
    )
    {
        for (var i = 0; i < 5; i++)
        {
            var instance = (
                await ec2.DescribeInstancesAsync(
                    new DescribeInstancesRequest { InstanceIds = [instanceId] }
                )
            )
                .Reservations.Single()
                .Instances.Single();
            if (instance.State.Name.Value == state)
            {
                return instance;
            }
        }

        throw new ShouldAssertException($"{instanceId} never became {state}");
    }

    private static async Task<Image> AvailableAsync(AmazonEC2Client ec2, string imageId)
    {
        for (var i = 0; i < 5; i++)
        {
            var image = (
                await ec2.DescribeImagesAsync(new DescribeImagesRequest { ImageIds = [imageId] })
            ).Images.Single();
            if (image.State == ImageState.Available)
            {
                return image;
            }
        }

        throw new ShouldAssertException($"{imageId} never became available");
    }

    // The public half of a PEM RSA key, as the fake writes it into authorized_keys.
    private static string OpenSshKey(string pem)
    {
        using var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        var parameters = rsa.ExportParameters(false);
        using var blob = new MemoryStream();
        Write("ssh-rsa"u8.ToArray());
        Write(Mpint(parameters.Exponent!));
        Write(Mpint(parameters.Modulus!));
        return "ssh-rsa " + Convert.ToBase64String(blob.ToArray()) + " imageforge-fake";

        static byte[] Mpint(byte[] value) => value[0] >= 0x80 ? [0, .. value] : value;

        void Write(byte[] bytes)
        {
            var length = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            blob.Write(length);
            blob.Write(bytes);
        }
    }

    private sealed class RecordingHost : IEc2InstanceHost
    {
        public List<(string Tree, string User, string Key)> Launched { get; } = [];

        public List<string> Snapshots { get; } = [];

        public int Halted { get; set; }

        public int Terminated { get; set; }

        public IEc2Machine Launch(string instanceId, string tree, string user, string authorizedKey)
        {
            Launched.Add((tree, user, authorizedKey));
            return new Machine(this);
        }

        private sealed class Machine(RecordingHost host) : IEc2Machine
        {
            public string Address => "127.0.0.1";

            public string Snapshot(string imageId)
            {
                host.Snapshots.Add(imageId);
                return "/trees/" + imageId;
            }

            public void Halt() => host.Halted++;

            public void Terminate() => host.Terminated++;
        }
    }
}
