namespace ImageForge.Core.Builds;

/// <summary>
/// The catalog of builds and image versions (port; ImageForge.Storage implements it). Every method that changes more
/// than one row does it in one transaction.
/// </summary>
public interface ICatalog : ICatalogReader
{
    /// <summary>Opens a build row in state Running, owned by <paramref name="ownerPid"/>. Returns it with its new id.</summary>
    Task<BuildRecord> StartBuildAsync(
        NewBuild build,
        int ownerPid,
        CancellationToken cancellationToken = default
    );

    /// <summary>Records the process group of the tool (Packer) that the build is running now, or clears it (null).</summary>
    Task SetToolProcessGroupAsync(
        string buildId,
        int? processGroup,
        CancellationToken cancellationToken = default
    );

    /// <summary>Appends redacted log lines; sequence numbers are assigned by the catalog, in order.</summary>
    Task AppendLogAsync(
        string buildId,
        IReadOnlyList<(DateTimeOffset Time, string Stream, string Text)> lines,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Allocates the next version number of the build's image for the UTC day of <paramref name="at"/>
    /// (YYYY.MM.DD.N) and holds it as pending for this running build, so evidence can name its version before the
    /// version exists. Pending versions are invisible to listings; a build that then fails or is cancelled gives the
    /// number back.
    /// </summary>
    Task<string> ReserveVersionAsync(
        string buildId,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// In one transaction: records the build's reserved version (reserving one first if it has none) with its
    /// artifacts and evidence and the given <paramref name="status"/>, and marks the build Succeeded.
    /// <paramref name="status"/> is <see cref="VersionStatus.Built"/>, or <see cref="VersionStatus.Rejected"/> when the
    /// gate decision failed (the version keeps its evidence and is never promotable); anything else is refused.
    /// <paramref name="audit"/>, given the version's number, gives the audit events appended in the same transaction.
    /// </summary>
    Task<ImageVersion> CompleteBuildAsync(
        string buildId,
        IReadOnlyList<Artifact> artifacts,
        IReadOnlyList<EvidenceDocument> evidence,
        VersionStatus status,
        DateTimeOffset at,
        Func<string, IReadOnlyList<Audit.AuditEntry>>? audit = null,
        CancellationToken cancellationToken = default
    );

    /// <summary>Adds evidence to an existing version (a re-scan); earlier documents of the same kind are kept.</summary>
    Task AddEvidenceAsync(
        string image,
        string version,
        IReadOnlyList<EvidenceDocument> evidence,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Ends a build as Failed, Cancelled or Interrupted with a message; no version is recorded (a reserved one is
    /// released). <paramref name="audit"/> is appended in the same transaction.
    /// </summary>
    Task EndBuildAsync(
        string buildId,
        BuildStatus status,
        string message,
        DateTimeOffset at,
        Audit.AuditEntry? audit = null,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Marks a running build with a reserved version resumable (its imports begin): from now on failing or being
    /// interrupted keeps its version, files and import journal.
    /// </summary>
    Task MarkResumableAsync(string buildId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes a failed, interrupted or cancelled resumable build back to running, owned by <paramref name="ownerPid"/>;
    /// anything else is bad input naming why.
    /// </summary>
    Task<BuildRecord> ResumeBuildAsync(
        string buildId,
        int ownerPid,
        CancellationToken cancellationToken = default
    );

    /// <summary>Every recorded import step of the build.</summary>
    Task<IReadOnlyList<ImportStepRecord>> GetImportStepsAsync(
        string buildId,
        CancellationToken cancellationToken = default
    );

    /// <summary>Records (or replaces) one import step of a running build.</summary>
    Task RecordImportStepAsync(
        string buildId,
        string target,
        ImportStep entry,
        CancellationToken cancellationToken = default
    );

    /// <summary>Asks a running build to cancel (seen by its owner, which polls). Returns false when the build is not running.</summary>
    Task<bool> RequestCancelAsync(string buildId, CancellationToken cancellationToken = default);
}

/// <summary>
/// What may be read of the catalog: builds, their logs, images and versions. The command line reads it from the local
/// catalog or, with <c>--server</c>, from a worker's HTTP API.
/// </summary>
public interface ICatalogReader
{
    /// <summary>Log lines with sequence greater than <paramref name="afterSequence"/>, in order.</summary>
    Task<IReadOnlyList<LogLine>> ReadLogAsync(
        string buildId,
        long afterSequence = 0,
        int limit = 10_000,
        CancellationToken cancellationToken = default
    );

    Task<BuildRecord?> GetBuildAsync(string buildId, CancellationToken cancellationToken = default);

    /// <summary>Builds newest first, optionally of one image.</summary>
    Task<IReadOnlyList<BuildRecord>> ListBuildsAsync(
        string? image = null,
        int limit = 50,
        CancellationToken cancellationToken = default
    );

    Task<IReadOnlyList<ImageSummary>> ListImagesAsync(
        CancellationToken cancellationToken = default
    );

    /// <summary>Versions of an image, newest first, with their artifacts.</summary>
    Task<IReadOnlyList<ImageVersion>> ListVersionsAsync(
        string image,
        int limit = 50,
        CancellationToken cancellationToken = default
    );

    Task<ImageVersion?> GetVersionAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    );
}
