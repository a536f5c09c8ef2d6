using System.Data.Common;
using Dapper;
using ImageForge.Core.Builds;

namespace ImageForge.Storage.Sql;

/// <summary>
/// The catalog's dialect for the writes of one leased build (<see cref="Catalog.WithLease"/>): every write transaction,
/// once it holds the writer lock, first checks that the build's lease epoch is still the one held, and otherwise
/// writes nothing and throws <see cref="LeaseLostException"/>. Writers take turns (<see cref="SqlDialect"/>), so no
/// takeover can come between the check and the write: a worker given up for dead records nothing after it resumes,
/// whatever it was about to write (log lines, its tool's process group, a version, evidence, import steps, the end).
/// </summary>
internal sealed class LeasedDialect(SqlDialect inner, BuildLease lease) : SqlDialect
{
    private readonly long _id = DbText.TryParseId(lease.BuildId, out var id)
        ? id
        : throw new ArgumentException($"'{lease.BuildId}' is not a build id", nameof(lease));

    public override string SchemaFolder => inner.SchemaFolder;

    public override string Clock(string? secondsParameter = null) => inner.Clock(secondsParameter);

    public override DbTransaction BeginReadTransaction(DbConnection connection) =>
        inner.BeginReadTransaction(connection);

    public override Task<IAsyncDisposable> LockSchemaAsync(
        DbConnection connection,
        CancellationToken cancellationToken
    ) => inner.LockSchemaAsync(connection, cancellationToken);

    public override async Task<DbTransaction> BeginWriteTransactionAsync(
        DbConnection connection,
        CancellationToken cancellationToken
    )
    {
        var transaction = await inner.BeginWriteTransactionAsync(connection, cancellationToken);
        try
        {
            var epoch = await connection.ExecuteScalarAsync<long?>(
                new CommandDefinition(
                    "SELECT lease_epoch FROM builds WHERE id = @Id",
                    new { Id = _id },
                    transaction,
                    cancellationToken: cancellationToken
                )
            );
            return epoch == lease.Epoch ? transaction : throw new LeaseLostException(lease, epoch);
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }
}
