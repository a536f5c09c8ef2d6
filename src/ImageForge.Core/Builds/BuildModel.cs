using ImageForge.Core.Errors;

namespace ImageForge.Core.Builds;

/// <summary>Why a build was started.</summary>
public enum BuildTrigger
{
    Manual,
    Schedule,
    Cve,
    BaseUpdate,
}

/// <summary>
/// Lifecycle of a build. Terminal states: Succeeded, Failed, Cancelled, Interrupted, and Skipped (a scheduled build
/// whose inputs had not changed: recorded, never run).
/// </summary>
public enum BuildStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Interrupted,
    Skipped,
}

/// <summary>A build as recorded in the catalog.</summary>
public sealed record BuildRecord
{
    public required string Id { get; init; }
    public required string Image { get; init; }
    public required string Target { get; init; }
    public required BuildTrigger Trigger { get; init; }
    public required string Requester { get; init; }
    public string? Reason { get; init; }
    public required string Fingerprint { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public required BuildStatus Status { get; init; }

    /// <summary>Failure or cancellation message (Packer's error text for failures).</summary>
    public string? Message { get; init; }

    /// <summary>The image version this build produced, when it succeeded.</summary>
    public string? Version { get; init; }

    /// <summary>PID of the process that runs the build (the imageforge process), while it runs.</summary>
    public int? OwnerPid { get; init; }

    /// <summary>
    /// The machine and boot of that process (<see cref="HostIdentity"/>), while it runs: only that machine, in that
    /// boot, may judge <see cref="OwnerPid"/> or signal <see cref="ToolProcessGroup"/>.
    /// </summary>
    public string? OwnerHost { get; init; }

    /// <summary>Process group of the running Packer, while it runs; used to clean up after a dead owner.</summary>
    public int? ToolProcessGroup { get; init; }
    public bool CancelRequested { get; init; }

    /// <summary>
    /// Its disk was made and its imports began: when it fails or its process dies it keeps its reserved version,
    /// files and import journal, and <c>build --resume</c> takes it up.
    /// </summary>
    public bool Resumable { get; init; }

    /// <summary>When it was queued (builds the worker's queue ran); null for builds started directly.</summary>
    public DateTimeOffset? QueuedAt { get; init; }

    /// <summary>The W3C traceparent of the request that queued it, when telemetry recorded one.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The worker whose lease the build runs under (docs/cluster.md); null for a build the command line runs.</summary>
    public string? LeaseWorker { get; init; }

    /// <summary>Raised at every claim and takeover: a write made under an older epoch is refused.</summary>
    public long LeaseEpoch { get; init; }

    /// <summary>When the worker's lease runs out unless renewed (the database's clock).</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }

    /// <summary>How many times a worker claimed it (a build given up for dead is queued again, up to a limit).</summary>
    public int Attempts { get; init; }

    /// <summary>
    /// Its work and output directories' name: the id, and for a second or later attempt the attempt too, so an
    /// attempt that was given up for dead (and may still be running somewhere) never shares files with the next.
    /// </summary>
    public string FilesKey => Attempts > 1 ? $"{Id}-attempt{Attempts}" : Id;

    /// <summary>The lease a worker claimed this build under.</summary>
    public BuildLease Lease => new(Id, LeaseEpoch);
}

/// <summary>A worker's hold on one running build: the build and the epoch it was claimed under.</summary>
public sealed record BuildLease(string BuildId, long Epoch);

/// <summary>
/// A write for a build was refused because the build's lease was taken over: the worker was given up for dead (paused,
/// partitioned, too slow to renew) and the build was queued again or ended. Nothing was written; the worker must stop
/// the build.
/// </summary>
public sealed class LeaseLostException : ImageForgeException
{
    /// <summary>Creates the exception for a build whose lease epoch moved on from the one held.</summary>
    public LeaseLostException(BuildLease held, long? current)
        : base(
            current is { } epoch
                ? $"build {held.BuildId} is no longer this worker's: its lease was taken over (epoch {epoch}, this "
                    + $"worker holds {held.Epoch}); nothing was recorded and its tools are stopped"
                : $"build {held.BuildId} is not in the catalog any more; nothing was recorded"
        )
    {
        Held = held;
    }

    /// <summary>The lease the refused write was made under.</summary>
    public BuildLease Held { get; }

