using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace ImageForge.Storage.Sql;

/// <summary>
/// The catalog in one SQLite file in the data directory, shared safely by several processes on one machine:
/// write-ahead logging so readers never wait for writers, and writers queued by SQLite's lock for up to the busy
/// timeout.
/// </summary>
internal sealed class SqliteDatabase : CatalogDatabase
{
    private const int SqliteBusy = 5;

    private readonly string _connectionString;
    private readonly TimeSpan _busyTimeout;

    public SqliteDatabase(string path, TimeSpan busyTimeout)
    {
        Name = path;
        _busyTimeout = busyTimeout;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            ForeignKeys = true,
            // The provider's own retry, in whole seconds, where 0 would mean forever.
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds)),
        }.ToString();
    }

    public override SqlDialect Dialect => SqliteDialect.Instance;

    public override string Name { get; }

    public override async Task<DbConnection> ConnectAsync(CancellationToken cancellationToken)
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

    // Two small reads, without loading the schema files or touching the write lock: every command opens the catalog.
    public override async Task<long> SchemaVersionAsync(
        DbConnection connection,
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

    // Persistent in the file; readers then never block the writer nor the writer them.
    public override async Task PrepareAsync(
        DbConnection connection,
        CancellationToken cancellationToken
    )
    {
        await using var wal = connection.CreateCommand();
        wal.CommandText = "PRAGMA journal_mode = WAL";
        await wal.ExecuteNonQueryAsync(cancellationToken);
    }

    public override CatalogException FailedToOpen(DbException e) =>
        new(
            $"Cannot open the catalog {Name}: {e.Message} Check that it is an ImageForge catalog and writable, "
                + "or use another --data-dir.",
            e
        );

    public override CatalogException Failed(DbException e) =>
        e is SqliteException { SqliteErrorCode: SqliteBusy }
            ? new(
                $"The catalog {Name} stayed locked by another process for {_busyTimeout.TotalSeconds:0.#} s. "
                    + "Check for a stuck imageforge process, then retry.",
                e
            )
            : new(
                $"The catalog {Name} failed: {e.Message} Check the disk and the file's permissions, then retry.",
                e
            );

    public override void Dispose()
    {
        // Connections still in use elsewhere in this process are closed when they are returned, not pooled.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }
}
