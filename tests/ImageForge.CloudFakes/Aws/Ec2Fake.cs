using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ImageForge.CloudFakes.Aws;

/// <summary>
/// EC2's image lifecycle: ImportSnapshot tasks that read the S3 object, snapshots, images (pending, available,
/// disabled), CopyImage across regions, launch and create-volume permissions, deprecation, deregistration, tags, and
/// ClientToken idempotency. State is per region; visibility follows ownership and permissions.
/// </summary>
internal sealed partial class Ec2Fake(AwsFake fake) : AwsServiceFake(fake, "aws-ec2", "ec2")
{
    private readonly Dictionary<string, Region> _regions = new(StringComparer.Ordinal);

    public override IAwsProtocol Protocol => field ??= new QueryProtocol(Model);

    public override AwsException Error(Failure failure, string detail) =>
        failure switch
        {
            Failure.UnknownOperation => new(
                400,
                "InvalidAction",
                $"The action {detail} is not valid for this web service."
            ),
            Failure.UnknownMember => new(
                400,
                "UnknownParameter",
                $"The parameter {detail.Split(':')[0]} is not recognized"
            ),
            Failure.MissingMember => new(
                400,
                "MissingParameter",
                $"The request must contain the parameter {detail.Split(':')[0]}"
            ),
            Failure.WrongType or Failure.InvalidValue => new(
                400,
                "InvalidParameterValue",
                $"Invalid value for parameter {detail}"
            ),
            Failure.MissingAuthentication => new(
                401,
                "MissingAuthenticationToken",
                "The request must contain either a valid (registered) AWS access key ID or X.509 certificate."
            ),
            Failure.UnknownAccessKey => new(
                401,
                "AuthFailure",
                "AWS was not able to validate the provided access credentials"
            ),
            Failure.BadSignature => new(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided."
            ),
            Failure.ExpiredToken => new(400, "RequestExpired", "Request has expired."),
            Failure.Throttled => new(503, "RequestLimitExceeded", "Request limit exceeded."),
            _ => new(503, "Unavailable", "The server is overloaded and can't handle the request."),
        };

    /// <summary>Whether <paramref name="account"/> can launch the available image <paramref name="imageId"/> (what SSM checks).</summary>
    internal bool CanLaunch(string regionName, string imageId, string account)
    {
        lock (Gate)
        {
            return _regions.TryGetValue(regionName, out var region)
                && region.Images.TryGetValue(imageId, out var image)
                && image.State == "available"
                && Visible(image, account);
        }
    }

    public override Task<AwsResult> ExecuteAsync(AwsCall call)
    {
        lock (Gate)
        {
            var region = RegionOf(call.Region);
            var token = call.Input.Str("ClientToken");
            if (
                token is not null
                && region.Tokens.TryGetValue((call.Caller.Account, token), out var earlier)
            )
            {
                // AWS answers a repeated token with the first result; other parameters under the same token are refused.
                return Task.FromResult(
                    earlier.Fingerprint == Fingerprint(call)
                        ? Result(earlier.Output)
                        : throw Fail(
                            "IdempotentParameterMismatch",
                            $"Client token '{token}' was used with different parameters."
                        )
                );
            }

            var output = Execute(call, region);
            if (token is not null)
            {
                region.Tokens[(call.Caller.Account, token)] = (Fingerprint(call), output);
            }

            return Task.FromResult(Result(output));
        }
    }

    private JsonObject Execute(AwsCall call, Region region)
    {
        var input = call.Input;
        if (input.Bool("DryRun") == true)
        {
            throw Fail(
                "DryRunOperation",
                "Request would have succeeded, but DryRun flag is set.",
                412
            );
        }

        return call.Operation.Name switch
        {
            "ImportSnapshot" => ImportSnapshot(call, region),
            "DescribeImportSnapshotTasks" => DescribeImportSnapshotTasks(call, region),
            "RegisterImage" => RegisterImage(call, region),
            "CopyImage" => CopyImage(call, region),
            "DescribeImages" => DescribeImages(call, region),
            "CreateTags" => ChangeTags(call, region, add: true),
            "DeleteTags" => ChangeTags(call, region, add: false),
            "ModifyImageAttribute" => ModifyImageAttribute(call, region),
            "DescribeImageAttribute" => DescribeImageAttribute(call, region),
            "EnableImageDeprecation" => SetDeprecation(call, region, input.Time("DeprecateAt")),
            "DisableImageDeprecation" => SetDeprecation(call, region, null),
            "DisableImage" => SetEnabled(call, region, enabled: false),
            "EnableImage" => SetEnabled(call, region, enabled: true),
            "DeregisterImage" => DeregisterImage(call, region),
            "DescribeSnapshots" => DescribeSnapshots(call, region),
            "DeleteSnapshot" => DeleteSnapshot(call, region),
            "ModifySnapshotAttribute" => ModifySnapshotAttribute(call, region),
            "DescribeSnapshotAttribute" => DescribeSnapshotAttribute(call, region),
            _ => ExecuteInstanceCall(call, region) ?? throw NotServed(call),
        };
    }