    /// <inheritdoc />
    public override int ExitCode => 3;
}

/// <summary>What is needed to open a build row.</summary>
public sealed record NewBuild(
    string Image,
    string Target,
    BuildTrigger Trigger,
    string Requester,
    string? Reason,
    string Fingerprint
)
{
    /// <summary>The W3C traceparent of the request that queued it, which the build's span continues.</summary>
    public string? TraceParent { get; init; }

    /// <summary>
    /// Its definition asks for a boot under KVM (<c>boot_test_kvm: required</c>): only a worker whose KVM probe passed
    /// claims it (docs/cluster.md, "Requiring KVM"). Recorded when it is queued: a claim never reads definitions.
    /// </summary>
    public bool RequiresKvm { get; init; }
}

/// <summary>One line of a build's log, already redacted.</summary>
public sealed record LogLine(long Sequence, DateTimeOffset Time, string Stream, string Text);

/// <summary>One file or provider image a build produced for one target and region.</summary>
public sealed record Artifact
{
    public required string Target { get; init; }

    /// <summary>Region for cloud targets; for a target without regions, its provider's name.</summary>
    public required string Region { get; init; }

    /// <summary>Kind of artifact, e.g. "rootfs-tar-zst", "disk-raw", "package-inventory", "ami".</summary>
    public required string Kind { get; init; }

    /// <summary>Absolute path for file artifacts; provider id for cloud images.</summary>
    public required string Location { get; init; }

    /// <summary>Lowercase hex sha256 of a file artifact; null for cloud images.</summary>
    public string? Sha256 { get; init; }
    public long? SizeBytes { get; init; }

    /// <summary>For a cloud image: the sha256 of the disk it was imported from (signed with the image's id).</summary>
    public string? SourceSha256 { get; init; }

    /// <summary>
    /// For a cloud image: what else identifies it at its provider (its snapshot, its resource id), signed with it;
    /// keys ordered ordinally. Empty for files.
    /// </summary>
    public IReadOnlyDictionary<string, string> Details { get; init; } =
        new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Equal when every field is, the details compared by their entries.</summary>
    public bool Equals(Artifact? other) =>
        other is not null
        && Target == other.Target
        && Region == other.Region
        && Kind == other.Kind
        && Location == other.Location
        && Sha256 == other.Sha256
        && SizeBytes == other.SizeBytes
        && SourceSha256 == other.SourceSha256
        && Details.Count == other.Details.Count
        && Details.All(p => other.Details.TryGetValue(p.Key, out var v) && v == p.Value);

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(
            Target,
            Region,
            Kind,
            Location,
            Sha256,
            SizeBytes,
            SourceSha256,
            Details.Count
        );
}

/// <summary>
/// A document that proves something about a version (package inventory, SBOM, scan results, hardening report).
/// Evidence is recorded with the version and may be added later (a re-scan); the newest of a kind is current.
/// </summary>
public sealed record EvidenceDocument
{
    /// <summary>What it is, e.g. "package-inventory", "hardening-report", "sbom-cyclonedx", "compliance-after".</summary>
    public required string Kind { get; init; }

    /// <summary>Absolute path of the document.</summary>
    public required string Location { get; init; }

    /// <summary>Lowercase hex sha256 of the document.</summary>
    public required string Sha256 { get; init; }

    public long? SizeBytes { get; init; }

    /// <summary>IANA media type, e.g. application/vnd.cyclonedx+json, text/tab-separated-values.</summary>
    public required string MediaType { get; init; }

    /// <summary>When it was recorded; set by the catalog.</summary>
    public DateTimeOffset? RecordedAt { get; init; }
}

/// <summary>
/// Where a version stands: pending while its build collects evidence (invisible to listings), then built or rejected
/// (its gate decision failed; never promotable), later revoked, and deleted once retention removed its files.
/// </summary>
public enum VersionStatus
{
    Pending,
    Built,
    Rejected,
    Revoked,
    Deleted,
}

/// <summary>How a version status reads in messages and files.</summary>
public static class VersionStatusNames
{
    /// <summary>"built", "rejected", ... (the catalog and JSON spell them the same way).</summary>
    public static string Name(this VersionStatus status) => status.ToString().ToLowerInvariant();
}

/// <summary>One logical image version (YYYY.MM.DD.N) with its artifacts and evidence.</summary>
public sealed record ImageVersion
{
    public required string Image { get; init; }
    public required string Version { get; init; }
    public required string BuildId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required VersionStatus Status { get; init; }
    public required string Fingerprint { get; init; }
    public required IReadOnlyList<Artifact> Artifacts { get; init; }

    /// <summary>Every evidence document recorded for the version, oldest first.</summary>
    public IReadOnlyList<EvidenceDocument> Evidence { get; init; } = [];
}

/// <summary>Summary of one image for listings.</summary>
public sealed record ImageSummary(
    string Image,
    int VersionCount,
    string? LatestVersion,
    DateTimeOffset? LatestCreatedAt
);
