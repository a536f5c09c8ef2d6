using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace ImageForge.Storage.Sql;

/// <summary>
/// SQLite: one writer at a time for the whole file. Every write transaction starts with BEGIN IMMEDIATE, which takes
/// the write lock up front (waiting out the busy timeout), so a read-then-write such as allocating a version number
/// can neither interleave with another process nor fail half-way when it upgrades from reading to writing.
/// </summary>
internal sealed class SqliteDialect : SqlDialect
{
    public static readonly SqliteDialect Instance = new();

    private SqliteDialect() { }

    public override string SchemaFolder => "sqlite";

    public override Task<DbTransaction> BeginWriteTransactionAsync(
        DbConnection connection,
        CancellationToken cancellationToken
    ) =>
        Task.FromResult<DbTransaction>(
            ((SqliteConnection)connection).BeginTransaction(deferred: false)
        );

    public override string Clock(string? secondsParameter = null) =>
        secondsParameter is null
            ? "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
            : $"strftime('%Y-%m-%dT%H:%M:%fZ', 'now', {secondsParameter} || ' seconds')";

    // Under WAL a deferred transaction reads one snapshot and never blocks writers.
    public override DbTransaction BeginReadTransaction(DbConnection connection) =>
        ((SqliteConnection)connection).BeginTransaction(deferred: true);
}
