using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ImageForge.CloudFakes.Aws;

/// <summary>
/// Where the fake's instances run. Without one (the default), an instance is state only: it goes pending -> running
/// -> stopped -> terminated and CreateImage makes an AMI of its source's snapshots. With one, RunInstances of an AMI
/// registered with a root tree (<see cref="AwsFake.RegisterSourceImage"/>) starts a machine on this host that real
/// Packer can reach over SSH, and CreateImage snapshots its tree.
/// </summary>
public interface IEc2InstanceHost
{
    /// <summary>Starts a machine from a copy of <paramref name="tree"/> with <paramref name="authorizedKey"/> (OpenSSH form) for <paramref name="user"/>.</summary>
    IEc2Machine Launch(string instanceId, string tree, string user, string authorizedKey);
}

/// <summary>One machine of an <see cref="IEc2InstanceHost"/>.</summary>
public interface IEc2Machine
{
    /// <summary>Where SSH reaches it (loopback).</summary>
    string Address { get; }

    /// <summary>A copy of its tree as it is now, owned by the caller (the new AMI's tree).</summary>
    string Snapshot(string imageId);

    /// <summary>Stops its processes (StopInstances); the tree stays.</summary>
    void Halt();

    /// <summary>Stops its processes and removes everything it had (TerminateInstances).</summary>
    void Terminate();
}

/// <summary>
/// The EC2 calls of Packer's amazon-ebs builder besides the image lifecycle: key pairs, security groups, instances
/// (pending -> running -> stopping -> stopped, shutting-down -> terminated), CreateImage from an instance, volumes
/// and regions. Every request has passed the model validator before it gets here.
/// </summary>
internal sealed partial class Ec2Fake
{
    private static readonly string[] KnownRegions =
    [
        "eu-west-1",
        "eu-west-2",
        "eu-central-1",
        "us-east-1",
        "us-east-2",
        "us-west-2",
    ];

    /// <summary>The host instances run on; null: instances are state only.</summary>
    internal IEc2InstanceHost? InstanceHost { get; set; }

    /// <summary>Machines still alive (a spec checks none is left).</summary>
    internal int LiveMachines
    {
        get
        {
            lock (Gate)
            {
                return _regions.Values.Sum(r =>
                    r.Instances.Values.Count(i => i.Machine is not null)
                );
            }
        }
    }

    /// <summary>Registers an available AMI owned by <paramref name="owner"/>, whose instances run <paramref name="tree"/>.</summary>
    internal string RegisterSourceImage(string regionName, string name, string owner, string tree)
    {
        lock (Gate)
        {
            var region = RegionOf(regionName);
            var snapshot = new Snapshot(
                "snap-" + Fake.NewId(),
                owner,
                8,
                $"source of {name}",
                false,
                null,
                Fake.Time.GetUtcNow()
            );
            region.Snapshots[snapshot.Id] = snapshot;
            var image = new Image("ami-" + Fake.NewId(), name, owner, Fake.Time.GetUtcNow(), 0)
            {
                State = "available",
                Architecture = "x86_64",
                VirtualizationType = "hvm",
                RootDeviceName = "/dev/xvda",
                EnaSupport = true,
                Mappings = [Mapping("/dev/xvda", snapshot, 8, "gp3", true, null, null)],
                Snapshots = [snapshot.Id],
                Tree = tree,
            };
            image.LaunchPermissions.Add(Tree.Object(("Group", "all")));
            region.Images[image.Id] = image;
            return image.Id;
        }
    }

    private JsonObject? ExecuteInstanceCall(AwsCall call, Region region) =>
        call.Operation.Name switch
        {
            "DescribeRegions" => DescribeRegions(call),
            "CreateKeyPair" => CreateKeyPair(call, region),
            "DeleteKeyPair" => DeleteKeyPair(call, region),
            "CreateSecurityGroup" => CreateSecurityGroup(call, region),
            "DescribeSecurityGroups" => DescribeSecurityGroups(call, region),
            "AuthorizeSecurityGroupIngress" => AuthorizeSecurityGroupIngress(call, region),
            "DeleteSecurityGroup" => DeleteSecurityGroup(call, region),
            "RunInstances" => RunInstances(call, region),
            "DescribeInstances" => DescribeInstances(call, region),
            "StopInstances" => StopInstances(call, region),
            "TerminateInstances" => TerminateInstances(call, region),
            "CreateImage" => CreateImage(call, region),
            "DescribeVolumes" => DescribeVolumes(call, region),
            _ => null,
        };

