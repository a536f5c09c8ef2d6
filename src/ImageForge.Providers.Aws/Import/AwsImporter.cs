using System.Text.Json;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Providers.Aws.Connection;
using ImageForge.Providers.Aws.Distribution;

namespace ImageForge.Providers.Aws.Import;

/// <summary>
/// Imports the build's raw disk as AMIs: upload to S3 (<see cref="S3DiskUpload"/>), ImportSnapshot (RAW), RegisterImage
/// in the home region (the first of the target's regions: UEFI, ENA, IMDSv2 required, x86_64, gp3 root), the upload
/// object deleted, then CopyImage into every other region, each copy its own step. Every step is journaled, and every
/// create carries a ClientToken from <see cref="ImportTokens"/>, so a resumed import finds what the first run made.
/// </summary>
internal sealed class AwsImporter(AwsClients clients, AwsWaits waits) : IImageImporter
{
    public const string Upload = "upload";
    public const string ImportSnapshotStep = "import-snapshot";
    public const string Register = "register";
    public const string DeleteUpload = "delete-upload";
    public const string Copy = "copy";
    private const string RootDevice = "/dev/xvda";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Provider => AwsProvider.ProviderName;

    public string DiskKind => "disk-raw";

    public IReadOnlyList<string> Preflight(TargetSpec target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return target.Option("import_bucket") is null
            ?
            [
                $"the aws target imports its disk through S3: set targets[].options.import_bucket to a bucket in {target.Regions[0]} (the first region) that this account may write",
            ]
            : [];
    }

    public async Task<IReadOnlyList<Artifact>> ImportAsync(
        ImportRequest request,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(sink);
        var run = new Run(this, request, sink, AwsTarget.Of(request.Target));
        return await run.ExecuteAsync(cancellationToken);
    }

