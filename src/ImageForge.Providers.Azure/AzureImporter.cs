using Azure;
using Azure.Core;
using Azure.ResourceManager;
using Azure.ResourceManager.Compute;
using Azure.ResourceManager.Compute.Models;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;

namespace ImageForge.Providers.Azure;

/// <summary>
/// Imports the build's fixed VHD into an Azure Compute Gallery: page-blob upload, image definition (created when
/// missing), one gallery image version named from the version (<see cref="GalleryVersionName"/>) with every target
/// region, excluded from latest until promotion, replication watched per region, the upload blob deleted once every
/// region has it. Each step is journaled; a resumed import skips what is done and retries only the failed regions.
/// </summary>
internal sealed class AzureImporter(AzureClients clients, TimeProvider time) : IImageImporter
{
    public const string ArtifactKind = "azure-gallery-image-version";

    private const string Stage = "import azure";

    public string Provider => AzureProvider.ProviderName;

    public string DiskKind => "disk-vhd";

    public IReadOnlyList<string> Preflight(TargetSpec target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var (_, problems) = AzureTarget.Read(target);
        return [.. problems, .. AzureClients.CredentialProblems(target)];
    }

    public async Task<IReadOnlyList<Artifact>> ImportAsync(
        ImportRequest request,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(sink);
        var (target, problems) = AzureTarget.Read(request.Target);
        if (target is null)
        {
            throw new InvalidInputException(string.Join(Environment.NewLine, problems));
        }

        var credential = clients.Credential(request.Target, request.Secrets);
        var arm = clients.Arm(credential, target.SubscriptionId);
        var journal = request.Journal;
        var home = target.Regions[0];
        var name = GalleryVersionName.For(request.Version);
        var sha256 =
            request.Disk.Sha256
            ?? throw new ToolFailedException("azure", "azure: the disk has no sha256", []);
        var blobName = $"{request.Definition.Name}/{request.Version}.vhd";
        void Say(string detail) => sink.Progress(Stage, detail);

        // 1. upload
        var blobs = clients.Blobs(credential, target.StorageAccount);
        var blob = blobs
            .GetBlobContainerClient(target.StorageContainer)
            .GetBlobClient(blobName)
            .Uri;
        if (
            await journal.GetAsync(home, "upload", cancellationToken)
            is not { State: ImportStepState.Done }
        )
        {
            await journal.RecordAsync(
                new ImportStep(home, "upload", ImportStepState.Started, blob.ToString()),
                cancellationToken
            );
            var uploaded = await Step(
                "upload",
                () =>
                    clients
                        .Upload(blobs)
                        .UploadAsync(
                            target.StorageContainer,
                            blobName,
                            request.Disk.Location,
                            sha256,
                            Say,
                            cancellationToken
                        )
            );
            Say(
                uploaded.WasComplete
                    ? $"{blob} was uploaded already"
                    : $"uploaded {uploaded.SentBytes} bytes to {blob} ({uploaded.PresentBytes} already there, {uploaded.ZeroBytes} zero bytes skipped)"
            );
            await journal.RecordAsync(
                new ImportStep(home, "upload", ImportStepState.Done, blob.ToString()),
                cancellationToken
            );
        }

        // 2. the image definition, and where the gallery lives (the version's own location must be a target region)
        var gallery = await Step(
            "image-definition",
            async () =>
                (
                    await arm.GetGalleryResource(target.GalleryId)
                        .GetAsync(cancellationToken: cancellationToken)
                ).Value,
            notFound: $"the gallery {target.GalleryId} does not exist; create it (az sig create) or fix options.gallery"
        );
        var location = ReplicationView.Normalize(gallery.Data.Location.Name);
        var regions = target
            .Regions.Select(ReplicationView.Normalize)
            .Prepend(location)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (
            await journal.GetAsync(home, "image-definition", cancellationToken)
            is not { State: ImportStepState.Done }
        )
        {
            await Step(
                "image-definition",
                () => EnsureImageDefinitionAsync(gallery, target, Say, cancellationToken)
            );
            await journal.RecordAsync(
                new ImportStep(
                    home,
                    "image-definition",
                    ImportStepState.Done,
                    target.ImageId.ToString()
                ),
                cancellationToken
            );
        }

        // 3. the version (a deterministic name: a repeated PUT finds the first)
        var versionId = target.VersionId(name);
        var version = arm.GetGalleryImageVersionResource(versionId);
        ArmOperation<GalleryImageVersionResource>? created = null;
        if (
            await journal.GetAsync(home, "version", cancellationToken)
            is not { State: ImportStepState.Done }
        )
        {
            await journal.RecordAsync(
                new ImportStep(home, "version", ImportStepState.Started, versionId.ToString()),
                cancellationToken
            );
            var existing = await Step("version", () => TryGetAsync(version, cancellationToken));
            if (existing is null)
            {
                Say(
                    $"creating gallery version {name} in {string.Join(", ", regions)}, excluded from latest"
                );
                created = await Step(
                    "version",
                    () =>
                        arm.GetGalleryImageResource(target.ImageId)
                            .GetGalleryImageVersions()
                            .CreateOrUpdateAsync(
                                WaitUntil.Started,
                                name,
                                VersionData(target, gallery.Data.Location, regions, blob),
                                cancellationToken
                            )
                );
            }

            await journal.RecordAsync(
                new ImportStep(home, "version", ImportStepState.Done, versionId.ToString()),
                cancellationToken
            );
        }

        // 4. replication, one step per region
        var pending = new List<string>();
        foreach (var region in regions)
        {
            if (
                await journal.GetAsync(region, "replicate", cancellationToken)
                is not { State: ImportStepState.Done }
            )
            {
                pending.Add(region);
            }
        }

        if (pending.Count > 0)
        {
            await ReplicateAsync(
                version,
                created,
                target,
                regions,
                pending,
                journal,
                Say,
                cancellationToken
            );
        }

        // 5. every region has its copy: the upload blob is no longer needed
        if (
            await journal.GetAsync(home, "cleanup", cancellationToken)
            is not { State: ImportStepState.Done }
        )
        {
            await Step(
                "cleanup",
                () =>
                    blobs
                        .GetBlobContainerClient(target.StorageContainer)
                        .GetBlobClient(blobName)
                        .DeleteIfExistsAsync(cancellationToken: cancellationToken)
            );
            await journal.RecordAsync(
                new ImportStep(home, "cleanup", ImportStepState.Done, blob.ToString()),
                cancellationToken
            );
        }

        var latest = request.Definition.Channels.Where(c =>
            request.Target.ChannelOption(c, "latest") == "true"
        );
        return
        [
            .. regions.Select(region => new Artifact
            {
                Target = AzureProvider.ProviderName,
                Region = region,
                Kind = ArtifactKind,
                Location = versionId.ToString(),
                SourceSha256 = sha256,
                Details = new SortedDictionary<string, string>(StringComparer.Ordinal)
                {
                    [AzureGallery.GalleryVersionKey] = name,
                    [AzureGallery.BlobAccountKey] = target.StorageAccount,
                    [AzureGallery.BlobContainerKey] = target.StorageContainer,
                    [AzureGallery.BlobNameKey] = blobName,
                    [AzureGallery.LatestChannelsKey] = string.Join(",", latest),
                },
            }),
        ];
    }

