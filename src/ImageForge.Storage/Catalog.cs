using System.Data.Common;
using ImageForge.Core.Artifacts;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Facts;
using ImageForge.Storage.Sql;

namespace ImageForge.Storage;

/// <summary>
/// The catalog: builds, versions, channels, the queue and the audit trail, in one SQLite file
/// (<c>&lt;data directory&gt;/catalog.db</c>, the embedded default) or in a PostgreSQL database shared by several
/// workers (<see cref="DataPaths.Database"/>). Either is shared safely by several processes at once (a running build,
/// <c>builds cancel</c> from another shell, <c>images list</c>), with every change of several rows in one transaction.
/// Each operation borrows a pooled connection, so one instance may be used from many threads and every read sees
/// what other processes committed before it.
/// </summary>
/// <remarks>
/// <see cref="ICatalog.EndBuildAsync"/>, <see cref="ICatalog.CompleteBuildAsync"/> and
/// <see cref="ICatalog.SetToolProcessGroupAsync"/> (with a process group) throw
/// <see cref="BuildNotRunningException"/> when the build does not exist or has already ended; nothing is written then.
/// Ending a build clears its owner PID and tool process group. Times are kept to the millisecond, in UTC.
/// </remarks>
public sealed partial class Catalog : ICatalog, IDisposable, IAsyncDisposable
{
    /// <summary>The SQLite catalog's file name inside the data directory.</summary>
    public const string FileName = "catalog.db";

