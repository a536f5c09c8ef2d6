using System.Data;
using System.Data.Common;

namespace ImageForge.Storage.Sql;

/// <summary>
/// What differs between the databases the catalog runs on. The catalog's statements are written once in SQL that
/// SQLite and PostgreSQL both accept; a dialect supplies only its schema folder and how it takes locks. Each database
/// also has its own plain schema files under <c>Schema/&lt;folder&gt;/NNNN_name.sql</c>.
/// </summary>
internal abstract class SqlDialect
{
    /// <summary>The folder under <c>Schema/</c> holding this database's migrations.</summary>
    public abstract string SchemaFolder { get; }

    /// <summary>
    /// Starts a transaction that will write. Writers take turns, one at a time per catalog, as SQLite makes them:
    /// every read-then-write of the catalog (the next version number of a day, the free slots of the queue, the audit
    /// chain's head, one running promotion per channel) relies on it.
    /// </summary>
    public abstract Task<DbTransaction> BeginWriteTransactionAsync(
        DbConnection connection,
        CancellationToken cancellationToken
    );

    /// <summary>
    /// An SQL expression for the database's clock now, plus <paramref name="secondsParameter"/> seconds when given
    /// (a parameter name such as <c>@Lease</c>), as the catalog's time text (<see cref="DbText.FromTime(DateTimeOffset)"/>):
    /// leases are judged by one clock, whatever the workers' clocks say.
    /// </summary>
    public abstract string Clock(string? secondsParameter = null);

    /// <summary>Starts a transaction that only reads, for a consistent view across several selects.</summary>
    public virtual DbTransaction BeginReadTransaction(DbConnection connection) =>
        connection.BeginTransaction(IsolationLevel.RepeatableRead);

    /// <summary>
    /// Keeps other processes from migrating the schema until the result is disposed. Nothing by default: where each
    /// migration's write transaction already excludes other writers, the migrator's re-check inside it is enough.
    /// </summary>
    public virtual Task<IAsyncDisposable> LockSchemaAsync(
        DbConnection connection,
        CancellationToken cancellationToken
    ) => Task.FromResult<IAsyncDisposable>(NoLock.Instance);

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