    /// <summary>One import: the request, where it goes, and its steps in order.</summary>
    private sealed class Run(
        AwsImporter importer,
        ImportRequest request,
        ITargetBuildSink sink,
        AwsTarget aws
    )
    {
        private string Home => aws.HomeRegion;

        private string AmiName => AwsProvider.AmiName(request.Definition.Name, request.Version);

        private string Key => $"imageforge/{request.Definition.Name}/{request.Version}/disk.raw";

        public async Task<IReadOnlyList<Artifact>> ExecuteAsync(CancellationToken cancellationToken)
        {
            var bucket =
                aws.Bucket
                ?? throw new InvalidInputException(
                    "aws: targets[].options.import_bucket is not set; the disk is imported through S3"
                );
            var uploaded = await StepAsync(
                Home,
                Upload,
                (started, record, ct) =>
                    new S3DiskUpload(
                        importer._clients.S3(Home, aws.RoleArn),
                        aws.PartSize,
                        sink
                    ).RunAsync(bucket, Key, request.Disk.Location, started, record, ct),
                cancellationToken
            );
            var snapshot = await StepAsync<SnapshotDone>(
                Home,
                ImportSnapshotStep,
                (started, record, ct) => ImportSnapshotAsync(uploaded, started, record, ct),
                cancellationToken
            );
            var home = await StepAsync<ImageDone>(
                Home,
                Register,
                (_, _, ct) => RegisterAsync(snapshot.SnapshotId, ct),
                cancellationToken
            );
            await StepAsync<UploadDeleted>(
                Home,
                DeleteUpload,
                async (_, _, ct) =>
                {
                    await importer
                        ._clients.S3(Home, aws.RoleArn)
                        .DeleteObjectAsync(uploaded.Bucket, uploaded.Key, ct);
                    return new UploadDeleted(uploaded.Bucket, uploaded.Key);
                },
                cancellationToken
            );

            // The copies are independent: each region is its own step, run in parallel, failing alone.
            var copies = aws
                .CopyRegions.Select(region =>
                    StepAsync<ImageDone>(
                        region,
                        Copy,
                        (started, record, ct) =>
                            CopyAsync(home.ImageId, region, started, record, ct),
                        cancellationToken
                    )
                )
                .ToList();
            try
            {
                await Task.WhenAll(copies);
            }
            catch (ImageForgeException) when (copies.All(c => c.IsCompleted))
            {
                // Reported together below, each naming its region.
            }

            var failed = copies
                .Where(c => c.IsFaulted)
                .Select(c => c.Exception!.InnerException!)
                .ToList();
            if (failed.OfType<OperationCanceledException>().FirstOrDefault() is { } cancelled)
            {
                throw cancelled;
            }

            if (failed.Count > 0)
            {
                throw new ToolFailedException(
                    "aws",
                    string.Join(Environment.NewLine, failed.Select(f => f.Message)),
                    [],
                    failed[0]
                );
            }

            return
            [
                Artifact(Home, home),
                .. aws.CopyRegions.Zip(copies, (region, copy) => Artifact(region, copy.Result)),
            ];
        }

        private Artifact Artifact(string region, ImageDone image) =>
            new()
            {
                Target = request.Target.Provider,
                Region = region,
                Kind = AwsProvider.AmiKind,
                Location = image.ImageId,
                SourceSha256 = request.Disk.Sha256,
                Details = AwsDistribution.WithRole(
                    new SortedDictionary<string, string>(StringComparer.Ordinal)
                    {
                        ["name"] = AmiName,
                        ["snapshots"] = string.Join(',', image.SnapshotIds),
                    },
                    aws.RoleArn
                ),
            };

        private async Task<SnapshotDone> ImportSnapshotAsync(
            UploadDone uploaded,
            string? started,
            Func<string, Task> record,
            CancellationToken cancellationToken
        )
        {
            var ec2 = importer._clients.Ec2(Home, aws.RoleArn);
            var taskId = started is null ? null : Read<SnapshotStarted>(started).TaskId;
            if (taskId is null)
            {
                var response = await ec2.ImportSnapshotAsync(
                    new ImportSnapshotRequest
                    {
                        ClientToken = Token(Home, ImportSnapshotStep),
                        Description = $"{AmiName} (disk sha256 {request.Disk.Sha256})",
                        DiskContainer = new SnapshotDiskContainer
                        {
                            Format = "RAW",
                            UserBucket = new UserBucket
                            {
                                S3Bucket = uploaded.Bucket,
                                S3Key = uploaded.Key,
                            },
                        },
                        Encrypted = aws.Encrypt,
                        KmsKeyId = aws.Encrypt ? aws.KmsKey(Home) : null,
                        TagSpecifications = [Tags(ResourceType.ImportSnapshotTask)],
                    },
                    cancellationToken
                );
                taskId = response.ImportTaskId;
                await record(Write(new SnapshotStarted(taskId)));
            }

            var done = await importer._waits.UntilAsync(
                $"import task {taskId} in {Home}",
                async ct =>
                {
                    var task = (
                        await ec2.DescribeImportSnapshotTasksAsync(
                            new DescribeImportSnapshotTasksRequest { ImportTaskIds = [taskId] },
                            ct
                        )
                    ).ImportSnapshotTasks.Single();
                    var detail = task.SnapshotTaskDetail;
                    switch (detail.Status)
                    {
                        case "completed":
                            return detail;
                        case "deleted" or "deleting":
                            throw new ToolFailedException(
                                "aws",
                                $"{ImportSnapshotStep} in {Home}: import task {taskId} failed: {detail.StatusMessage}",
                                []
                            );
                        default:
                            sink.Progress(
                                $"aws {Home}",
                                $"importing the snapshot: {detail.Progress ?? "0"}% {detail.StatusMessage}".TrimEnd()
                            );
                            return null;
                    }
                },
                cancellationToken
            );
            await ec2.CreateTagsAsync(
                new CreateTagsRequest { Resources = [done.SnapshotId], Tags = TagList() },
                cancellationToken
            );
            return new SnapshotDone(taskId, done.SnapshotId);
        }

        private async Task<ImageDone> RegisterAsync(
            string snapshotId,
            CancellationToken cancellationToken
        )
        {
            var ec2 = importer._clients.Ec2(Home, aws.RoleArn);
            // RegisterImage takes no ClientToken: the AMI name, unique per account and region, is the idempotency key.
            // An image of that name from an earlier attempt is taken when it is built on this import's snapshot.
            var imageId = await ExistingAsync(ec2, snapshotId, cancellationToken);
            if (imageId is null)
            {
                try
                {
                    imageId = await RegisterNewAsync(ec2, snapshotId, cancellationToken);
                }
                catch (AmazonEC2Exception e) when (e.ErrorCode == "InvalidAMIName.Duplicate")
                {
                    imageId =
                        await ExistingAsync(ec2, snapshotId, cancellationToken)
                        ?? throw new ToolFailedException(
                            "aws",
                            $"{Register} in {Home} failed: an AMI named {AmiName} exists and is not built on snapshot {snapshotId}; deregister it or build a new version",
                            [],
                            e
                        );
                }
            }

            await AvailableAsync(ec2, Home, imageId, cancellationToken);
            return new ImageDone(imageId, [snapshotId]);
        }

        private async Task<string?> ExistingAsync(
            IAmazonEC2 ec2,
            string snapshotId,
            CancellationToken cancellationToken
        )
        {
            var images =
                (
                    await ec2.DescribeImagesAsync(
                        new DescribeImagesRequest
                        {
                            Owners = ["self"],
                            Filters = [new Filter("name", [AmiName])],
                        },
                        cancellationToken
                    )
                ).Images
                ?? [];
            var image = images.SingleOrDefault();
            return
                image is not null
                && (image.BlockDeviceMappings ?? []).Any(m => m.Ebs?.SnapshotId == snapshotId)
                ? image.ImageId
                : null;
        }

        private async Task<string> RegisterNewAsync(
            IAmazonEC2 ec2,
            string snapshotId,
            CancellationToken cancellationToken
        )
        {
            var response = await ec2.RegisterImageAsync(
                new RegisterImageRequest
                {
                    Name = AmiName,
                    Description = request.Definition.Description,
                    Architecture = ArchitectureValues.X86_64,
                    BootMode = BootModeValues.Uefi,
                    EnaSupport = true,
                    ImdsSupport = ImdsSupportValues.V20,
                    VirtualizationType = "hvm",
                    RootDeviceName = RootDevice,
                    BlockDeviceMappings =
                    [
                        new BlockDeviceMapping
                        {
                            DeviceName = RootDevice,
                            Ebs = new EbsBlockDevice
                            {
                                SnapshotId = snapshotId,
                                VolumeType = VolumeType.Gp3,
                                DeleteOnTermination = true,
                            },
                        },
                    ],
                    TagSpecifications = [Tags(ResourceType.Image)],
                },
                cancellationToken
            );
            return response.ImageId;
        }

        private async Task<ImageDone> CopyAsync(
            string sourceImageId,
            string region,
            string? started,
            Func<string, Task> record,
            CancellationToken cancellationToken
        )
        {
            var ec2 = importer._clients.Ec2(region, aws.RoleArn);
            var imageId = started is null ? null : Read<CopyStarted>(started).ImageId;
            if (imageId is null)
            {
                imageId = (
                    await ec2.CopyImageAsync(
                        new CopyImageRequest
                        {
                            ClientToken = Token(region, Copy),
                            SourceImageId = sourceImageId,
                            SourceRegion = Home,
                            Name = AmiName,
                            Description = request.Definition.Description,
                            Encrypted = aws.Encrypt,
                            KmsKeyId = aws.Encrypt ? aws.KmsKey(region) : null,
                            CopyImageTags = true,
                        },
                        cancellationToken
                    )
                ).ImageId;
                await record(Write(new CopyStarted(imageId)));
            }

            var image = await AvailableAsync(ec2, region, imageId, cancellationToken);
            return new ImageDone(
                imageId,
                [
                    .. (image.BlockDeviceMappings ?? [])
                        .Where(m => m.Ebs?.SnapshotId is not null)
                        .Select(m => m.Ebs.SnapshotId),
                ]
            );
        }

        private Task<Image> AvailableAsync(
            IAmazonEC2 ec2,
            string region,
            string imageId,
            CancellationToken cancellationToken
        ) =>
            importer._waits.UntilAsync(
                $"image {imageId} in {region}",
                async ct =>
                {
                    var image = (
                        await ec2.DescribeImagesAsync(
                            new DescribeImagesRequest { ImageIds = [imageId] },
                            ct
                        )
                    ).Images?.SingleOrDefault();
                    if (image?.State == ImageState.Failed)
                    {
                        throw new ToolFailedException(
                            "aws",
                            $"image {imageId} in {region} failed: {image.StateReason?.Message}",
                            []
                        );
                    }

                    if (image?.State == ImageState.Available)
                    {
                        return image;
                    }

                    sink.Progress($"aws {region}", $"waiting for {imageId} to be available");
                    return null;
                },
                cancellationToken
            );

        // Skips a done step (its data is its result); otherwise runs it with what its start recorded, and records it
        // done. An AWS error ends the import with the step and region named; the journal keeps what was done.
        private async Task<T> StepAsync<T>(
            string region,
            string step,
            Func<string?, Func<string, Task>, CancellationToken, Task<T>> run,
            CancellationToken cancellationToken
        )
        {
            var journal = request.Journal;
            var recorded = await journal.GetAsync(region, step, cancellationToken);
            if (recorded is { State: ImportStepState.Done, Data: { } data })
            {
                return Read<T>(data);
            }

            if (recorded is null)
            {
                await journal.RecordAsync(
                    new ImportStep(region, step, ImportStepState.Started, null),
                    cancellationToken
                );
            }

            sink.Progress($"aws {region}", step);
            T result;
            try
            {
                result = await run(
                    recorded?.Data,
                    started =>
                        journal.RecordAsync(
                            new ImportStep(region, step, ImportStepState.Started, started),
                            CancellationToken.None
                        ),
                    cancellationToken
                );
            }
            catch (AmazonServiceException e)
            {
                throw new ToolFailedException(
                    "aws",
                    $"{step} in {region} failed: {e.ErrorCode ?? e.StatusCode.ToString()}: {e.Message}",
                    [],
                    e
                );
            }
            catch (Exception e)
                when (e
                        is TimeoutException
                            or AmazonClientException
                            or IOException
                            or HttpRequestException
                )
            {
                throw new ToolFailedException(
                    "aws",
                    $"{step} in {region} failed: {e.Message}",
                    [],
                    e
                );
            }
            catch (ToolFailedException e)
                when (!e.Message.StartsWith(step, StringComparison.Ordinal))
            {
                throw new ToolFailedException(
                    "aws",
                    $"{step} in {region} failed: {e.Message}",
                    [],
                    e
                );
            }

            await journal.RecordAsync(
                new ImportStep(region, step, ImportStepState.Done, Write(result)),
                CancellationToken.None
            );
            return result;
        }

        private string Token(string region, string step) =>
            ImportTokens.For(
                request.Definition.Name,
                request.Version,
                request.Target.Provider,
                region,
                step
            );

        private TagSpecification Tags(ResourceType type) =>
            new() { ResourceType = type, Tags = TagList() };

        private List<Tag> TagList() =>
            [
                .. AwsTags
                    .For(
                        request.Definition.Name,
                        request.Version,
                        request.Fingerprint,
                        request.Disk.Sha256
                    )
                    .Select(t => new Tag(t.Key, t.Value)),
            ];
    }