    private static JsonObject DescribeRegions(AwsCall call)
    {
        var wanted = call.Input.Strings("RegionNames").ToList();
        foreach (var name in wanted.Where(n => !KnownRegions.Contains(n)))
        {
            throw Fail("InvalidParameterValue", $"Invalid region: {name}");
        }

        return Tree.Object(
            (
                "Regions",
                Tree.List(
                    KnownRegions
                        .Where(r => wanted.Count == 0 || wanted.Contains(r))
                        .Select(r =>
                            Tree.Object(
                                ("RegionName", r),
                                ("Endpoint", $"ec2.{r}.amazonaws.com"),
                                ("OptInStatus", "opt-in-not-required")
                            )
                        )
                )
            )
        );
    }

    // A real RSA key: EC2 keeps the public half and hands out the private one, once.
    private JsonObject CreateKeyPair(AwsCall call, Region region)
    {
        var name = call.Input.Str("KeyName")!;
        if (region.KeyPairs.ContainsKey(name))
        {
            throw Fail("InvalidKeyPair.Duplicate", $"The keypair '{name}' already exists.");
        }

        if ((call.Input.Str("KeyType") ?? "rsa") != "rsa")
        {
            throw Fail("InvalidParameterValue", "The fake makes rsa key pairs only");
        }

        using var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(false);
        var publicKey = OpenSshRsa(parameters);
        var pair = new KeyPair(
            "key-" + Fake.NewId(),
            name,
            publicKey,
            // EC2 takes SHA-1 of the PKCS#8 key; a fake can say SHA-256 (the first 20 bytes).
            Convert.ToHexStringLower(SHA256.HashData(rsa.ExportPkcs8PrivateKey()))[..40]
        );
        region.KeyPairs[name] = pair;
        return Tree.Object(
            ("KeyPairId", pair.Id),
            ("KeyName", name),
            ("KeyFingerprint", Fingerprint(pair.Fingerprint)),
            ("KeyMaterial", rsa.ExportRSAPrivateKeyPem())
        );
    }

    private static string Fingerprint(string hex) =>
        string.Join(':', Enumerable.Range(0, 20).Select(i => hex.Substring(i * 2, 2)));

    private static JsonObject DeleteKeyPair(AwsCall call, Region region)
    {
        // Deleting a key pair that does not exist succeeds, as in EC2.
        var name =
            call.Input.Str("KeyName")
            ?? region
                .KeyPairs.Values.FirstOrDefault(k => k.Id == call.Input.Str("KeyPairId"))
                ?.Name;
        var pair = name is null ? null : region.KeyPairs.GetValueOrDefault(name);
        if (name is not null)
        {
            region.KeyPairs.Remove(name);
        }

        return Tree.Object(("Return", true), ("KeyPairId", pair?.Id));
    }

    private JsonObject CreateSecurityGroup(AwsCall call, Region region)
    {
        var name = call.Input.Str("GroupName")!;
        if (region.Groups.Values.Any(g => g.Name == name))
        {
            throw Fail(
                "InvalidGroup.Duplicate",
                $"The security group '{name}' already exists for VPC 'vpc-default'"
            );
        }

        var group = new SecurityGroup(
            "sg-" + Fake.NewId(),
            name,
            call.Input.Str("Description")!,
            call.Caller.Account
        );
        region.Groups[group.Id] = group;
        return Tree.Object(("GroupId", group.Id));
    }

    private static JsonObject DescribeSecurityGroups(AwsCall call, Region region)
    {
        var ids = call.Input.Strings("GroupIds").ToList();
        var names = call.Input.Strings("GroupNames").ToList();
        var groups = new List<SecurityGroup>();
        foreach (var id in ids)
        {
            groups.Add(
                region.Groups.GetValueOrDefault(id)
                    ?? throw Fail(
                        "InvalidGroup.NotFound",
                        $"The security group '{id}' does not exist"
                    )
            );
        }

        groups.AddRange(
            region.Groups.Values.Where(g =>
                ids.Count == 0 && (names.Count == 0 || names.Contains(g.Name))
            )
        );
        var filters = call
            .Input.Objects("Filters")
            .Select(f => (Name: f.Str("Name") ?? "", Values: f.Strings("Values").ToList()))
            .ToList();
        return Tree.Object(
            (
                "SecurityGroups",
                Tree.List(
                    groups
                        .Where(g =>
                            filters.All(f =>
                                Matches(
                                    f.Name,
                                    f.Values,
                                    f.Name switch
                                    {
                                        "group-id" => [g.Id],
                                        "group-name" => [g.Name],
                                        _ => throw Fail(
                                            "InvalidParameterValue",
                                            $"The filter '{f.Name}' is invalid"
                                        ),
                                    }
                                )
                            )
                        )
                        .Select(g =>
                            Tree.Object(
                                ("GroupId", g.Id),
                                ("GroupName", g.Name),
                                ("Description", g.Description),
                                ("OwnerId", g.Owner),
                                ("VpcId", "vpc-0000000000000000a"),
                                (
                                    "IpPermissions",
                                    new JsonArray([.. g.Ingress.Select(p => p.DeepClone())])
                                )
                            )
                        )
                )
            )
        );
    }

