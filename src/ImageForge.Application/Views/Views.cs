using ImageForge.Core.Audit;
using ImageForge.Core.Builds;

namespace ImageForge.Application.Views;

// The API's JSON shapes. Property names become snake_case (the CLI's --output json prints the same records), so a script moving from the CLI to the API reads the same fields.

/// <summary>POST /api/builds body.</summary>
/// <param name="Image">
/// The image definition's name (required; declared non-null for the document, but a body without it still binds,
/// with null, and is answered with a validation problem).
/// </param>
/// <param name="Target">The provider; omit when the definition has exactly one target.</param>
/// <param name="Reason">Free text shown in builds list.</param>
public sealed record QueueBuildRequest(string Image, string? Target = null, string? Reason = null);

/// <summary>What queueing did: the build, and whether an existing one was returned instead of a new one.</summary>
public sealed record QueuedBuildView(BuildView Build, bool Joined);

/// <summary>A build, as <c>imageforge builds show --output json</c> prints it.</summary>
public sealed record BuildView(
    string Id,
    string Image,
    string Target,
    BuildTrigger Trigger,
    string Requester,
    string? Reason,
    string Fingerprint,
    BuildStatus Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string? Message,
    string? Version
)
{
    /// <summary>It began importing and kept its version, disk and import journal: <c>build --resume</c> takes it up.</summary>
    public bool Resumable { get; init; }

    /// <summary>How many times a worker claimed it (docs/cluster.md): 0 for a build the command line ran.</summary>
    public int Attempts { get; init; }

    /// <summary>
    /// The worker holding its lease, or the last one that held it (<c>&lt;name&gt;-&lt;12 hex&gt;</c>, as
    /// <c>imageforge workers</c> lists it); null for a build the command line ran.
    /// </summary>
    public string? LeaseWorker { get; init; }

    public static BuildView From(BuildRecord b) =>
        new(
            b.Id,
            b.Image,
            b.Target,
            b.Trigger,
            b.Requester,
            b.Reason,
            b.Fingerprint,
            b.Status,
            b.StartedAt,
            b.EndedAt,
            b.Message,
            b.Version
        )
        {
            Resumable = b.Resumable,
            Attempts = b.Attempts,
            LeaseWorker = b.LeaseWorker,
        };

    /// <summary>The build as a client of the API holds it (the worker's process details stay on the worker).</summary>
    public BuildRecord ToRecord() =>
        new()
        {
            Id = Id,
            Image = Image,
            Target = Target,
            Trigger = Trigger,
            Requester = Requester,
            Reason = Reason,
            Fingerprint = Fingerprint,
            Status = Status,
            StartedAt = StartedAt,
            EndedAt = EndedAt,
            Message = Message,
            Version = Version,
            Resumable = Resumable,
            Attempts = Attempts,
            LeaseWorker = LeaseWorker,
        };
}

/// <summary>One log line (secrets already redacted).</summary>
public sealed record LogLineView(long Seq, DateTimeOffset Time, string Stream, string Text)
{
    public static LogLineView From(LogLine l) => new(l.Sequence, l.Time, l.Stream, l.Text);
}

/// <summary>One image in the catalog.</summary>
/// <param name="Image">The image's name.</param>
/// <param name="Versions">How many versions it has.</param>
/// <param name="LatestVersion">Its newest version, YYYY.MM.DD.N.</param>
/// <param name="LatestCreatedAt">When the newest version was created.</param>
public sealed record ImageView(
    string Image,
    int Versions,
    string? LatestVersion,
    DateTimeOffset? LatestCreatedAt
)
{
    public static ImageView From(ImageSummary s) =>
        new(s.Image, s.VersionCount, s.LatestVersion, s.LatestCreatedAt);
}

/// <summary>An image's versions, newest first (the shape of <c>imageforge images show --output json</c>).</summary>
public sealed record ImageVersionsView(string Image, IReadOnlyList<VersionView> Versions);

/// <summary>A version with its artifacts and evidence.</summary>
public sealed record VersionView(
    string Image,
    string Version,
    string BuildId,
    DateTimeOffset CreatedAt,
    VersionStatus Status,
    string Fingerprint,
    IReadOnlyList<ArtifactView> Artifacts,
    IReadOnlyList<EvidenceView> Evidence
)
{
    public static VersionView From(ImageVersion v) =>
        new(
            v.Image,
            v.Version,
            v.BuildId,
            v.CreatedAt,
            v.Status,
            v.Fingerprint,
            [.. v.Artifacts.Select(ArtifactView.From)],
            [.. v.Evidence.Select(EvidenceView.From)]
        );
}

