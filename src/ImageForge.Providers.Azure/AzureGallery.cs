using Azure;
using Azure.Core;
using Azure.ResourceManager;
using Azure.ResourceManager.Compute;
using Azure.ResourceManager.Compute.Models;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Promotion;

namespace ImageForge.Providers.Azure;

/// <summary>
/// Distribution of gallery image versions: promotion tags the channel and, for the channels the definition marks
/// <c>latest: true</c>, clears <c>excludeFromLatest</c>; revocation sets <c>endOfLifeDate</c> to the revocation time
/// and excludes the version from latest again; retention deletes the version (and any leftover upload blob). Each
/// reads the version first and changes only what differs, so a repeated step sends nothing.
/// </summary>
internal sealed class AzureGallery(AzureClients clients, TimeProvider time) : IDistributionTarget
{
    public const string GalleryVersionKey = "gallery_version";
    public const string BlobAccountKey = "storage_account";
    public const string BlobContainerKey = "storage_container";
    public const string BlobNameKey = "blob";
    public const string LatestChannelsKey = "latest_channels";
    public const string ChannelTagPrefix = "imageforge-channel-";
    public const string RevokedTag = "imageforge-revoked";

    public string Target => AzureProvider.ProviderName;

    public async Task<StepOutcome> PublishAsync(
        ImageVersion version,
        string channel,
        DistributionStep planned,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(planned);
        var outcomes = new List<string>();
        foreach (var artifact in planned.Artifacts.Where(a => a.Kind == AzureImporter.ArtifactKind))
        {
            var resource = Arm()
                .GetGalleryImageVersionResource(new ResourceIdentifier(artifact.Location));
            GalleryImageVersionData data;
            try
            {
                data = (
                    await resource.GetAsync(
                        ReplicationStatusType.ReplicationStatus,
                        cancellationToken
                    )
                )
                    .Value
                    .Data;
            }
            catch (RequestFailedException e)
            {
                return StepOutcome.Failed($"{artifact.Location}: {AzureFailures.Describe(e)}");
            }

            var view = ReplicationView.Of(data);
            var region = ReplicationView.Normalize(planned.Region);
            var failed = view.Regions.Keys.Where(view.Failed).ToList();
            // A version Failed by a failed update (every region replicated) takes the next PATCH; one whose
            // replication failed must finish its import first.
            if (failed.Count > 0)
            {
                return StepOutcome.Failed(
                    $"{data.Name} is {view.State} (replication failed in {string.Join(", ", failed)}); "
                        + "'imageforge build --resume' retries those regions"
                );
            }

            if (!view.Completed(region))
            {
                return StepOutcome.Failed(
                    $"{data.Name} is not replicated to {planned.Region} ({view.Describe([region])}); "
                        + "'imageforge build --resume' finishes its replication"
                );
            }

            var latest = Channels(artifact).Contains(channel);
            var tag = ChannelTagPrefix + channel;
            var tagged = data.Tags.TryGetValue(tag, out var value) && value == version.Version;
            var included = data.PublishingProfile?.IsExcludedFromLatest == false;
            if (tagged && (!latest || included))
            {
                outcomes.Add($"{data.Name} in {channel} already");
                continue;
            }

            var patch = Patch(data.Tags, t => t[tag] = version.Version);
            if (latest)
            {
                patch.PublishingProfile = new() { IsExcludedFromLatest = false };
            }

            try
            {
                await clients.CompleteAsync(
                    await resource.UpdateAsync(WaitUntil.Started, patch, cancellationToken),
                    cancellationToken
                );
            }
            catch (RequestFailedException e)
            {
                return StepOutcome.Failed(
                    $"{data.Name}: tagging {channel} failed: {AzureFailures.Describe(e)}"
                );
            }

            outcomes.Add(
                latest
                    ? $"{data.Name} tagged {channel} and served as latest"
                    : $"{data.Name} tagged {channel} (still excluded from latest)"
            );
        }

        return StepOutcome.Done(
            outcomes.Count == 0 ? "no gallery version in this step" : string.Join("; ", outcomes)
        );
    }

