namespace ImageForge.Core.Builds;

/// <summary>
/// The catalog of builds and image versions (port; ImageForge.Storage implements it). Every method that changes more
/// than one row does it in one transaction.
/// </summary>
public interface ICatalog
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

    /// <summary>Log lines with sequence greater than <paramref name="afterSequence"/>, in order.</summary>
    Task<IReadOnlyList<LogLine>> ReadLogAsync(
        string buildId,
        long afterSequence = 0,
        int limit = 10_000,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// In one transaction: allocates the next version number of the image for the day of <paramref name="at"/>
    /// (YYYY.MM.DD.N), records the version and its artifacts, and marks the build Succeeded with that version.
    /// </summary>
    Task<ImageVersion> CompleteBuildAsync(
        string buildId,
        IReadOnlyList<Artifact> artifacts,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );

    /// <summary>Ends a build as Failed, Cancelled or Interrupted with a message; no version is recorded.</summary>
    Task EndBuildAsync(
        string buildId,
        BuildStatus status,
        string message,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );

    /// <summary>Asks a running build to cancel (seen by its owner, which polls). Returns false when the build is not running.</summary>
    Task<bool> RequestCancelAsync(string buildId, CancellationToken cancellationToken = default);

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