/// <summary>A file or provider image of a version.</summary>
/// <param name="Target">The provider it was built for.</param>
/// <param name="Region">The cloud region; for a target without regions, its provider's name.</param>
/// <param name="Kind">rootfs-tar-zst, disk-raw, ami, ...</param>
/// <param name="Path">Absolute path for files, the provider's id for cloud images.</param>
/// <param name="Sha256">Lowercase hex sha256 of a file; null for cloud images.</param>
/// <param name="SizeBytes">The file's size.</param>
/// <param name="SourceSha256">What it was made from: the raw disk of a VHD or disk.tar.gz, the disk file a cloud image was imported from.</param>
/// <param name="Flavour">The disk flavour a disk file is, or a cloud image was imported from (azure: the disk with
/// its guest agent); null for the base disk every other cloud shares.</param>
/// <param name="FlavourPackages">What a flavour's disk file added to the base tree ("name=version", space-separated).</param>
public sealed record ArtifactView(
    string Target,
    string Region,
    string Kind,
    string Path,
    string? Sha256,
    long? SizeBytes,
    string? SourceSha256,
    string? Flavour = null,
    string? FlavourPackages = null
)
{
    public static ArtifactView From(Artifact a) =>
        new(
            a.Target,
            a.Region,
            a.Kind,
            a.Location,
            a.Sha256,
            a.SizeBytes,
            a.SourceSha256,
            DiskFlavour.Of(a),
            a.Details.GetValueOrDefault(DiskFlavour.PackagesDetailKey)
        );
}

/// <summary>An evidence document of a version (download it from <c>.../evidence/{kind}</c>).</summary>
public sealed record EvidenceView(
    string Kind,
    string Path,
    string Sha256,
    long? SizeBytes,
    string MediaType,
    DateTimeOffset? RecordedAt
)
{
    public static EvidenceView From(EvidenceDocument e) =>
        new(e.Kind, e.Location, e.Sha256, e.SizeBytes, e.MediaType, e.RecordedAt);
}

/// <summary>One audit event, as <c>imageforge audit log --output json</c> prints it.</summary>
/// <param name="Seq">Its place in the chain, from 1.</param>
/// <param name="Time">When it happened (UTC).</param>
/// <param name="Action">build, gate, sign, promote, approve, rollback, revoke, waiver, gc, ...</param>
/// <param name="Actor">Who did it: a token's name, an OS user, or schedule / cve-rescan.</param>
/// <param name="Role">The actor's role then.</param>
/// <param name="Image">The image it is about, if any.</param>
/// <param name="Version">The version it is about, if any.</param>
/// <param name="Channel">The channel it moved, if any.</param>
/// <param name="Reason">Why, as given.</param>
/// <param name="Details">A JSON object as text (what the action alone knows), or null.</param>
/// <param name="PrevHash">The previous event's hash.</param>
/// <param name="Hash">sha256 of this event's canonical form and the previous hash.</param>
public sealed record AuditEventView(
    long Seq,
    DateTimeOffset Time,
    string Action,
    string Actor,
    string Role,
    string? Image,
    string? Version,
    string? Channel,
    string? Reason,
    string? Details,
    string PrevHash,
    string Hash
)
{
    public static AuditEventView From(AuditEvent e) =>
        new(
            e.Sequence,
            e.Entry.Time,
            e.Entry.Action,
            e.Entry.Actor,
            e.Entry.Role,
            e.Entry.Image,
            e.Entry.Version,
            e.Entry.Channel,
            e.Entry.Reason,
            e.Entry.Details,
            e.PreviousHash,
            e.Hash
        );
}

/// <summary>The audit chain check: ok, or the first bad event and why.</summary>
public sealed record AuditVerificationView(
    bool Ok,
    long Checked,
    long? FirstBadSequence,
    string? Problem
)
{
    public static AuditVerificationView From(AuditVerification v) =>
        new(v.Ok, v.Checked, v.FirstBadSequence, v.Problem);
}