    private JsonObject ImportSnapshot(AwsCall call, Region region)
    {
        var input = call.Input;
        var disk =
            input.Obj("DiskContainer")
            ?? throw Fail(
                "MissingParameter",
                "The request must contain the parameter DiskContainer"
            );
        var format = disk.Str("Format")?.ToUpperInvariant();
        if (format is not ("RAW" or "VHD" or "VHDX" or "VMDK"))
        {
            throw Fail(
                "InvalidParameter",
                $"Unsupported disk format '{disk.Str("Format")}'. Valid formats: RAW, VHD, VHDX, VMDK"
            );
        }

        var bucket = disk.Obj("UserBucket");
        if (bucket?.Str("S3Bucket") is null || bucket.Str("S3Key") is null)
        {
            throw Fail(
                "InvalidParameter",
                "DiskContainer.UserBucket must name an S3Bucket and an S3Key"
            );
        }

        var (encrypted, kmsKeyId) = Encryption(
            call,
            input.Bool("Encrypted"),
            input.Str("KmsKeyId")
        );
        var task = new ImportTask(
            "import-snap-" + Fake.NewId(),
            input.Str("Description"),
            bucket.Str("S3Bucket")!,
            bucket.Str("S3Key")!,
            format,
            encrypted,
            kmsKeyId,
            call.Caller.Account,
            TagsFor(input, "import-snapshot-task")
        );
        region.Tasks[task.Id] = task;
        return TaskOutput(task);
    }

    private JsonObject DescribeImportSnapshotTasks(AwsCall call, Region region)
    {
        var ids = call.Input.Strings("ImportTaskIds").ToList();
        foreach (var id in ids.Where(id => !region.Tasks.ContainsKey(id)))
        {
            throw Fail(
                "InvalidConversionTaskId.Malformed",
                $"The import task id '{id}' does not exist."
            );
        }

        var tasks = region
            .Tasks.Values.Where(t =>
                t.Owner == call.Caller.Account && (ids.Count == 0 || ids.Contains(t.Id))
            )
            .ToList();
        foreach (var task in tasks)
        {
            Advance(task, call.Region, region);
        }

        return Tree.Object(("ImportSnapshotTasks", Tree.List(tasks.Select(TaskOutput))));
    }

    /// <summary>One poll of an import: the S3 object is read at the first, the snapshot made at the last.</summary>
    private void Advance(ImportTask task, string regionName, Region region)
    {
        if (task.Status != "active")
        {
            return;
        }

        task.Polls++;
        if (task.Polls == 1)
        {
            var size = Fake.S3.ObjectSize(regionName, task.Bucket, task.Key);
            var problem = size switch
            {
                null =>
                    $"ClientError: Disk validation failed [We do not have access to the given resource. Reason 403 Forbidden or the object s3://{task.Bucket}/{task.Key} does not exist]",
                0 => "ClientError: Disk validation failed [Unsupported specified file format]",
                _ when task.Format == "RAW" && size % 512 != 0 =>
                    "ClientError: Disk validation failed [Invalid RAW disk size: not a multiple of 512 bytes]",
                _ => null,
            };
            if (problem is not null)
            {
                (task.Status, task.StatusMessage, task.Progress) = ("deleted", problem, null);
                return;
            }

            task.DiskImageSize = size!.Value;
        }

        var total = Fake.Options.ImportPollsUntilCompleted;
        if (task.Polls >= total)
        {
            var snapshot = new Snapshot(
                "snap-" + Fake.NewId(),
                task.Owner,
                (int)Math.Max(1, (task.DiskImageSize + (1L << 30) - 1) >> 30),
                $"Created by AWS-VMImport service for {task.Id}",
                task.Encrypted,
                task.KmsKeyId,
                Fake.Time.GetUtcNow()
            );
            region.Snapshots[snapshot.Id] = snapshot;
            (task.Status, task.StatusMessage, task.Progress, task.SnapshotId) = (
                "completed",
                null,
                null,
                snapshot.Id
            );
            return;
        }

        var steps = new[] { "validating", "validated", "converting", "preparing snapshot" };
        task.StatusMessage = steps[Math.Min(steps.Length - 1, task.Polls * steps.Length / total)];
        task.Progress = (task.Polls * 100 / total).ToString(CultureInfo.InvariantCulture);
    }

    private static JsonObject TaskOutput(ImportTask task) =>
        Tree.Object(
            ("Description", task.Description),
            ("ImportTaskId", task.Id),
            (
                "SnapshotTaskDetail",
                Tree.Object(
                    ("Description", task.Description),
                    ("DiskImageSize", task.DiskImageSize > 0 ? (double)task.DiskImageSize : null),
                    ("Encrypted", task.Encrypted),
                    ("Format", task.Format),
                    ("KmsKeyId", task.KmsKeyId),
                    ("Progress", task.Progress),
                    ("SnapshotId", task.SnapshotId),
                    ("Status", task.Status),
                    ("StatusMessage", task.StatusMessage),
                    ("UserBucket", Tree.Object(("S3Bucket", task.Bucket), ("S3Key", task.Key)))
                )
            ),
            ("Tags", task.Tags.Count > 0 ? Tree.Tags(task.Tags) : null)
        );