    /// <summary>
    /// The gallery follows a rollback of <paramref name="channel"/>: the channel's tag moves from the version it leaves
    /// to the one it serves again and, for a <c>latest</c> channel, the served version is included in latest and the
    /// left one excluded (unless another latest channel it still carries wants it). The served version is made right
    /// first, so a rerun after any failure converges; each version is read first and patched only where it differs.
    /// A channel a revocation left empty only leaves: the tag comes off and the revoked version is excluded.
    /// </summary>
    public async Task<StepOutcome> RollBackAsync(
        string channel,
        ImageVersion? leaving,
        ImageVersion? serving,
        IReadOnlyList<TargetSpec> targets,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(targets);
        var spec = targets.FirstOrDefault(t => t.Provider == Target);
        var outcomes = new List<string>();
        foreach (var artifact in serving is null ? [] : Versions(serving))
        {
            var outcome = await FollowAsync(
                artifact,
                channel,
                data =>
                {
                    var patch = Patch(
                        data.Tags,
                        t => t[ChannelTagPrefix + channel] = serving!.Version
                    );
                    if (Latest(artifact, channel, spec))
                    {
                        patch.PublishingProfile = new() { IsExcludedFromLatest = false };
                    }

                    return
                        data.Tags.TryGetValue(ChannelTagPrefix + channel, out var tagged)
                        && tagged == serving!.Version
                        && (
                            patch.PublishingProfile is null
                            || data.PublishingProfile?.IsExcludedFromLatest == false
                        )
                        ? null
                        : patch;
                },
                missing: false,
                cancellationToken
            );
            if (!outcome.Succeeded)
            {
                return outcome;
            }

            outcomes.Add($"{outcome.Detail} serves {channel}");
        }

        foreach (var artifact in leaving is null ? [] : Versions(leaving))
        {
            var outcome = await FollowAsync(
                artifact,
                channel,
                data =>
                {
                    var tag = ChannelTagPrefix + channel;
                    // Another channel of it that serves latest keeps it in latest.
                    var keep = data.Tags.Any(t =>
                        t.Key.StartsWith(ChannelTagPrefix, StringComparison.Ordinal)
                        && t.Key != tag
                        && t.Value == leaving!.Version
                        && Latest(artifact, t.Key[ChannelTagPrefix.Length..], spec)
                    );
                    var exclude = Latest(artifact, channel, spec) && !keep;
                    if (
                        !data.Tags.ContainsKey(tag)
                        && (!exclude || data.PublishingProfile?.IsExcludedFromLatest == true)
                    )
                    {
                        return null;
                    }

                    var patch = Patch(data.Tags, t => t.Remove(tag));
                    if (exclude)
                    {
                        patch.PublishingProfile = new() { IsExcludedFromLatest = true };
                    }

                    return patch;
                },
                missing: true,
                cancellationToken
            );
            if (!outcome.Succeeded)
            {
                return outcome;
            }

            outcomes.Add($"{outcome.Detail} leaves {channel}");
        }

        return StepOutcome.Done(
            outcomes.Count == 0 ? "no gallery version" : string.Join("; ", outcomes)
        );
    }

    // Reads one gallery version and sends the patch the change asks for (null: nothing differs). A version that is
    // gone is fine when it is being left, and a failure when it is to serve the channel.
    private async Task<StepOutcome> FollowAsync(
        Artifact artifact,
        string channel,
        Func<GalleryImageVersionData, GalleryImageVersionPatch?> change,
        bool missing,
        CancellationToken cancellationToken
    )
    {
        var id = new ResourceIdentifier(artifact.Location);
        var resource = Arm().GetGalleryImageVersionResource(id);
        try
        {
            var patch = change(
                (await resource.GetAsync(cancellationToken: cancellationToken)).Value.Data
            );
            if (patch is not null)
            {
                await clients.CompleteAsync(
                    await resource.UpdateAsync(WaitUntil.Started, patch, cancellationToken),
                    cancellationToken
                );
            }

            return StepOutcome.Done(patch is null ? $"{id.Name} (already)" : id.Name);
        }
        catch (RequestFailedException e) when (e.Status == 404 && missing)
        {
            return StepOutcome.Done($"{id.Name} (gone)");
        }
        catch (RequestFailedException e)
        {
            return StepOutcome.Failed(
                $"{id.Name}: following the rollback of {channel} failed: {AzureFailures.Describe(e)}; roll back again"
            );
        }
    }