    private readonly AwsClients _clients = clients;
    private readonly AwsWaits _waits = waits;

    internal static string Write<T>(T value) => JsonSerializer.Serialize(value, Json);

    internal static T Read<T>(string data) =>
        JsonSerializer.Deserialize<T>(data, Json)
        ?? throw new InvalidInputException($"the import journal holds an unreadable step: {data}");

    private sealed record SnapshotStarted(string TaskId);

    private sealed record SnapshotDone(string TaskId, string SnapshotId);

    private sealed record CopyStarted(string ImageId);

    private sealed record UploadDeleted(string Bucket, string Key);

    /// <summary>An image of the version in one region and the snapshots behind it.</summary>
    internal sealed record ImageDone(string ImageId, IReadOnlyList<string> SnapshotIds);
}

/// <summary>The tags every resource of a version carries, so that a person in the console sees what it is.</summary>
internal static class AwsTags
{
    public const string Image = "imageforge:image";
    public const string Version = "imageforge:version";

    /// <summary>sha256 of the version's signed in-toto statement; set when the AMI is published to a channel.</summary>
    public const string Provenance = "imageforge:provenance-sha256";

    public static IReadOnlyDictionary<string, string> For(
        string image,
        string version,
        string fingerprint,
        string? diskSha256
    ) =>
        new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [Image] = image,
            [Version] = version,
            ["imageforge:fingerprint"] = fingerprint,
            ["imageforge:disk-sha256"] = diskSha256 ?? "",
            ["Name"] = AwsProvider.AmiName(image, version),
        };
}