    private JsonObject RegisterImage(AwsCall call, Region region)
    {
        var input = call.Input;
        var name = CheckName(input.Str("Name")!, call.Caller.Account, region);
        var rootDevice =
            input.Str("RootDeviceName")
            ?? throw Fail(
                "MissingParameter",
                "The request must contain the parameter rootDeviceName"
            );
        var mappings = new JsonArray();
        var snapshots = new List<string>();
        foreach (var mapping in input.Objects("BlockDeviceMappings"))
        {
            var ebs = mapping.Obj("Ebs");
            if (ebs?.Str("SnapshotId") is not { } snapshotId)
            {
                mappings.Add(mapping.DeepClone());
                continue;
            }

            var snapshot = region.Snapshots.GetValueOrDefault(snapshotId);
            if (snapshot is null || !CanUse(snapshot, call.Caller.Account))
            {
                throw Fail(
                    "InvalidSnapshot.NotFound",
                    $"The snapshot '{snapshotId}' does not exist."
                );
            }

            var size = ebs.Long("VolumeSize") ?? snapshot.VolumeSize;
            if (size < snapshot.VolumeSize)
            {
                throw Fail(
                    "InvalidBlockDeviceMapping",
                    $"Volume of size {size}GB is smaller than snapshot '{snapshotId}', expect size >= {snapshot.VolumeSize}GB"
                );
            }

            snapshots.Add(snapshotId);
            mappings.Add(
                Mapping(
                    mapping.Str("DeviceName")!,
                    snapshot,
                    size,
                    ebs.Str("VolumeType") ?? "gp2",
                    ebs.Bool("DeleteOnTermination") ?? true,
                    ebs.Long("Iops"),
                    ebs.Long("Throughput")
                )
            );
        }

        if (
            !mappings.OfType<JsonObject>().Any(m => m.Str("DeviceName") == rootDevice)
            || snapshots.Count == 0
        )
        {
            throw Fail(
                "InvalidBlockDeviceMapping",
                $"The root device name {rootDevice} must be mapped to an EBS snapshot."
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
            Architecture = input.Str("Architecture") ?? "i386",
            BootMode = input.Str("BootMode"),
            EnaSupport = input.Bool("EnaSupport"),
            ImdsSupport = input.Str("ImdsSupport"),
            TpmSupport = input.Str("TpmSupport"),
            RootDeviceName = rootDevice,
            VirtualizationType = input.Str("VirtualizationType") ?? "paravirtual",
            Mappings = mappings,
            Snapshots = snapshots,
        };
        if (image.ImdsSupport is { } imds && imds != "v2.0")
        {
            throw Fail(
                "InvalidParameterValue",
                $"Value ({imds}) for parameter ImdsSupport is invalid. Supported value: v2.0"
            );
        }

        Tag(image.Tags, TagsFor(input, "image"));
        foreach (var id in snapshots)
        {
            Tag(region.Snapshots[id].Tags, TagsFor(input, "snapshot"));
        }

        region.Images[image.Id] = image;
        return Tree.Object(("ImageId", image.Id));
    }

    private JsonObject CopyImage(AwsCall call, Region region)
    {
        var input = call.Input;
        var sourceRegionName = input.Str("SourceRegion")!;
        if (!RegionPattern().IsMatch(sourceRegionName))
        {
            throw Fail("InvalidParameterValue", $"Invalid region: {sourceRegionName}");
        }

        var sourceRegion = RegionOf(sourceRegionName);
        var source = FindImage(sourceRegion, input.Str("SourceImageId")!, call.Caller.Account);
        if (source.State != "available")
        {
            throw Fail(
                "InvalidAMIID.Unavailable",
                $"The image id '[{source.Id}]' is not available (state: {source.State})."
            );
        }

        var name = CheckName(input.Str("Name")!, call.Caller.Account, region);
        var (encrypted, kmsKeyId) = Encryption(
            call,
            input.Bool("Encrypted"),
            input.Str("KmsKeyId")
        );
        var mappings = new JsonArray();
        var snapshots = new List<string>();
        foreach (var mapping in source.Mappings.OfType<JsonObject>())
        {
            if (mapping.Obj("Ebs")?.Str("SnapshotId") is not { } sourceSnapshotId)
            {
                mappings.Add(mapping.DeepClone());
                continue;
            }

            var from = sourceRegion.Snapshots[sourceSnapshotId];
            var copyEncrypted = encrypted || from.Encrypted;
            var copy = new Snapshot(
                "snap-" + Fake.NewId(),
                call.Caller.Account,
                from.VolumeSize,
                $"Copied for DestinationAmi {{0}} from SourceAmi {source.Id} for SourceSnapshot {from.Id}. Task created on {Fake.Time.GetUtcNow():yyyy-MM-dd}.",
                copyEncrypted,
                kmsKeyId ?? (copyEncrypted ? from.KmsKeyId ?? DefaultKey(call) : null),
                Fake.Time.GetUtcNow()
            );
            region.Snapshots[copy.Id] = copy;
            snapshots.Add(copy.Id);
            var ebs = mapping.Obj("Ebs")!;
            mappings.Add(
                Mapping(
                    mapping.Str("DeviceName")!,
                    copy,
                    ebs.Long("VolumeSize") ?? copy.VolumeSize,
                    ebs.Str("VolumeType") ?? "gp2",
                    ebs.Bool("DeleteOnTermination") ?? true,
                    ebs.Long("Iops"),
                    ebs.Long("Throughput")
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
            Description = input.Str("Description") ?? source.Description,
            Architecture = source.Architecture,
            BootMode = source.BootMode,
            EnaSupport = source.EnaSupport,
            ImdsSupport = source.ImdsSupport,
            TpmSupport = source.TpmSupport,
            RootDeviceName = source.RootDeviceName,
            VirtualizationType = source.VirtualizationType,
            Mappings = mappings,
            Snapshots = snapshots,
            SourceImageId = source.Id,
            SourceImageRegion = sourceRegionName,
            HiddenCalls = Fake.Faults.HiddenCopyCalls,
        };
        foreach (var id in snapshots)
        {
            region.Snapshots[id].Description = region
                .Snapshots[id]
                .Description.Replace("{0}", image.Id, StringComparison.Ordinal);
        }

        if (input.Bool("CopyImageTags") == true)
        {
            Tag(image.Tags, source.Tags);
        }

        Tag(image.Tags, TagsFor(input, "image"));
        region.Images[image.Id] = image;
        return Tree.Object(("ImageId", image.Id));
    }

    private static JsonObject DescribeImages(AwsCall call, Region region)
    {
        var input = call.Input;
        var account = call.Caller.Account;
        var ids = input.Strings("ImageIds").ToList();
        var found = ids.Select(id => FindImage(region, id, account)).ToList();
        var owners = input.Strings("Owners").Select(o => o == "self" ? account : o).ToList();
        var executable = input
            .Strings("ExecutableUsers")
            .Select(o => o == "self" ? account : o)
            .ToList();
        var filters = input
            .Objects("Filters")
            .Select(f => (Name: f.Str("Name") ?? "", Values: f.Strings("Values").ToList()))
            .ToList();
        var images = (
            ids.Count > 0
                ? found
                : region.Images.Values.Where(i => Visible(i, account) && !Hidden(i))
        )
            .Where(i => owners.Count == 0 || owners.Contains(i.Owner))
            .Where(i =>
                executable.Count == 0
                || executable.Any(e =>
                    i.LaunchPermissions.Any(p => p.Str("UserId") == e || p.Str("Group") == "all")
                )
            )
            .Where(i =>
                ids.Count > 0 || i.State != "disabled" || input.Bool("IncludeDisabled") == true
            )
            .Where(i => filters.All(f => Matches(f.Name, f.Values, ImageFilter(i, f.Name))))
            .ToList();
        foreach (var image in images.Where(i => i.State == "pending"))
        {
            if (--image.PendingDescribes < 0)
            {
                image.State = "available";
            }
        }

        return Tree.Object(("Images", Tree.List(images.Select(ImageOutput))));
    }

    private static IEnumerable<string?> ImageFilter(Image image, string filter) =>
        filter switch
        {
            "name" => [image.Name],
            "image-id" => [image.Id],
            "state" => [image.State],
            "owner-id" => [image.Owner],
            "architecture" => [image.Architecture],
            "virtualization-type" => [image.VirtualizationType],
            "root-device-type" => ["ebs"],
            "is-public" =>
            [
                image.LaunchPermissions.Any(p => p.Str("Group") == "all") ? "true" : "false",
            ],
            "tag-key" => image.Tags.Keys,
            _ when filter.StartsWith("tag:", StringComparison.Ordinal) =>
            [
                image.Tags.GetValueOrDefault(filter[4..]),
            ],
            _ => throw Fail("InvalidParameterValue", $"The filter '{filter}' is invalid"),
        };

    private static JsonObject ImageOutput(Image image) =>
        Tree.Object(
            ("Architecture", image.Architecture),
            (
                "CreationDate",
                image.Created.UtcDateTime.ToString(
                    "yyyy-MM-dd'T'HH:mm:ss.fff'Z'",
                    CultureInfo.InvariantCulture
                )
            ),
            ("ImageId", image.Id),
            ("ImageLocation", $"{image.Owner}/{image.Name}"),
            ("ImageType", "machine"),
            ("Public", image.LaunchPermissions.Any(p => p.Str("Group") == "all")),
            ("OwnerId", image.Owner),
            ("PlatformDetails", "Linux/UNIX"),
            ("UsageOperation", "RunInstances"),
            ("State", image.State),
            ("BlockDeviceMappings", image.Mappings),
            ("Description", image.Description),
            ("EnaSupport", image.EnaSupport),
            ("Hypervisor", "xen"),
            ("Name", image.Name),
            ("RootDeviceName", image.RootDeviceName),
            ("RootDeviceType", "ebs"),
            ("Tags", image.Tags.Count > 0 ? Tree.Tags(image.Tags) : null),
            ("VirtualizationType", image.VirtualizationType),
            ("BootMode", image.BootMode),
            ("TpmSupport", image.TpmSupport),
            ("ImdsSupport", image.ImdsSupport),
            (
                "DeprecationTime",
                image.DeprecationTime?.UtcDateTime.ToString(
                    "yyyy-MM-dd'T'HH:mm:ss.fff'Z'",
                    CultureInfo.InvariantCulture
                )
            ),
            ("SourceImageId", image.SourceImageId),
            ("SourceImageRegion", image.SourceImageRegion)
        );

    private static JsonObject ChangeTags(AwsCall call, Region region, bool add)
    {
        var tags = call.Input.Objects("Tags").ToList();
        if (
            add
            && tags.Any(t =>
                t.Str("Key")?.StartsWith("aws:", StringComparison.OrdinalIgnoreCase) == true
            )
        )
        {
            throw Fail(
                "InvalidParameterValue",
                "Tag keys starting with 'aws:' are reserved for internal use"
            );
        }

        var targets = call
            .Input.Strings("Resources")
            .Select(id => TagsOf(region, id, call.Caller.Account))
            .ToList();
        foreach (var target in targets)
        {
            foreach (var tag in tags)
            {
                var key = tag.Str("Key")!;
                if (add)
                {
                    target[key] = tag.Str("Value") ?? "";
                }
                else if (
                    tag.Str("Value") is not { } value
                    || target.GetValueOrDefault(key) == value
                )
                {
                    target.Remove(key);
                }
            }
        }

        return [];
    }

    private static Dictionary<string, string> TagsOf(Region region, string id, string account) =>
        id.Split('-')[0] switch
        {
            "ami" => Owned(FindImage(region, id, account), account).Tags,
            "snap" => FindSnapshot(region, id, account, owned: true).Tags,
            "import" when region.Tasks.TryGetValue(id, out var task) && task.Owner == account =>
                task.Tags,
            "i" => FindInstance(region, id).Tags,
            "vol" when region.Volumes.TryGetValue(id, out var volume) => volume.Tags,
            _ => throw Fail("InvalidID", $"The ID '{id}' is not valid"),
        };

    private static JsonObject ModifyImageAttribute(AwsCall call, Region region)
    {
        var input = call.Input;
        var image = Owned(
            FindImage(region, input.Str("ImageId")!, call.Caller.Account),
            call.Caller.Account
        );
        var attribute = input.Str("Attribute");
        var description =
            input.Obj("Description")?.Str("Value")
            ?? (attribute == "description" ? input.Str("Value") : null);
        if (description is not null)
        {
            image.Description = description;
            return [];
        }

        if (input.Obj("ImdsSupport")?.Str("Value") is { } imds)
        {
            image.ImdsSupport =
                imds == "v2.0"
                    ? imds
                    : throw Fail(
                        "InvalidParameterValue",
                        $"Value ({imds}) for parameter ImdsSupport is invalid."
                    );
            return [];
        }

        var add = input.Obj("LaunchPermission")?.Objects("Add").ToList() ?? [];
        var remove = input.Obj("LaunchPermission")?.Objects("Remove").ToList() ?? [];
        if (attribute is "launchPermission" || (attribute is null && add.Count + remove.Count == 0))
        {
            var listed = input
                .Strings("UserIds")
                .Select(u => Tree.Object(("UserId", u)))
                .Concat(input.Strings("UserGroups").Select(g => Tree.Object(("Group", g))))
                .Concat(
                    input
                        .Strings("OrganizationArns")
                        .Select(a => Tree.Object(("OrganizationArn", a)))
                )
                .Concat(
                    input
                        .Strings("OrganizationalUnitArns")
                        .Select(a => Tree.Object(("OrganizationalUnitArn", a)))
                )
                .ToList();
            (input.Str("OperationType") == "remove" ? remove : add).AddRange(listed);
        }

        if (add.Count + remove.Count == 0)
        {
            throw Fail(
                "MissingParameter",
                "The request must contain the parameter LaunchPermission, Description or ImdsSupport"
            );
        }

        foreach (var permission in add.Concat(remove))
        {
            CheckPermission(permission);
        }

        image.LaunchPermissions.AddRange(
            add.Where(p => !image.LaunchPermissions.Any(q => SamePermission(p, q)))
        );
        image.LaunchPermissions.RemoveAll(q => remove.Any(p => SamePermission(p, q)));
        return [];
    }

    private static void CheckPermission(JsonObject permission)
    {
        if (permission.Str("UserId") is { } user && !AccountPattern().IsMatch(user))
        {
            throw Fail(
                "InvalidAMIAttributeItemValue",
                $"Invalid attribute item value \"{user}\" for userId item type."
            );
        }

        if (permission.Str("OrganizationArn") is { } org && !OrganizationPattern().IsMatch(org))
        {
            throw Fail("InvalidParameterValue", $"The organization ARN '{org}' is not valid.");
        }

        if (
            permission.Str("OrganizationalUnitArn") is { } ou
            && !OrganizationalUnitPattern().IsMatch(ou)
        )
        {
            throw Fail(
                "InvalidParameterValue",
                $"The organizational unit ARN '{ou}' is not valid."
            );
        }
    }

    private static bool SamePermission(JsonObject a, JsonObject b) => JsonNode.DeepEquals(a, b);

    private static JsonObject DescribeImageAttribute(AwsCall call, Region region)
    {
        var image = Owned(
            FindImage(region, call.Input.Str("ImageId")!, call.Caller.Account),
            call.Caller.Account
        );
        static JsonObject Value(string? value) => Tree.Object(("Value", value));
        return call.Input.Str("Attribute") switch
        {
            "launchPermission" => Tree.Object(
                ("ImageId", image.Id),
                ("LaunchPermissions", Tree.List(image.LaunchPermissions))
            ),
            "description" => Tree.Object(
                ("ImageId", image.Id),
                ("Description", Value(image.Description))
            ),
            "bootMode" => Tree.Object(("ImageId", image.Id), ("BootMode", Value(image.BootMode))),
            "imdsSupport" => Tree.Object(
                ("ImageId", image.Id),
                ("ImdsSupport", Value(image.ImdsSupport))
            ),
            "tpmSupport" => Tree.Object(
                ("ImageId", image.Id),
                ("TpmSupport", Value(image.TpmSupport))
            ),
            "blockDeviceMapping" => Tree.Object(
                ("ImageId", image.Id),
                ("BlockDeviceMappings", image.Mappings)
            ),
            var other => throw Fail(
                "InvalidParameterValue",
                $"The attribute {other} is not served by the fake"
            ),
        };
    }

    private JsonObject SetDeprecation(AwsCall call, Region region, DateTimeOffset? at)
    {
        var image = Owned(
            FindImage(region, call.Input.Str("ImageId")!, call.Caller.Account),
            call.Caller.Account
        );
        if (at is { } time && time <= Fake.Time.GetUtcNow())
        {
            throw Fail("InvalidParameterValue", "The deprecation time must be in the future.");
        }

        // EC2 keeps deprecation times to the minute (it rounds seconds away).
        image.DeprecationTime = at is { } t
            ? new DateTimeOffset(t.Ticks - (t.Ticks % TimeSpan.TicksPerMinute), TimeSpan.Zero)
            : null;
        return Tree.Object(("Return", true));
    }

    private static JsonObject SetEnabled(AwsCall call, Region region, bool enabled)
    {
        var image = Owned(
            FindImage(region, call.Input.Str("ImageId")!, call.Caller.Account),
            call.Caller.Account
        );
        var expected = enabled ? "disabled" : "available";
        if (image.State != expected)
        {
            throw Fail(
                "IncorrectState",
                $"The image '{image.Id}' is {image.State}; it must be {expected}."
            );
        }

        image.State = enabled ? "available" : "disabled";
        image.LaunchPermissions.Clear(); // disabling an AMI removes its launch permissions, as AWS does
        return Tree.Object(("Return", true));
    }

    private static JsonObject DeregisterImage(AwsCall call, Region region)
    {
        var image = Owned(
            FindImage(region, call.Input.Str("ImageId")!, call.Caller.Account),
            call.Caller.Account
        );
        region.Images.Remove(image.Id);
        if (call.Input.Bool("DeleteAssociatedSnapshots") != true)
        {
            return Tree.Object(("Return", true));
        }

        var results = new List<JsonObject>();
        foreach (var id in image.Snapshots)
        {
            var inUse = region.Images.Values.Any(i => i.Snapshots.Contains(id));
            if (!inUse)
            {
                region.Snapshots.Remove(id);
            }

            results.Add(
                Tree.Object(("SnapshotId", id), ("ReturnCode", inUse ? "skipped" : "success"))
            );
        }

        return Tree.Object(("Return", true), ("DeleteSnapshotResults", Tree.List(results)));
    }

    private static JsonObject DescribeSnapshots(AwsCall call, Region region)
    {
        var input = call.Input;
        var account = call.Caller.Account;
        var ids = input.Strings("SnapshotIds").ToList();
        var owners = input.Strings("OwnerIds").Select(o => o == "self" ? account : o).ToList();
        var restorable = input
            .Strings("RestorableByUserIds")
            .Select(o => o == "self" ? account : o)
            .ToList();
        var filters = input
            .Objects("Filters")
            .Select(f => (Name: f.Str("Name") ?? "", Values: f.Strings("Values").ToList()))
            .ToList();
        var snapshots = (
            ids.Count > 0
                ? ids.Select(id => FindSnapshot(region, id, account, owned: false))
                : region.Snapshots.Values.Where(s => CanUse(s, account))
        )
            .Where(s => owners.Count == 0 || owners.Contains(s.Owner))
            .Where(s =>
                restorable.Count == 0
                || restorable.Any(r =>
                    s.Owner == r || s.VolumeUsers.Contains(r) || s.VolumeUsers.Contains("all")
                )
            )
            .Where(s => filters.All(f => Matches(f.Name, f.Values, SnapshotFilter(s, f.Name))))
            .ToList();
        return Tree.Object(
            (
                "Snapshots",
                Tree.List(
                    snapshots.Select(s =>
                        Tree.Object(
                            ("Tags", s.Tags.Count > 0 ? Tree.Tags(s.Tags) : null),
                            ("StorageTier", "standard"),
                            ("SnapshotId", s.Id),
                            ("VolumeId", "vol-ffffffff"),
                            ("State", "completed"),
                            ("StartTime", s.Started),
                            ("Progress", "100%"),
                            ("OwnerId", s.Owner),
                            ("Description", s.Description),
                            ("VolumeSize", s.VolumeSize),
                            ("Encrypted", s.Encrypted),
                            ("KmsKeyId", s.KmsKeyId)
                        )
                    )
                )
            )
        );
    }

    private static IEnumerable<string?> SnapshotFilter(Snapshot snapshot, string filter) =>
        filter switch
        {
            "snapshot-id" => [snapshot.Id],
            "owner-id" => [snapshot.Owner],
            "status" => ["completed"],
            "description" => [snapshot.Description],
            "encrypted" => [snapshot.Encrypted ? "true" : "false"],
            "volume-size" => [snapshot.VolumeSize.ToString(CultureInfo.InvariantCulture)],
            "tag-key" => snapshot.Tags.Keys,
            _ when filter.StartsWith("tag:", StringComparison.Ordinal) =>
            [
                snapshot.Tags.GetValueOrDefault(filter[4..]),
            ],
            _ => throw Fail("InvalidParameterValue", $"The filter '{filter}' is invalid"),
        };

    private static JsonObject DeleteSnapshot(AwsCall call, Region region)
    {
        var snapshot = FindSnapshot(
            region,
            call.Input.Str("SnapshotId")!,
            call.Caller.Account,
            owned: true
        );
        if (region.Images.Values.FirstOrDefault(i => i.Snapshots.Contains(snapshot.Id)) is { } user)
        {
            throw Fail(
                "InvalidSnapshot.InUse",
                $"The snapshot {snapshot.Id} is currently in use by {user.Id}"
            );
        }

        region.Snapshots.Remove(snapshot.Id);
        return [];
    }

    private static JsonObject ModifySnapshotAttribute(AwsCall call, Region region)
    {
        var input = call.Input;
        var snapshot = FindSnapshot(
            region,
            input.Str("SnapshotId")!,
            call.Caller.Account,
            owned: true
        );
        if (input.Str("Attribute") is { } attribute && attribute != "createVolumePermission")
        {
            throw Fail(
                "InvalidParameterValue",
                $"The attribute {attribute} cannot be modified by the fake"
            );
        }

        static IEnumerable<string> Who(IEnumerable<JsonObject> permissions) =>
            permissions.Select(p => p.Str("UserId") ?? p.Str("Group")).OfType<string>();
        var permission = input.Obj("CreateVolumePermission");
        var add = Who(permission?.Objects("Add") ?? []).ToList();
        var remove = Who(permission?.Objects("Remove") ?? []).ToList();
        var listed = input.Strings("UserIds").Concat(input.Strings("GroupNames"));
        (input.Str("OperationType") == "remove" ? remove : add).AddRange(listed);
        foreach (
            var user in add.Concat(remove).Where(u => u != "all" && !AccountPattern().IsMatch(u))
        )
        {
            throw Fail("InvalidParameterValue", $"Invalid user id: '{user}'");
        }

        snapshot.VolumeUsers.UnionWith(add);
        snapshot.VolumeUsers.ExceptWith(remove);
        return [];
    }

    private static JsonObject DescribeSnapshotAttribute(AwsCall call, Region region)
    {
        var snapshot = FindSnapshot(
            region,
            call.Input.Str("SnapshotId")!,
            call.Caller.Account,
            owned: true
        );
        return call.Input.Str("Attribute") == "createVolumePermission"
            ? Tree.Object(
                ("SnapshotId", snapshot.Id),
                (
                    "CreateVolumePermissions",
                    Tree.List(
                        snapshot
                            .VolumeUsers.Order(StringComparer.Ordinal)
                            .Select(u =>
                                u == "all" ? Tree.Object(("Group", u)) : Tree.Object(("UserId", u))
                            )
                    )
                )
            )
            : throw Fail(
                "InvalidParameterValue",
                $"The attribute {call.Input.Str("Attribute")} is not served by the fake"
            );
    }

    /// <summary>An image the caller may see; a copy still hidden by the eventual-consistency fault is not found.</summary>
    private static Image FindImage(Region region, string id, string account)
    {
        if (!ImageIdPattern().IsMatch(id))
        {
            throw Fail("InvalidAMIID.Malformed", $"Invalid id: \"{id}\" (expecting \"ami-...\")");
        }

        if (
            !region.Images.TryGetValue(id, out var image)
            || !Visible(image, account)
            || Hidden(image)
        )
        {
            throw Fail("InvalidAMIID.NotFound", $"The image id '[{id}]' does not exist");
        }

        return image;
    }

    private static bool Hidden(Image image) => image.HiddenCalls-- > 0;

    private static Image Owned(Image image, string account) =>
        image.Owner == account
            ? image
            : throw Fail("AuthFailure", $"Not authorized for image:{image.Id}");

    private static Snapshot FindSnapshot(Region region, string id, string account, bool owned)
    {
        if (!SnapshotIdPattern().IsMatch(id))
        {
            throw Fail(
                "InvalidSnapshotID.Malformed",
                $"Invalid id: \"{id}\" (expecting \"snap-...\")"
            );
        }

        if (!region.Snapshots.TryGetValue(id, out var snapshot) || !CanUse(snapshot, account))
        {
            throw Fail("InvalidSnapshot.NotFound", $"The snapshot '{id}' does not exist.");
        }

        return !owned || snapshot.Owner == account
            ? snapshot
            : throw Fail(
                "UnauthorizedOperation",
                $"You are not authorized to modify snapshot {id}."
            );
    }

    private static bool Visible(Image image, string account) =>
        image.Owner == account
        || (
            image.State != "disabled"
            && image.LaunchPermissions.Any(p =>
                p.Str("UserId") == account || p.Str("Group") == "all"
            )
        );

    private static bool CanUse(Snapshot snapshot, string account) =>
        snapshot.Owner == account
        || snapshot.VolumeUsers.Contains(account)
        || snapshot.VolumeUsers.Contains("all");

    private static string CheckName(string name, string account, Region region)
    {
        if (!NamePattern().IsMatch(name))
        {
            throw Fail(
                "InvalidAMIName.Malformed",
                $"AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_', not '{name}'"
            );
        }

        if (
            region.Images.Values.FirstOrDefault(i => i.Owner == account && i.Name == name) is
            { } taken
        )
        {
            throw Fail(
                "InvalidAMIName.Duplicate",
                $"AMI name {name} is already in use by AMI {taken.Id}"
            );
        }

        return name;
    }

    private static (bool Encrypted, string? KmsKeyId) Encryption(
        AwsCall call,
        bool? encrypted,
        string? kmsKeyId
    )
    {
        // Packer 1.6.6 copies with Encrypted=false and KmsKeyId="" when it does not encrypt; EC2 takes "" as no key.
        kmsKeyId = string.IsNullOrEmpty(kmsKeyId) ? null : kmsKeyId;
        if (kmsKeyId is not null && encrypted != true)
        {
            throw Fail(
                "InvalidParameterDependency",
                "The parameter KmsKeyId requires the parameter Encrypted to be set."
            );
        }

        return (encrypted == true, encrypted == true ? kmsKeyId ?? DefaultKey(call) : null);
    }

    private static string DefaultKey(AwsCall call) =>
        $"arn:aws:kms:{call.Region}:{call.Caller.Account}:alias/aws/ebs";

    private static JsonObject Mapping(
        string device,
        Snapshot snapshot,
        long size,
        string volumeType,
        bool deleteOnTermination,
        long? iops,
        long? throughput
    ) =>
        Tree.Object(
            ("DeviceName", device),
            (
                "Ebs",
                Tree.Object(
                    ("DeleteOnTermination", deleteOnTermination),
                    ("Iops", iops),
                    ("SnapshotId", snapshot.Id),
                    ("VolumeSize", size),
                    ("VolumeType", volumeType),
                    ("Throughput", throughput),
                    ("Encrypted", snapshot.Encrypted)
                )
            )
        );

    private static Dictionary<string, string> TagsFor(JsonObject input, string resourceType) =>
        input
            .Objects("TagSpecifications")
            .Where(s => s.Str("ResourceType") == resourceType)
            .SelectMany(s => s.Objects("Tags"))
            .ToDictionary(t => t.Str("Key")!, t => t.Str("Value") ?? "");

    private static void Tag(
        Dictionary<string, string> target,
        IReadOnlyDictionary<string, string> tags
    )
    {
        foreach (var (key, value) in tags)
        {
            target[key] = value;
        }
    }

    private static bool Matches(string filter, List<string> values, IEnumerable<string?> actual) =>
        values.Count == 0
        || actual.Any(a =>
            a is not null
            && values.Any(v =>
                Regex.IsMatch(
                    a,
                    "^"
                        + Regex
                            .Escape(v)
                            .Replace(@"\*", ".*", StringComparison.Ordinal)
                            .Replace(@"\?", ".", StringComparison.Ordinal)
                        + "$"
                )
            )
        );

    private static string Fingerprint(AwsCall call)
    {
        var copy = call.Input.DeepClone().AsObject();
        copy.Remove("ClientToken");
        return $"{call.Operation.Name} {copy.ToJsonString()}";
    }

    private static AwsException Fail(string code, string message, int status = 400) =>
        new(status, code, message);

    private Region RegionOf(string name)
    {
        if (!_regions.TryGetValue(name, out var region))
        {
            _regions[name] = region = new Region();
        }

        return region;
    }

    [GeneratedRegex(@"^ami-[0-9a-f]{8}([0-9a-f]{9})?$")]
    private static partial Regex ImageIdPattern();

    [GeneratedRegex(@"^snap-[0-9a-f]{8}([0-9a-f]{9})?$")]
    private static partial Regex SnapshotIdPattern();

    [GeneratedRegex(@"^[a-zA-Z0-9().\-/_\[\] @']{3,128}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^\d{12}$")]
    private static partial Regex AccountPattern();

    [GeneratedRegex(@"^arn:aws:organizations::\d{12}:organization/o-[a-z0-9]{10,32}$")]
    private static partial Regex OrganizationPattern();

    [GeneratedRegex(
        @"^arn:aws:organizations::\d{12}:ou/o-[a-z0-9]{10,32}/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$"
    )]
    private static partial Regex OrganizationalUnitPattern();

    [GeneratedRegex(@"^[a-z]{2}(-[a-z]+)+-\d$")]
    internal static partial Regex RegionPattern();

    private sealed class Region
    {
        public Dictionary<string, Image> Images { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Snapshot> Snapshots { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, ImportTask> Tasks { get; } = new(StringComparer.Ordinal);

        public Dictionary<
            (string Account, string Token),
            (string Fingerprint, JsonObject Output)
        > Tokens { get; } = [];

        public Dictionary<string, KeyPair> KeyPairs { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, SecurityGroup> Groups { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Instance> Instances { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Volume> Volumes { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Image(
        string id,
        string name,
        string owner,
        DateTimeOffset created,
        int pendingDescribes
    )
    {
        public string Id { get; } = id;

        public string Name { get; } = name;

        public string Owner { get; } = owner;

        public DateTimeOffset Created { get; } = created;

        public int PendingDescribes { get; set; } = pendingDescribes;

        public int HiddenCalls { get; set; }

        public string State { get; set; } = "pending";

        public string? Description { get; set; }

        public required string Architecture { get; init; }

        public string? BootMode { get; init; }

        public bool? EnaSupport { get; init; }

        public string? ImdsSupport { get; set; }

        public string? TpmSupport { get; init; }

        public string? RootDeviceName { get; init; }

        public required string VirtualizationType { get; init; }

        public required JsonArray Mappings { get; init; }

        public required List<string> Snapshots { get; init; }

        public string? SourceImageId { get; init; }

        public string? SourceImageRegion { get; init; }

        public DateTimeOffset? DeprecationTime { get; set; }

        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

        public List<JsonObject> LaunchPermissions { get; } = [];

        /// <summary>The root tree an instance of it runs on an instance host; null for an image of state only.</summary>
        public string? Tree { get; set; }
    }

    private sealed class Snapshot(
        string id,
        string owner,
        int volumeSize,
        string description,
        bool encrypted,
        string? kmsKeyId,
        DateTimeOffset started
    )
    {
        public string Id { get; } = id;

        public string Owner { get; } = owner;

        public int VolumeSize { get; } = volumeSize;

        public string Description { get; set; } = description;

        public bool Encrypted { get; } = encrypted;

        public string? KmsKeyId { get; } = kmsKeyId;

        public DateTimeOffset Started { get; } = started;

        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

        /// <summary>Accounts (and "all") with createVolumePermission.</summary>
        public HashSet<string> VolumeUsers { get; } = new(StringComparer.Ordinal);
    }

    private sealed class ImportTask(
        string id,
        string? description,
        string bucket,
        string key,
        string format,
        bool encrypted,
        string? kmsKeyId,
        string owner,
        Dictionary<string, string> tags
    )
    {
        public string Id { get; } = id;

        public string? Description { get; } = description;

        public string Bucket { get; } = bucket;

        public string Key { get; } = key;

        public string Format { get; } = format;

        public bool Encrypted { get; } = encrypted;

        public string? KmsKeyId { get; } = kmsKeyId;

        public string Owner { get; } = owner;

        public Dictionary<string, string> Tags { get; } = tags;

        public int Polls { get; set; }

        public long DiskImageSize { get; set; }

        public string Status { get; set; } = "active";

        public string? StatusMessage { get; set; } = "pending";

        public string? Progress { get; set; } = "0";

        public string? SnapshotId { get; set; }
    }
}