    // Tags in a PATCH replace the version's tags as a whole: the patch carries them all, changed.
    private static GalleryImageVersionPatch Patch(
        IDictionary<string, string> tags,
        Action<IDictionary<string, string>> change
    )
    {
        // Copying defines the patch's tags even when the change empties them, so removing the last one sends {}.
        var patch = new GalleryImageVersionPatch();
        foreach (var (key, value) in tags)
        {
            patch.Tags[key] = value;
        }

        change(patch.Tags);
        return patch;
    }

    // Whether the channel serves the gallery's latest: as recorded on the artifact at import, else the definition's.
    private static bool Latest(Artifact artifact, string channel, TargetSpec? spec) =>
        artifact.Details.ContainsKey(LatestChannelsKey)
            ? Channels(artifact).Contains(channel)
            : spec?.ChannelOption(channel, "latest") == "true";

    private static IEnumerable<Artifact> Versions(ImageVersion version) =>
        version
            .Artifacts.Where(a =>
                a.Target == AzureProvider.ProviderName && a.Kind == AzureImporter.ArtifactKind
            )
            .DistinctBy(a => a.Location, StringComparer.OrdinalIgnoreCase);

    public async Task<StepOutcome> DeprecateAsync(
        ImageVersion version,
        string reason,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        var now = time.GetUtcNow();
        var outcomes = new List<string>();
        foreach (var id in VersionIds(version))
        {
            var resource = Arm().GetGalleryImageVersionResource(id);
            GalleryImageVersionData data;
            try
            {
                data = (await resource.GetAsync(cancellationToken: cancellationToken)).Value.Data;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                outcomes.Add($"{id.Name} is gone already");
                continue;
            }

            if (
                data.PublishingProfile?.EndOfLifeOn is { } end
                && end <= now
                && data.PublishingProfile.IsExcludedFromLatest == true
            )
            {
                outcomes.Add($"{id.Name} ended its life on {end:O} already");
                continue;
            }

            // Tag values hold at most 256 characters.
            var patch = Patch(
                data.Tags,
                t => t[RevokedTag] = reason.Length > 256 ? reason[..256] : reason
            );
            patch.PublishingProfile = new() { EndOfLifeOn = now, IsExcludedFromLatest = true };
            try
            {
                await clients.CompleteAsync(
                    await resource.UpdateAsync(WaitUntil.Started, patch, cancellationToken),
                    cancellationToken
                );
            }
            catch (RequestFailedException e)
            {
                return StepOutcome.Failed(
                    $"{id.Name}: setting its end of life failed: {AzureFailures.Describe(e)}"
                );
            }

            outcomes.Add($"{id.Name} end of life {now:O}, excluded from latest");
        }

        return StepOutcome.Done(
            outcomes.Count == 0 ? "no gallery version" : string.Join("; ", outcomes)
        );
    }

    public async Task<StepOutcome> DeleteAsync(
        ImageVersion version,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        var outcomes = new List<string>();
        foreach (var id in VersionIds(version))
        {
            try
            {
                var deleted = await Arm()
                    .GetGalleryImageVersionResource(id)
                    .DeleteAsync(WaitUntil.Started, cancellationToken);
                await clients.CompleteAsync(deleted, cancellationToken);
                outcomes.Add(
                    deleted.GetRawResponse().Status == 204
                        ? $"{id.Name} was gone"
                        : $"{id.Name} deleted"
                );
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                outcomes.Add($"{id.Name} was gone");
            }
            catch (RequestFailedException e)
            {
                return StepOutcome.Failed($"{id.Name}: delete failed: {AzureFailures.Describe(e)}");
            }
        }

        foreach (
            var artifact in version
                .Artifacts.Where(a => a.Kind == AzureImporter.ArtifactKind)
                .DistinctBy(a => a.Location)
        )
        {
            if (
                artifact.Details.TryGetValue(BlobAccountKey, out var account)
                && artifact.Details.TryGetValue(BlobContainerKey, out var container)
                && artifact.Details.TryGetValue(BlobNameKey, out var blob)
            )
            {
                try
                {
                    var removed = await clients
                        .Blobs(clients.Credential(), account)
                        .GetBlobContainerClient(container)
                        .GetBlobClient(blob)
                        .DeleteIfExistsAsync(cancellationToken: cancellationToken);
                    if (removed.Value)
                    {
                        outcomes.Add($"leftover blob {blob} deleted");
                    }
                }
                catch (RequestFailedException e)
                {
                    return StepOutcome.Failed(
                        $"{blob}: delete failed: {AzureFailures.Describe(e)}"
                    );
                }
            }
        }

        return StepOutcome.Done(
            outcomes.Count == 0 ? "no gallery version" : string.Join("; ", outcomes)
        );
    }