    private async Task ReplicateAsync(
        GalleryImageVersionResource version,
        ArmOperation<GalleryImageVersionResource>? created,
        AzureTarget target,
        IReadOnlyList<string> regions,
        List<string> pending,
        IImportJournal journal,
        Action<string> say,
        CancellationToken cancellationToken
    )
    {
        var watch = new ReplicationWatch(time, clients.PollInterval);
        var timeout = clients.ReplicationTimeout ?? target.ReplicationTimeout;
        if (created is null)
        {
            // A resumed import: regions that failed before are retried alone, the way Azure asks for it
            // (azure-cli#15539): remove them from the target regions, then add them back.
            var now = ReplicationView.Of(
                (
                    await Step(
                        "replicate",
                        () =>
                            version.GetAsync(
                                ReplicationStatusType.ReplicationStatus,
                                cancellationToken
                            )
                    )
                )
                    .Value
                    .Data
            );
            var failed = pending.Where(now.Failed).ToList();
            if (failed.Count > 0)
            {
                say($"retrying replication to {string.Join(", ", failed)} only");
                var kept = regions.Where(r => !failed.Contains(r)).ToList();
                await Step(
                    "replicate",
                    async () =>
                        await clients.CompleteAsync(
                            await version.UpdateAsync(
                                WaitUntil.Started,
                                Retarget(target, kept),
                                cancellationToken
                            ),
                            cancellationToken
                        )
                );
                await Step(
                    "replicate",
                    () =>
                        version.UpdateAsync(
                            WaitUntil.Started,
                            Retarget(target, regions),
                            cancellationToken
                        )
                );
            }
        }

        var (view, timedOut) = await Step(
            "replicate",
            () => watch.WatchAsync(version, pending, timeout, say, cancellationToken)
        );
        foreach (var region in pending.Where(view.Completed))
        {
            await journal.RecordAsync(
                new ImportStep(region, "replicate", ImportStepState.Done, version.Id.ToString()),
                cancellationToken
            );
        }

        var failures = new List<string>();
        foreach (var region in pending.Where(view.Failed))
        {
            var details = view.Regions[region].Details;
            await journal.RecordAsync(
                new ImportStep(region, "replicate", ImportStepState.Started, $"failed: {details}"),
                cancellationToken
            );
            failures.Add($"step replicate {region} failed: {details}");
        }

        if (timedOut)
        {
            failures.Add(
                $"step replicate timed out after {timeout} and was read again: {view.Describe(pending.Where(r => !view.Completed(r) && !view.Failed(r)))} still replicating"
            );
        }
        else if (failures.Count == 0 && view.State == "Failed")
        {
            failures.Add(
                $"step version failed: gallery version {version.Id.Name} is Failed{await ErrorOfAsync(created, cancellationToken)}"
            );
        }

        if (failures.Count > 0)
        {
            var done = regions.Where(view.Completed).ToList();
            throw new ToolFailedException(
                "azure",
                $"gallery version {version.Id.Name}: {string.Join("; ", failures)}"
                    + (done.Count > 0 ? $"; replicated to {string.Join(", ", done)}" : ""),
                []
            );
        }
    }