    private static JsonObject AuthorizeSecurityGroupIngress(AwsCall call, Region region)
    {
        var input = call.Input;
        var group = FindGroup(region, input.Str("GroupId"), input.Str("GroupName"));
        var permissions = input.Objects("IpPermissions").ToList();
        if (input.Str("IpProtocol") is { } protocol)
        {
            permissions.Add(
                Tree.Object(
                    ("IpProtocol", protocol),
                    ("FromPort", input.Long("FromPort")),
                    ("ToPort", input.Long("ToPort")),
                    (
                        "IpRanges",
                        input.Str("CidrIp") is { } cidr
                            ? Tree.List([Tree.Object(("CidrIp", cidr))])
                            : null
                    )
                )
            );
        }

        if (permissions.Count == 0)
        {
            throw Fail("MissingParameter", "No permissions given to authorize");
        }

        group.Ingress.AddRange(permissions.Select(p => p.DeepClone().AsObject()));
        return Tree.Object(("Return", true));
    }

    private static JsonObject DeleteSecurityGroup(AwsCall call, Region region)
    {
        var group = FindGroup(region, call.Input.Str("GroupId"), call.Input.Str("GroupName"));
        if (
            region.Instances.Values.Any(i => i.State != "terminated" && i.Groups.Contains(group.Id))
        )
        {
            throw Fail("DependencyViolation", $"resource {group.Id} has a dependent object", 400);
        }

        region.Groups.Remove(group.Id);
        return Tree.Object(("Return", true), ("GroupId", group.Id));
    }

    private static SecurityGroup FindGroup(Region region, string? id, string? name) =>
        (
            id is not null
                ? region.Groups.GetValueOrDefault(id)
                : region.Groups.Values.FirstOrDefault(g => g.Name == name)
        )
        ?? throw Fail("InvalidGroup.NotFound", $"The security group '{id ?? name}' does not exist");

    private JsonObject RunInstances(AwsCall call, Region region)
    {
        var input = call.Input;
        if (input.Long("MinCount") != 1 || input.Long("MaxCount") != 1)
        {
            throw Fail("InvalidParameterValue", "The fake runs one instance per call");
        }

        var imageId =
            input.Str("ImageId")
            ?? throw Fail("MissingParameter", "The request must contain the parameter ImageId");
        var image = FindImage(region, imageId, call.Caller.Account);
        if (image.State != "available")
        {
            throw Fail("InvalidAMIID.Unavailable", $"The image id '[{image.Id}]' is not available");
        }

        var keyName = input.Str("KeyName");
        var key = keyName is null
            ? null
            : region.KeyPairs.GetValueOrDefault(keyName)
                ?? throw Fail(
                    "InvalidKeyPair.NotFound",
                    $"The key pair '{keyName}' does not exist"
                );
        var groups = input.Strings("SecurityGroupIds").ToList();
        foreach (var id in groups.Where(id => !region.Groups.ContainsKey(id)))
        {
            throw Fail("InvalidGroup.NotFound", $"The security group '{id}' does not exist");
        }

        var instance = new Instance(
            "i-" + Fake.NewId(),
            image,
            input.Str("InstanceType") ?? "m1.small",
            keyName,
            groups,
            call.Caller.Account,
            Fake.Time.GetUtcNow()
        );
        // The root volume, made from the image's root snapshot.
        var volume = new Volume(
            "vol-" + Fake.NewId(),
            image.Snapshots.FirstOrDefault(),
            8,
            instance.Id
        );
        region.Volumes[volume.Id] = volume;
        instance.Volumes.Add(volume.Id);
        Tag(instance.Tags, TagsFor(input, "instance"));
        Tag(volume.Tags, TagsFor(input, "volume"));
        if (InstanceHost is { } host && image.Tree is { } tree && key is not null)
        {
            instance.Machine = host.Launch(instance.Id, tree, Fake.InstanceUser, key.PublicKey);
        }

        region.Instances[instance.Id] = instance;
        return ReservationOutput(instance);
    }