    public async Task<IReadOnlyList<LiveImage>> InspectAsync(
        ImageVersion version,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        // One artifact per region, all naming the one gallery version: it is read once, with its replication.
        var read = new Dictionary<string, GalleryImageVersionData?>(
            StringComparer.OrdinalIgnoreCase
        );
        var live = new List<LiveImage>();
        foreach (
            var artifact in version.Artifacts.Where(a =>
                a.Target == Target && LiveImages.IsProviderImage(a)
            )
        )
        {
            if (!read.TryGetValue(artifact.Location, out var data))
            {
                data = await ReadAsync(artifact, cancellationToken);
                read[artifact.Location] = data;
            }

            live.Add(Live(artifact, data));
        }

        return live;
    }

    private async Task<GalleryImageVersionData?> ReadAsync(
        Artifact artifact,
        CancellationToken cancellationToken
    )
    {
        var id = new ResourceIdentifier(artifact.Location);
        try
        {
            return (
                await Arm()
                    .GetGalleryImageVersionResource(id)
                    .GetAsync(ReplicationStatusType.ReplicationStatus, cancellationToken)
            )
                .Value
                .Data;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (Exception e) when (e is RequestFailedException or HttpRequestException)
        {
            var why = e is RequestFailedException failed
                ? AzureFailures.Describe(failed)
                : e.Message;
            throw new ToolFailedException(
                Target,
                $"could not ask azure in {artifact.Region} about gallery version {id.Name}: {why}",
                [],
                e
            );
        }
    }

    // The version is the gallery version's name (GalleryVersionName, reversible): the import writes no other tag.
    private LiveImage Live(Artifact artifact, GalleryImageVersionData? data)
    {
        if (data is null)
        {
            return new LiveImage(
                Target,
                artifact.Region,
                artifact.Location,
                LiveState.Missing,
                "404 ResourceNotFound",
                null
            );
        }

        var view = ReplicationView.Of(data);
        var region = ReplicationView.Normalize(artifact.Region);
        var end = data.PublishingProfile?.EndOfLifeOn;
        var revoked = data.Tags.TryGetValue(RevokedTag, out var reason);
        var replication = view.Describe([region]);
        var (state, detail) =
            (end is { } at && at <= time.GetUtcNow()) || revoked
                ? (
                    LiveState.Deprecated,
                    (end is { } e ? $"end of life {e:O}" : "no end of life")
                        + (revoked ? $", {RevokedTag}: {reason}" : "")
                )
            : view.State == "Failed" || view.Failed(region)
                ? (LiveState.Failed, $"{view.State}: {replication}")
            : !view.Regions.ContainsKey(region)
                ? (
                    LiveState.Missing,
                    $"{view.State}, not replicated to {artifact.Region} (not one of its target regions)"
                )
            : view.State == "Creating" || !view.Completed(region)
                ? (LiveState.Pending, $"{view.State}: {replication}")
            : (LiveState.Available, $"{view.State}: {replication}");
        return new LiveImage(
            Target,
            artifact.Region,
            artifact.Location,
            state,
            detail,
            GalleryVersionName.VersionOf(data.Name)
        );
    }

    private ArmClient Arm() => clients.Arm(clients.Credential(), null);

    private static IEnumerable<ResourceIdentifier> VersionIds(ImageVersion version) =>
        version
            .Artifacts.Where(a => a.Kind == AzureImporter.ArtifactKind)
            .Select(a => a.Location)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(l => new ResourceIdentifier(l));

    private static string[] Channels(Artifact artifact) =>
        artifact.Details.TryGetValue(LatestChannelsKey, out var channels)
            ? channels.Split(',', StringSplitOptions.RemoveEmptyEntries)
            : [];
}
