using System.Data;
using System.Data.Common;
using Dapper;

namespace ImageForge.Storage.Sql;

/// <summary>
/// PostgreSQL: every write transaction first takes one transaction-scoped advisory lock, so writers take turns as
/// they do on SQLite (the catalog's read-then-write steps rely on that), while readers never wait (MVCC). A write is a
/// few statements of milliseconds; the lock is released at commit or rollback, also when the session dies, so a
/// killed worker never holds it. Migrations take a session lock of their own, so two processes opening a new catalog
/// apply each file once.
/// </summary>
internal sealed class PostgresDialect : SqlDialect
{
    public static readonly PostgresDialect Instance = new();

    // Any fixed numbers, taken only by ImageForge ("IFSCHEMA" and "IFWRITER" in ASCII).
    private const long SchemaLock = 0x4946_5343_4845_4D41;
    internal const long WriterLock = 0x4946_5752_4954_4552;

    private PostgresDialect() { }

    public override string SchemaFolder => "postgres";

    // clock_timestamp(), not now(): a transaction that waited for the writer lock must not read the time it began.
    public override string Clock(string? secondsParameter = null) =>
        secondsParameter is null
            ? "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            : "to_char((clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => "
                + secondsParameter
                + "), 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

    public override async Task<DbTransaction> BeginWriteTransactionAsync(
        DbConnection connection,
        CancellationToken cancellationToken
    )
    {
        var transaction = await connection.BeginTransactionAsync(
            IsolationLevel.ReadCommitted,
            cancellationToken
        );
        try
        {
            await connection.ExecuteAsync(
                new CommandDefinition(
                    "SELECT pg_advisory_xact_lock(@Key)",
                    new { Key = WriterLock },
                    transaction,
                    cancellationToken: cancellationToken
                )
            );
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    public override async Task<IAsyncDisposable> LockSchemaAsync(
        DbConnection connection,
        CancellationToken cancellationToken
    )
    {
        await connection.ExecuteAsync(
            new CommandDefinition(
                "SELECT pg_advisory_lock(@Key)",
                new { Key = SchemaLock },
                cancellationToken: cancellationToken
            )
        );
        return new Unlock(connection);
    }

    private sealed class Unlock(DbConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() =>
            await connection.ExecuteAsync(
                "SELECT pg_advisory_unlock(@Key)",
                new { Key = SchemaLock }
            );
    }
}