    private JsonObject ReservationOutput(Instance instance) =>
        Tree.Object(
            ("ReservationId", instance.Reservation),
            ("OwnerId", instance.Owner),
            ("Instances", Tree.List([InstanceOutput(instance)]))
        );

    private JsonObject DescribeInstances(AwsCall call, Region region)
    {
        var ids = call.Input.Strings("InstanceIds").ToList();
        var found = ids.Select(id => FindInstance(region, id)).ToList();
        var filters = call
            .Input.Objects("Filters")
            .Select(f => (Name: f.Str("Name") ?? "", Values: f.Strings("Values").ToList()))
            .ToList();
        var instances = (ids.Count > 0 ? found : [.. region.Instances.Values])
            .Where(i =>
                filters.All(f =>
                    Matches(
                        f.Name,
                        f.Values,
                        f.Name switch
                        {
                            "instance-id" => [i.Id],
                            "instance-state-name" => [i.State],
                            "image-id" => [i.Image.Id],
                            _ => throw Fail(
                                "InvalidParameterValue",
                                $"The filter '{f.Name}' is invalid"
                            ),
                        }
                    )
                )
            )
            .ToList();
        foreach (var instance in instances)
        {
            instance.Advance();
        }

        return Tree.Object(
            (
                "Reservations",
                Tree.List(
                    instances.Select(i =>
                        Tree.Object(
                            ("ReservationId", i.Reservation),
                            ("OwnerId", i.Owner),
                            ("Instances", Tree.List([InstanceOutput(i)]))
                        )
                    )
                )
            )
        );
    }

    private static JsonObject StopInstances(AwsCall call, Region region) =>
        Tree.Object(
            (
                "StoppingInstances",
                Tree.List(
                    call.Input.Strings("InstanceIds")
                        .Select(id => FindInstance(region, id))
                        .ToList()
                        .Select(i =>
                        {
                            var previous = i.State;
                            if (previous is "pending" or "running")
                            {
                                i.Machine?.Halt();
                                i.MoveTo("stopping", "stopped");
                            }

                            return StateChange(i, previous);
                        })
                )
            )
        );

    private static JsonObject TerminateInstances(AwsCall call, Region region) =>
        Tree.Object(
            (
                "TerminatingInstances",
                Tree.List(
                    call.Input.Strings("InstanceIds")
                        .Select(id => FindInstance(region, id))
                        .ToList()
                        .Select(i =>
                        {
                            var previous = i.State;
                            if (previous != "terminated")
                            {
                                i.Machine?.Terminate();
                                i.Machine = null;
                                i.MoveTo("shutting-down", "terminated");
                                foreach (var volume in i.Volumes)
                                {
                                    // The root volume is deleted on termination.
                                    region.Volumes.Remove(volume);
                                }
                            }

                            return StateChange(i, previous);
                        })
                )
            )
        );

    private static JsonObject StateChange(Instance instance, string previous) =>
        Tree.Object(
            ("InstanceId", instance.Id),
            ("CurrentState", StateOutput(instance.State)),
            ("PreviousState", StateOutput(previous))
        );

    private static JsonObject StateOutput(string state) =>
        Tree.Object(
            (
                "Code",
                state switch
                {
                    "pending" => 0,
                    "running" => 16,
                    "shutting-down" => 32,
                    "terminated" => 48,
                    "stopping" => 64,
                    _ => 80,
                }
            ),
            ("Name", state)
        );

