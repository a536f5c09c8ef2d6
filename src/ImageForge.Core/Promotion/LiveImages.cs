using ImageForge.Core.Builds;

namespace ImageForge.Core.Promotion;

/// <summary>The state of one image at its provider, as the provider reports it.</summary>
public enum LiveState
{
    /// <summary>Usable: AWS <c>available</c>, an Azure version <c>Succeeded</c>, a GCE image <c>READY</c>.</summary>
    Available,

    /// <summary>Still being made or replicated.</summary>
    Pending,

    /// <summary>Deprecated, end of life or obsolete: the provider discourages or refuses new use.</summary>
    Deprecated,

    /// <summary>The provider reports it failed.</summary>
    Failed,

    /// <summary>Not there (deleted outside ImageForge, or never made).</summary>
    Missing,
}

/// <summary>
/// One image of a version as its provider holds it now: where it is, its state, and the ImageForge version its
/// tags or labels name (null when it carries none).
/// </summary>
/// <param name="Target">The provider (aws, azure, gcp).</param>
/// <param name="Region">The region the artifact is recorded in.</param>
/// <param name="Id">The artifact's id at the provider, as the catalog records it.</param>
/// <param name="State">What the provider says.</param>
/// <param name="Detail">The provider's own words for it (e.g. <c>deprecated (DEPRECATED, replacement ...)</c>).</param>
/// <param name="TaggedVersion">The version the image's tags name; null when untagged or missing.</param>
public sealed record LiveImage(
    string Target,
    string Region,
    string Id,
    LiveState State,
    string Detail,
    string? TaggedVersion
);

/// <summary>One difference between the catalog and a provider, for one image of a version.</summary>
public sealed record Drift(string Target, string Region, string Id, string Problem)
{
    /// <inheritdoc />
    public override string ToString() => $"{Target}/{Region} {Id}: {Problem}";
}

/// <summary>
/// Compares what the catalog says of a version's images with what their providers report
/// (<see cref="IDistributionTarget.InspectAsync"/>): every image must exist, carry the version's tags, and be
/// deprecated exactly when the version is revoked.
/// </summary>
public static class LiveImages
{
    /// <summary>Whether an artifact is an image held by a provider (no file digest: an id there).</summary>
    public static bool IsProviderImage(Artifact artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        return artifact.Sha256 is null;
    }

    /// <summary>
    /// Every drift of <paramref name="version"/>'s provider images: missing, failed or pending images, a revoked
    /// version's image still usable, a live version's image deprecated, tags naming another version, and images no
    /// provider reported on (<paramref name="inspectable"/> says which targets can be inspected at all).
    /// </summary>
    public static IReadOnlyList<Drift> Compare(
        ImageVersion version,
        IReadOnlyList<LiveImage> live,
        IReadOnlySet<string> inspectable
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(live);
        ArgumentNullException.ThrowIfNull(inspectable);
        var revoked = version.Status == VersionStatus.Revoked;
        var drifts = new List<Drift>();
        foreach (var artifact in version.Artifacts.Where(IsProviderImage))
        {
            var found = live.FirstOrDefault(l =>
                l.Target == artifact.Target
                && l.Region == artifact.Region
                && string.Equals(l.Id, artifact.Location, StringComparison.Ordinal)
            );
            var problem = found switch
            {
                null when !inspectable.Contains(artifact.Target) =>
                    "not inspected: this ImageForge has no live view of " + artifact.Target,
                null => "not reported by the provider",
                { State: LiveState.Missing } =>
                    "missing at the provider (deleted outside ImageForge?)",
                { State: LiveState.Failed } => $"failed at the provider ({found.Detail})",
                { State: LiveState.Pending } => $"not ready yet ({found.Detail})",
                { State: LiveState.Available } when revoked =>
                    "still usable at the provider although the version is revoked",
                { State: LiveState.Deprecated } when !revoked =>
                    $"deprecated at the provider ({found.Detail}) although the version is {version.Status.Name()}",
                _ when found.TaggedVersion != version.Version => found.TaggedVersion is null
                    ? "carries no imageforge version tag"
                    : $"its tags name version {found.TaggedVersion}",
                _ => null,
            };
            if (problem is not null)
            {
                drifts.Add(new Drift(artifact.Target, artifact.Region, artifact.Location, problem));
            }
        }

        return drifts;
    }
}

/// <summary>What the providers hold of a version now, and how it differs from the catalog.</summary>
public sealed record LiveReport(IReadOnlyList<LiveImage> Images, IReadOnlyList<Drift> Drifts)
{
    /// <summary>No drift.</summary>
    public bool Ok => Drifts.Count == 0;

    /// <summary>
    /// Asks every provider holding images of <paramref name="version"/> (at the same time) what it holds now, and
    /// compares. A provider that cannot be asked (unreachable, credentials refused) is a drift of each of its images,
    /// with its error, so one cloud down does not hide the others' answers.
    /// </summary>
    public static async Task<LiveReport> CheckAsync(
        ImageVersion version,
        IReadOnlyList<IDistributionTarget> targets,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(targets);
        var held = version
            .Artifacts.Where(LiveImages.IsProviderImage)
            .Select(a => a.Target)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var asked = targets.Where(t => held.Contains(t.Target)).ToList();
        var answers = await Task.WhenAll(
            asked.Select(async target =>
            {
                try
                {
                    return (
                        target.Target,
                        Images: await target.InspectAsync(version, cancellationToken),
                        Error: (string?)null
                    );
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A provider's own error already says whom it could not ask about what.
                    var error =
                        e is Errors.ImageForgeException
                            ? e.Message
                            : $"could not ask {target.Target}: {e.Message}";
                    return (target.Target, Images: (IReadOnlyList<LiveImage>)[], Error: error);
                }
            })
        );
        var images = answers.SelectMany(a => a.Images).ToList();
        var unreachable = answers
            .Where(a => a.Error is not null)
            .ToDictionary(a => a.Target, a => a.Error!, StringComparer.Ordinal);
        var drifts = LiveImages
            .Compare(version, images, asked.Select(t => t.Target).ToHashSet(StringComparer.Ordinal))
            .Select(d =>
                unreachable.TryGetValue(d.Target, out var error) ? d with { Problem = error } : d
            )
            .ToList();
        return new LiveReport(images, drifts);
    }
}