    /// <summary>How long an operation waits for another process's write (SQLite) or row lock (PostgreSQL).</summary>
    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A PostgreSQL connection string for another client of the catalog's database (Quartz's clustered store), with
    /// the session settings every catalog session has: a lock waited on gives up after <see cref="DefaultBusyTimeout"/>
    /// and a session idle in a transaction (a paused worker's) is ended, so that neither holds a row lock for ever.
    /// </summary>
    public static string WithCatalogSessionSettings(string connectionString)
    {
        return PostgresDatabase
            .WithSessionOptions(PostgresDatabase.Parse(connectionString), DefaultBusyTimeout)
            .ConnectionString;
    }

    private readonly CatalogDatabase _database;
    private readonly SqlDialect _dialect;
    private readonly SqlCatalog _catalog;
    private readonly IArtifactStore _store;
    private readonly TimeProvider _time;
    private readonly bool _ownsDatabase;

    private Catalog(
        CatalogDatabase database,
        IArtifactStore store,
        TimeProvider timeProvider,
        SqlDialect? dialect = null
    )
    {
        _database = database;
        _dialect = dialect ?? database.Dialect;
        _ownsDatabase = dialect is null;
        _store = store;
        _time = timeProvider;
        _catalog = new SqlCatalog(_dialect, ConnectAsync, timeProvider, store);
    }

    /// <summary>
    /// The artifact store the catalog's locations resolve through (the one resolver: every artifact and evidence
    /// location a read returns is a full path from it), and through which their files are deleted.
    /// </summary>
    public IArtifactStore Artifacts => _store;

    /// <summary>
    /// The same catalog for the writes of one build a worker claimed: every write made through it (by the build, its
    /// evidence collectors and its audit) is refused with <see cref="LeaseLostException"/> once the build's lease was
    /// taken over (docs/cluster.md). Reads are unchanged. Disposing it leaves this catalog open.
    /// </summary>
    public Catalog WithLease(BuildLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return new Catalog(_database, _store, _time, new LeasedDialect(_database.Dialect, lease));
    }

    /// <summary>Where the catalog is: the SQLite file's absolute path, or postgresql://user@host:port/database.</summary>
    public string Location => _database.Name;

    /// <summary>
    /// The problem with a PostgreSQL connection string, in words that never repeat its password; null when Npgsql
    /// reads it and it names a host.
    /// </summary>
    public static string? ConnectionStringProblem(string connectionString)
    {
        try
        {
            PostgresDatabase.Parse(connectionString);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// Opens the catalog of a data directory: the PostgreSQL database of <see cref="DataPaths.Database"/> when it
    /// is set, else the SQLite file in <see cref="DataPaths.Root"/> (created when missing), and brings its schema up
    /// to date.
    /// </summary>
    /// <exception cref="CatalogTooNewException">A newer ImageForge has migrated the catalog past this version.</exception>
    /// <exception cref="CatalogException">The catalog cannot be opened or is not a catalog.</exception>
    public static Task<Catalog> OpenAsync(
        DataPaths data,
        TimeProvider timeProvider,
        CancellationToken cancellationToken = default
    ) => OpenAsync(data, timeProvider, DefaultBusyTimeout, cancellationToken);

    /// <summary>Opens (creating when missing) the SQLite catalog in <paramref name="dataDirectory"/>.</summary>
    /// <exception cref="CatalogTooNewException">A newer ImageForge has migrated the catalog past this version.</exception>
    /// <exception cref="CatalogException">The file cannot be opened or is not a catalog.</exception>
    public static Task<Catalog> OpenAsync(
        string dataDirectory,
        TimeProvider timeProvider,
        CancellationToken cancellationToken = default
    ) => OpenAsync(dataDirectory, timeProvider, DefaultBusyTimeout, cancellationToken);

    /// <summary>Opens the SQLite catalog with a chosen wait for other processes' writes (tests use a short one).</summary>
    internal static Task<Catalog> OpenAsync(
        string dataDirectory,
        TimeProvider timeProvider,
        TimeSpan busyTimeout,
        CancellationToken cancellationToken
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        return OpenAsync(
            new DataPaths(dataDirectory),
            timeProvider,
            busyTimeout,
            cancellationToken
        );
    }

    /// <summary>Opens the PostgreSQL catalog with a chosen wait for other sessions' row locks.</summary>
    internal static Task<Catalog> OpenPostgresAsync(
        string connectionString,
        string dataDirectory,
        TimeProvider timeProvider,
        TimeSpan lockTimeout,
        CancellationToken cancellationToken
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        return OpenAsync(
            new DataPaths(dataDirectory, connectionString),
            timeProvider,
            lockTimeout,
            cancellationToken
        );
    }

    /// <summary>
    /// Opens the catalog of <paramref name="data"/> (its database, else its SQLite file), whose locations resolve
    /// through its artifact store, waiting at most <paramref name="lockTimeout"/> for other writers.
    /// </summary>
    internal static Task<Catalog> OpenAsync(
        DataPaths data,
        TimeProvider timeProvider,
        TimeSpan lockTimeout,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(data);
        var directory = Path.GetFullPath(data.Root);
        return OpenAsync(
            directory,
            data.Store,
            data.Database is { } connectionString
                ? () =>
                {
                    try
                    {
                        return new PostgresDatabase(connectionString, lockTimeout);
                    }
                    catch (ArgumentException e)
                    {
                        throw new CatalogException($"The catalog's database: {e.Message}.", e);
                    }
                }
                : () => new SqliteDatabase(Path.Combine(directory, FileName), lockTimeout),
            timeProvider,
            cancellationToken
        );
    }

    private static async Task<Catalog> OpenAsync(
        string directory,
        IArtifactStore store,
        Func<CatalogDatabase> database,
        TimeProvider timeProvider,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CatalogException(
                $"Cannot create the data directory {directory}: {e.Message}. Choose another with --data-dir.",
                e
            );
        }

        var catalog = new Catalog(database(), store, timeProvider);
        var opened = false;
        try
        {
            var dialect = catalog._database.Dialect;
            await using var connection = await catalog.ConnectAsync(cancellationToken);
            // Every command opens the catalog: a current one is recognised by two small reads.
            if (
                await catalog._database.SchemaVersionAsync(connection, cancellationToken)
                != SchemaMigrator.CountEmbedded(dialect)
            )
            {
                await catalog._database.PrepareAsync(connection, cancellationToken);
                await new SchemaMigrator(dialect, timeProvider).ApplyAsync(
                    connection,
                    catalog.Location,
                    directory,
                    cancellationToken
                );
            }

            opened = true;
            return catalog;
        }
        catch (DbException e)
        {
            throw catalog._database.FailedToOpen(e);
        }
        finally
        {
            if (!opened)
            {
                await catalog.DisposeAsync();
            }
        }
    }

    /// <inheritdoc />
    public Task<BuildRecord> StartBuildAsync(
        NewBuild build,
        int ownerPid,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.StartBuildAsync(build, ownerPid, cancellationToken));

    /// <inheritdoc />
    public Task SetToolProcessGroupAsync(
        string buildId,
        int? processGroup,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.SetToolProcessGroupAsync(buildId, processGroup, cancellationToken));

    /// <inheritdoc />
    public Task AppendLogAsync(
        string buildId,
        IReadOnlyList<(DateTimeOffset Time, string Stream, string Text)> lines,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.AppendLogAsync(buildId, lines, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<LogLine>> ReadLogAsync(
        string buildId,
        long afterSequence = 0,
        int limit = 10_000,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.ReadLogAsync(buildId, afterSequence, limit, cancellationToken));

    /// <summary>The versions holding an artifact of this target with this location or sha256 (for admission checks).</summary>
    public Task<IReadOnlyList<(string Image, string Version)>> FindArtifactOwnersAsync(
        string target,
        string? location,
        string? sha256,
        string? region,
        CancellationToken cancellationToken = default
    ) =>
        Guard(
            _catalog.FindArtifactOwnersAsync(target, location, sha256, region, cancellationToken)
        );

    /// <inheritdoc />
    public Task<string> ReserveVersionAsync(
        string buildId,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.ReserveVersionAsync(buildId, at, cancellationToken));

    /// <inheritdoc />
    public Task<ImageVersion> CompleteBuildAsync(
        string buildId,
        IReadOnlyList<Artifact> artifacts,
        IReadOnlyList<EvidenceDocument> evidence,
        VersionStatus status,
        DateTimeOffset at,
        Func<string, IReadOnlyList<AuditEntry>>? audit = null,
        CancellationToken cancellationToken = default
    ) =>
        Guard(
            _catalog.CompleteBuildAsync(
                buildId,
                artifacts,
                evidence,
                status,
                at,
                audit,
                cancellationToken
            )
        );

    /// <inheritdoc />
    public Task AddEvidenceAsync(
        string image,
        string version,
        IReadOnlyList<EvidenceDocument> evidence,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.AddEvidenceAsync(image, version, evidence, at, cancellationToken));

    /// <inheritdoc />
    public Task EndBuildAsync(
        string buildId,
        BuildStatus status,
        string message,
        DateTimeOffset at,
        AuditEntry? audit = null,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.EndBuildAsync(buildId, status, message, at, audit, cancellationToken));

    /// <inheritdoc />
    public Task MarkResumableAsync(string buildId, CancellationToken cancellationToken = default) =>
        Guard(_catalog.MarkResumableAsync(buildId, cancellationToken));

    public Task<BuildRecord> ResumeBuildAsync(
        string buildId,
        int ownerPid,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.ResumeBuildAsync(buildId, ownerPid, cancellationToken));

    public Task<IReadOnlyList<ImportStepRecord>> GetImportStepsAsync(
        string buildId,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.GetImportStepsAsync(buildId, cancellationToken));

    public Task RecordImportStepAsync(
        string buildId,
        string target,
        ImportStep entry,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.RecordImportStepAsync(buildId, target, entry, cancellationToken));

    public Task<bool> RequestCancelAsync(
        string buildId,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.RequestCancelAsync(buildId, cancellationToken));

    /// <summary>The build as on disk now, including a cancel request made by another process a moment ago.</summary>
    public Task<BuildRecord?> GetBuildAsync(
        string buildId,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.GetBuildAsync(buildId, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<BuildRecord>> ListBuildsAsync(
        string? image = null,
        int limit = 50,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.ListBuildsAsync(image, limit, cancellationToken));

    /// <summary>
    /// Builds still marked Running, oldest first, whether or not their owner is alive: what to check after a crash
    /// (owner PID gone: kill the tool's process group, then end the build as Interrupted).
    /// </summary>
    public Task<IReadOnlyList<BuildRecord>> ListRunningBuildsAsync(
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.ListRunningBuildsAsync(cancellationToken));

    /// <summary>Every image that has had a build, by name, with its version count and latest version.</summary>
    public Task<IReadOnlyList<ImageSummary>> ListImagesAsync(
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.ListImagesAsync(cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<ImageVersion>> ListVersionsAsync(
        string image,
        int limit = 50,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.ListVersionsAsync(image, limit, cancellationToken));

    /// <summary>One version with its artifacts; null when the image has no such version.</summary>
    public Task<ImageVersion?> GetVersionAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.GetVersionAsync(image, version, cancellationToken));

    /// <summary>
    /// The newest <paramref name="perImage"/> versions of every image, newest first, by image name, with the evidence
    /// of <paramref name="evidenceKinds"/> (null: all; empty: none): three queries whatever the number of images.
    /// </summary>
    public Task<IReadOnlyDictionary<string, IReadOnlyList<ImageVersion>>> ListNewestVersionsAsync(
        int perImage,
        IReadOnlyCollection<string>? evidenceKinds = null,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.ListNewestVersionsAsync(perImage, evidenceKinds, cancellationToken));

    /// <summary>
    /// The versions named by (image, version) with their artifacts and the evidence of <paramref name="evidenceKinds"/>
    /// (null: all; empty: none); unknown ones are left out.
    /// </summary>
    public Task<IReadOnlyList<ImageVersion>> GetVersionsAsync(
        IReadOnlyCollection<(string Image, string Version)> keys,
        IReadOnlyCollection<string>? evidenceKinds = null,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.GetVersionsAsync(keys, evidenceKinds, cancellationToken));

    /// <summary>What each version named was built from (lineage and base facts), for "outdated parent".</summary>
    public Task<
        IReadOnlyDictionary<(string Image, string Version), VersionBase>
    > GetVersionBasesAsync(
        IReadOnlyCollection<(string Image, string Version)> keys,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.GetVersionBasesAsync(keys, cancellationToken));

    /// <summary>The version just before <paramref name="version"/> (by day, then number); null for the first.</summary>
    public Task<string?> GetPreviousVersionAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.GetPreviousVersionAsync(image, version, cancellationToken));

    /// <summary>Closes the pooled connections, so the file can be moved or deleted (SQLite).</summary>
    public void Dispose()
    {
        if (_ownsDatabase)
        {
            _database.Dispose();
        }
    }

    /// <inheritdoc cref="Dispose" />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private Task<DbConnection> ConnectAsync(CancellationToken cancellationToken) =>
        _database.ConnectAsync(cancellationToken);

    private async Task<T> Guard<T>(Task<T> operation)
    {
        try
        {
            return await operation;
        }
        catch (DbException e)
        {
            throw _database.Failed(e);
        }
    }

    private async Task Guard(Task operation)
    {
        try
        {
            await operation;
        }
        catch (DbException e)
        {
            throw _database.Failed(e);
        }
    }
}