    // An AMI of the instance: new snapshots of its volumes and, on a host, a copy of its tree.
    private JsonObject CreateImage(AwsCall call, Region region)
    {
        var input = call.Input;
        var instance = FindInstance(region, input.Str("InstanceId")!);
        if (instance.State is "terminated" or "shutting-down")
        {
            throw Fail(
                "IncorrectInstanceState",
                $"The instance '{instance.Id}' is not in a state from which it can be imaged."
            );
        }

        var name = CheckName(input.Str("Name")!, call.Caller.Account, region);
        var mappings = new JsonArray();
        var snapshots = new List<string>();
        foreach (var volumeId in instance.Volumes)
        {
            var from =
                instance.Image.Snapshots.FirstOrDefault() is { } source
                && region.Snapshots.TryGetValue(source, out var s)
                    ? s
                    : null;
            var snapshot = new Snapshot(
                "snap-" + Fake.NewId(),
                call.Caller.Account,
                from?.VolumeSize ?? 8,
                $"Created by CreateImage({instance.Id}) for {{0}} from {volumeId}",
                from?.Encrypted ?? false,
                from?.KmsKeyId,
                Fake.Time.GetUtcNow()
            );
            region.Snapshots[snapshot.Id] = snapshot;
            snapshots.Add(snapshot.Id);
            mappings.Add(
                Mapping(
                    instance.Image.RootDeviceName ?? "/dev/xvda",
                    snapshot,
                    snapshot.VolumeSize,
                    "gp3",
                    true,
                    null,
                    null
                )
            );
        }

        var image = new Image(
            "ami-" + Fake.NewId(),
            name,
            call.Caller.Account,
            Fake.Time.GetUtcNow(),
            Fake.Options.DescribesUntilAvailable
        )
        {
            Description = input.Str("Description"),
            Architecture = instance.Image.Architecture,
            BootMode = instance.Image.BootMode,
            EnaSupport = instance.Image.EnaSupport,
            RootDeviceName = instance.Image.RootDeviceName,
            VirtualizationType = instance.Image.VirtualizationType,
            Mappings = mappings,
            Snapshots = snapshots,
            SourceImageId = instance.Image.Id,
            SourceImageRegion = call.Region,
        };
        image.Tree = instance.Machine?.Snapshot(image.Id) ?? instance.Image.Tree;
        foreach (var id in snapshots)
        {
            region.Snapshots[id].Description = region
                .Snapshots[id]
                .Description.Replace("{0}", image.Id, StringComparison.Ordinal);
        }

        Tag(image.Tags, TagsFor(input, "image"));
        region.Images[image.Id] = image;
        return Tree.Object(("ImageId", image.Id));
    }

    private static JsonObject DescribeVolumes(AwsCall call, Region region)
    {
        var ids = call.Input.Strings("VolumeIds").ToList();
        var found = ids.Select(id =>
                region.Volumes.GetValueOrDefault(id)
                ?? throw Fail("InvalidVolume.NotFound", $"The volume '{id}' does not exist.")
            )
            .ToList();
        var filters = call
            .Input.Objects("Filters")
            .Select(f => (Name: f.Str("Name") ?? "", Values: f.Strings("Values").ToList()))
            .ToList();
        var volumes = (ids.Count > 0 ? found : [.. region.Volumes.Values]).Where(v =>
            filters.All(f =>
                Matches(
                    f.Name,
                    f.Values,
                    f.Name switch
                    {
                        "volume-id" => [v.Id],
                        "attachment.instance-id" => [v.Instance],
                        "status" => ["in-use"],
                        _ => throw Fail(
                            "InvalidParameterValue",
                            $"The filter '{f.Name}' is invalid"
                        ),
                    }
                )
            )
        );
        return Tree.Object(
            (
                "Volumes",
                Tree.List(
                    volumes.Select(v =>
                        Tree.Object(
                            ("VolumeId", v.Id),
                            ("Size", v.Size),
                            ("SnapshotId", v.SnapshotId),
                            ("AvailabilityZone", $"{call.Region}a"),
                            ("State", "in-use"),
                            ("VolumeType", "gp3"),
                            ("Encrypted", false),
                            ("Tags", v.Tags.Count > 0 ? Tree.Tags(v.Tags) : null),
                            (
                                "Attachments",
                                Tree.List([
                                    Tree.Object(
                                        ("VolumeId", v.Id),
                                        ("InstanceId", v.Instance),
                                        ("Device", "/dev/xvda"),
                                        ("State", "attached"),
                                        ("DeleteOnTermination", true)
                                    ),
                                ])
                            )
                        )
                    )
                )
            )
        );
    }

