using ImageForge.Core.Builds;
using ImageForge.Core.Errors;

namespace ImageForge.Storage;

/// <summary>
/// The catalog could not be opened or refused a change (exit code 3). The message says which database and what to
/// do next.
/// </summary>
public class CatalogException : ImageForgeException
{
    /// <summary>Creates the exception with a message that says what to do next.</summary>
    public CatalogException(string message, Exception? inner = null)
        : base(message, inner) { }

    /// <inheritdoc />
    public override int ExitCode => 3;
}

/// <summary>
/// The catalog's schema is newer than this ImageForge understands: a newer ImageForge has migrated it. Nothing was
/// read or written.
/// </summary>
public sealed class CatalogTooNewException : CatalogException
{
    public CatalogTooNewException(string database, int databaseVersion, int supportedVersion)
        : base(
            $"The catalog {database} was written by a newer ImageForge (schema version {databaseVersion}; this "
                + $"ImageForge understands up to {supportedVersion}). Upgrade ImageForge, or use another --data-dir."
        )
    {
        Database = database;
        DatabaseVersion = databaseVersion;
        SupportedVersion = supportedVersion;
    }

    /// <summary>Where the catalog lives (a file path for SQLite).</summary>
    public string Database { get; }

    /// <summary>The newest schema version applied to the database.</summary>
    public int DatabaseVersion { get; }

    /// <summary>The newest schema version this build of ImageForge knows.</summary>
    public int SupportedVersion { get; }
}

/// <summary>
/// A change that needs a running build was asked of a build that does not exist or has already ended (for example
/// completing a build that another process marked Interrupted). Nothing was written.
/// </summary>
public sealed class BuildNotRunningException : CatalogException
{
    public BuildNotRunningException(string buildId, BuildStatus? status, string attempted)
        : base(
            status is { } s
                ? $"Cannot {attempted} build {buildId}: it is {s.ToString().ToLowerInvariant()}, not running. "
                    + $"See 'imageforge builds show {buildId}'."
                : $"Cannot {attempted} build {buildId}: there is no such build in the catalog. "
                    + "See 'imageforge builds list'."
        )
    {
        BuildId = buildId;
        Status = status;
    }

    /// <summary>The build the change was asked of.</summary>
    public string BuildId { get; }

    /// <summary>The build's status as found in the catalog; null when the build does not exist.</summary>
    public BuildStatus? Status { get; }
}

/// <summary>
/// A webhook attempt was recorded under a claim that another dispatcher has taken since (the claim ran out while the
/// attempt was made: docs/cluster.md). Nothing was written; the other dispatcher's attempt counts.
/// </summary>
public sealed class WebhookClaimLostException : CatalogException
{
    public WebhookClaimLostException(string message)
        : base(message) { }
}