    private static async Task<string> ErrorOfAsync(
        ArmOperation<GalleryImageVersionResource>? created,
        CancellationToken cancellationToken
    )
    {
        if (created is null)
        {
            return "";
        }

        try
        {
            await created.UpdateStatusAsync(cancellationToken);
            return "";
        }
        catch (RequestFailedException e)
        {
            return $" ({e.ErrorCode}: {AzureFailures.FirstLine(e.Message)})";
        }
    }

    private static GalleryImageVersionPatch Retarget(
        AzureTarget target,
        IEnumerable<string> regions
    )
    {
        var patch = new GalleryImageVersionPatch { PublishingProfile = new() };
        foreach (var region in regions)
        {
            patch.PublishingProfile.TargetRegions.Add(TargetRegionOf(target, region));
        }

        return patch;
    }

    private static TargetRegion TargetRegionOf(AzureTarget target, string region) =>
        new(region)
        {
            RegionalReplicaCount = target.ReplicaCount,
            StorageAccountType = new ImageStorageAccountType(target.StorageAccountType),
        };

    private static GalleryImageVersionData VersionData(
        AzureTarget target,
        AzureLocation location,
        IEnumerable<string> regions,
        Uri blob
    )
    {
        var data = new GalleryImageVersionData(location)
        {
            PublishingProfile = new GalleryImageVersionPublishingProfile
            {
                IsExcludedFromLatest = true,
                ReplicaCount = target.ReplicaCount,
                StorageAccountType = new ImageStorageAccountType(target.StorageAccountType),
            },
            StorageProfile = new GalleryImageVersionStorageProfile
            {
                OSDiskImage = new GalleryOSDiskImage
                {
                    Source = new GalleryDiskImageSource
                    {
                        Uri = blob,
                        StorageAccountId = target.StorageAccountId,
                    },
                },
            },
        };
        foreach (var region in regions)
        {
            data.PublishingProfile.TargetRegions.Add(TargetRegionOf(target, region));
        }

        return data;
    }

    private async Task EnsureImageDefinitionAsync(
        GalleryResource gallery,
        AzureTarget target,
        Action<string> say,
        CancellationToken cancellationToken
    )
    {
        var images = gallery.GetGalleryImages();
        if ((await images.ExistsAsync(target.ImageDefinition, cancellationToken)).Value)
        {
            return;
        }

        say(
            $"creating image definition {target.ImageDefinition} ({target.Publisher}/{target.Offer}/{target.Sku}, Hyper-V V2)"
        );
        var created = await images.CreateOrUpdateAsync(
            WaitUntil.Started,
            target.ImageDefinition,
            new GalleryImageData(gallery.Data.Location)
            {
                OSType = SupportedOperatingSystemType.Linux,
                OSState = OperatingSystemStateType.Generalized,
                HyperVGeneration = HyperVGeneration.V2,
                Architecture = ArchitectureType.X64,
                Identifier = new GalleryImageIdentifier(target.Publisher, target.Offer, target.Sku),
            },
            cancellationToken
        );
        await clients.CompleteAsync(created, cancellationToken);
    }

    private static async Task<GalleryImageVersionResource?> TryGetAsync(
        GalleryImageVersionResource version,
        CancellationToken cancellationToken
    )
    {
        try
        {
            return (await version.GetAsync(cancellationToken: cancellationToken)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    // Every cloud failure names the step it broke; what is done stays in the journal for --resume.
    private static async Task<T> Step<T>(string step, Func<Task<T>> run, string? notFound = null)
    {
        try
        {
            return await run();
        }
        catch (RequestFailedException e) when (notFound is not null && e.Status == 404)
        {
            throw new ToolFailedException("azure", $"step {step}: {notFound}", [], e);
        }
        catch (RequestFailedException e)
        {
            throw new ToolFailedException(
                "azure",
                $"step {step} failed: {e.Status} {e.ErrorCode}: {AzureFailures.FirstLine(e.Message)}",
                [],
                e
            );
        }
    }

    private static async Task Step(string step, Func<Task> run) =>
        await Step(
            step,
            async () =>
            {
                await run();
                return true;
            }
        );
}