    private JsonObject InstanceOutput(Instance i)
    {
        var address = i.State == "running" ? i.Machine?.Address ?? "127.0.0.1" : null;
        return Tree.Object(
            ("InstanceId", i.Id),
            ("ImageId", i.Image.Id),
            ("State", StateOutput(i.State)),
            ("PrivateDnsName", address is null ? "" : "ip-127-0-0-1.ec2.internal"),
            ("PublicDnsName", ""),
            ("KeyName", i.KeyName),
            ("AmiLaunchIndex", 0),
            ("InstanceType", i.Type),
            (
                "LaunchTime",
                i.Launched.UtcDateTime.ToString(
                    "yyyy-MM-dd'T'HH:mm:ss.fff'Z'",
                    CultureInfo.InvariantCulture
                )
            ),
            ("Placement", Tree.Object(("AvailabilityZone", $"{RegionNameOf(i)}a"))),
            ("PrivateIpAddress", address),
            ("PublicIpAddress", address),
            // In a VPC Packer connects to the public address (outside one, only to a public DNS name).
            ("VpcId", "vpc-0000000000000000a"),
            ("SubnetId", "subnet-0000000000000000a"),
            ("Architecture", i.Image.Architecture),
            ("RootDeviceName", i.Image.RootDeviceName ?? "/dev/xvda"),
            ("RootDeviceType", "ebs"),
            ("VirtualizationType", i.Image.VirtualizationType),
            ("Hypervisor", "xen"),
            ("SecurityGroups", Tree.List(i.Groups.Select(g => Tree.Object(("GroupId", g))))),
            (
                "BlockDeviceMappings",
                Tree.List(
                    i.Volumes.Select(v =>
                        Tree.Object(
                            ("DeviceName", i.Image.RootDeviceName ?? "/dev/xvda"),
                            (
                                "Ebs",
                                Tree.Object(
                                    ("VolumeId", v),
                                    ("Status", "attached"),
                                    ("DeleteOnTermination", true)
                                )
                            )
                        )
                    )
                )
            ),
            ("Tags", i.Tags.Count > 0 ? Tree.Tags(i.Tags) : null)
        );
    }

    private string RegionNameOf(Instance instance) =>
        _regions.First(r => r.Value.Instances.ContainsKey(instance.Id)).Key;

    private static Instance FindInstance(Region region, string id) =>
        region.Instances.GetValueOrDefault(id)
        ?? throw Fail("InvalidInstanceID.NotFound", $"The instance ID '{id}' does not exist");

    // ssh-rsa <base64 of string "ssh-rsa", mpint e, mpint n> (RFC 4253).
    private static string OpenSshRsa(RSAParameters parameters)
    {
        using var blob = new MemoryStream();
        Write(blob, Encoding.ASCII.GetBytes("ssh-rsa"));
        Write(blob, Mpint(parameters.Exponent!));
        Write(blob, Mpint(parameters.Modulus!));
        return "ssh-rsa " + Convert.ToBase64String(blob.ToArray()) + " imageforge-fake";

        static byte[] Mpint(byte[] value) => value[0] >= 0x80 ? [0, .. value] : value;

        static void Write(MemoryStream stream, byte[] bytes)
        {
            var length = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            stream.Write(length);
            stream.Write(bytes);
        }
    }

    private sealed record KeyPair(string Id, string Name, string PublicKey, string Fingerprint);

    private sealed class SecurityGroup(string id, string name, string description, string owner)
    {
        public string Id { get; } = id;

        public string Name { get; } = name;

        public string Description { get; } = description;

        public string Owner { get; } = owner;

        public List<JsonObject> Ingress { get; } = [];
    }

    private sealed class Volume(string id, string? snapshotId, int size, string instance)
    {
        public string Id { get; } = id;

        public string? SnapshotId { get; } = snapshotId;

        public int Size { get; } = size;

        public string Instance { get; } = instance;

        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Instance(
        string id,
        Image image,
        string type,
        string? keyName,
        List<string> groups,
        string owner,
        DateTimeOffset launched
    )
    {
        // A state in transition is seen this many more times by DescribeInstances before it settles: the answer to
        // the call itself shows it (pending, stopping, shutting-down), the next describe the settled state, so that
        // Packer's waiters (15 s between polls) do not wait.
        private const int DescribesPerTransition = 0;

        private string? _next = "running";
        private int _describes = DescribesPerTransition;

        public string Id { get; } = id;

        public string Reservation { get; } = "r-" + id[2..];

        public Image Image { get; } = image;

        public string Type { get; } = type;

        public string? KeyName { get; } = keyName;

        public List<string> Groups { get; } = groups;

        public string Owner { get; } = owner;

        public DateTimeOffset Launched { get; } = launched;

        public string State { get; private set; } = "pending";

        public List<string> Volumes { get; } = [];

        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

        public IEc2Machine? Machine { get; set; }

        public void MoveTo(string transition, string settled)
        {
            State = transition;
            _next = settled;
            _describes = DescribesPerTransition;
        }

        public void Advance()
        {
            if (_next is not null && --_describes < 0)
            {
                State = _next;
                _next = null;
            }
        }
    }
}
