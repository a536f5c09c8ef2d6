using System.Data.Common;
using ImageForge.Core.Builds;
using ImageForge.Storage.Sql;
using Microsoft.Data.Sqlite;

namespace ImageForge.Storage;

/// <summary>
/// The catalog in one SQLite file, <c>&lt;data directory&gt;/catalog.db</c>, shared safely by several processes at
/// once (a running build, <c>builds cancel</c> from another shell, <c>images list</c>): write-ahead logging so
/// readers never wait for writers, writers queued by SQLite's lock for up to <see cref="DefaultBusyTimeout"/>, and every
/// change of several rows in one transaction. Each operation borrows a pooled connection, so one instance may be used
/// from many threads and every read sees what other processes committed before it.
/// </summary>
/// <remarks>
/// <see cref="ICatalog.EndBuildAsync"/>, <see cref="ICatalog.CompleteBuildAsync"/> and
/// <see cref="ICatalog.SetToolProcessGroupAsync"/> (with a process group) throw
/// <see cref="BuildNotRunningException"/> when the build does not exist or has already ended; nothing is written then.
/// Ending a build clears its owner PID and tool process group. Times are kept to the millisecond, in UTC.
/// </remarks>
public sealed partial class SqliteCatalog : ICatalog, IDisposable, IAsyncDisposable
{
    /// <summary>The catalog's file name inside the data directory.</summary>
    public const string FileName = "catalog.db";

    /// <summary>How long an operation waits for another process's write to finish before giving up.</summary>
    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(30);

    private const int SqliteBusy = 5;

    private readonly string _connectionString;
    private readonly TimeSpan _busyTimeout;
    private readonly SqlCatalog _catalog;

    private SqliteCatalog(
        string databasePath,
        string connectionString,
        TimeSpan busyTimeout,
        TimeProvider timeProvider
    )
    {
        DatabasePath = databasePath;
        _connectionString = connectionString;
        _busyTimeout = busyTimeout;
        _catalog = new SqlCatalog(
            SqliteDialect.Instance,
            ConnectAsync,
            timeProvider,
            new DataRoot(Path.GetDirectoryName(databasePath)!)
        );
    }

    /// <summary>The absolute path of the catalog file.</summary>
    public string DatabasePath { get; }

    /// <summary>
    /// Opens (creating when missing) the catalog in <paramref name="dataDirectory"/> and brings its schema up to
    /// date.
    /// </summary>
    /// <exception cref="CatalogTooNewException">A newer ImageForge has migrated the catalog past this version.</exception>
    /// <exception cref="CatalogException">The file cannot be opened or is not a catalog.</exception>
    public static Task<SqliteCatalog> OpenAsync(
        string dataDirectory,
        TimeProvider timeProvider,
        CancellationToken cancellationToken = default
    ) => OpenAsync(dataDirectory, timeProvider, DefaultBusyTimeout, cancellationToken);

    /// <summary>Opens the catalog with a chosen wait for other processes' writes (tests use a short one).</summary>
    internal static async Task<SqliteCatalog> OpenAsync(
        string dataDirectory,
        TimeProvider timeProvider,
        TimeSpan busyTimeout,
        CancellationToken cancellationToken
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var directory = Path.GetFullPath(dataDirectory);
        var path = Path.Combine(directory, FileName);
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

        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            ForeignKeys = true,
            // The provider's own retry, in whole seconds, where 0 would mean forever.
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds)),
        }.ToString();
        var catalog = new SqliteCatalog(path, connectionString, busyTimeout, timeProvider);
        var opened = false;
        try
        {
            await using var connection = (SqliteConnection)
                await catalog.ConnectAsync(cancellationToken);
            // Every command opens the catalog: a current one is recognised by two small reads, without loading the
            // schema files or touching the write lock.
            if (
                await SchemaVersionAsync(connection, cancellationToken)
                != SchemaMigrator.CountEmbedded(SqliteDialect.Instance)
            )
            {
                // Persistent in the file; readers then never block the writer nor the writer them.
                await using (var wal = connection.CreateCommand())
                {
                    wal.CommandText = "PRAGMA journal_mode = WAL";
                    await wal.ExecuteNonQueryAsync(cancellationToken);
                }

                await new SchemaMigrator(SqliteDialect.Instance, timeProvider).ApplyAsync(
                    connection,
                    path,
                    directory,
                    cancellationToken
                );
            }

            opened = true;
            return catalog;
        }
        catch (SqliteException e)
        {
            throw new CatalogException(
                $"Cannot open the catalog {path}: {e.Message} Check that it is an ImageForge catalog and writable, "
                    + "or use another --data-dir.",
                e
            );
        }
        finally
        {
            if (!opened)
            {
                await catalog.DisposeAsync();
            }
        }
    }

    // The newest applied migration, or 0 for a new file (no schema_migrations table yet).
    private static async Task<long> SchemaVersionAsync(
        SqliteConnection connection,
        CancellationToken cancellationToken
    )
    {
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
        if ((long)(await command.ExecuteScalarAsync(cancellationToken))! == 0)
        {
            return 0;
        }

        command.CommandText = "SELECT coalesce(MAX(version), 0) FROM schema_migrations";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
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
        CancellationToken cancellationToken = default
    ) =>
        Guard(
            _catalog.CompleteBuildAsync(buildId, artifacts, evidence, status, at, cancellationToken)
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
        CancellationToken cancellationToken = default
    ) => Guard(_catalog.EndBuildAsync(buildId, status, message, at, cancellationToken));

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

    /// <summary>Closes the pooled connections to the file, so it can be moved or deleted.</summary>
    public void Dispose()
    {
        // Connections still in use elsewhere in this process are closed when they are returned, not pooled.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <inheritdoc cref="Dispose" />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<DbConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // SQLite's own busy handler waits in short steps; the provider's retry alone would sleep 150 ms a time.
            await using var busy = connection.CreateCommand();
            busy.CommandText = $"PRAGMA busy_timeout = {(int)_busyTimeout.TotalMilliseconds}";
            await busy.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task<T> Guard<T>(Task<T> operation)
    {
        try
        {
            return await operation;
        }
        catch (SqliteException e)
        {
            throw Failed(e);
        }
    }

    private async Task Guard(Task operation)
    {
        try
        {
            await operation;
        }
        catch (SqliteException e)
        {
            throw Failed(e);
        }
    }

    private CatalogException Failed(SqliteException e) =>
        e.SqliteErrorCode == SqliteBusy
            ? new(
                $"The catalog {DatabasePath} stayed locked by another process for {_busyTimeout.TotalSeconds:0.#} s. "
                    + "Check for a stuck imageforge process, then retry.",
                e
            )
            : new(
                $"The catalog {DatabasePath} failed: {e.Message} Check the disk and the file's permissions, then retry.",
                e
            );
}
