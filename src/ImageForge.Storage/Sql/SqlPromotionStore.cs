using System.Data.Common;
using Dapper;
using ImageForge.Core.Audit;
using ImageForge.Core.Promotion;

namespace ImageForge.Storage.Sql;

/// <summary>
/// Channels, promotions, approvals, revocations, lineage, retention and the audit trail over any
/// <see cref="SqlDialect"/>. Every change is one write transaction that also appends its audit event.
/// </summary>
internal sealed partial class SqlPromotionStore : IPromotionStore, IAuditLog
{
    private const string AssignmentColumns = """
        id AS Id, image AS Image, channel AS Channel, version AS Version, previous_version AS PreviousVersion,
        action AS Action, actor AS Actor, reason AS Reason, at AS At
        """;

    private const string PromotionColumns = """
        id AS Id, image AS Image, version AS Version, channel AS Channel, state AS State, actor AS Actor,
        skip_reason AS SkipReason, started_at AS StartedAt, ended_at AS EndedAt
        """;

    private readonly SqlDialect _dialect;

    private readonly Func<CancellationToken, Task<DbConnection>> _connect;

    public SqlPromotionStore(
        SqlDialect dialect,
        Func<CancellationToken, Task<DbConnection>> connect
    )
    {
        _dialect = dialect;
        _connect = connect;
    }

    // One write transaction: the change, then its audit event (details may be filled from what the change found).
    private async Task<T> WriteAsync<T>(
        AuditEntry audit,
        Func<DbConnection, DbTransaction, Task<T>> change,
        CancellationToken cancellationToken,
        Func<AuditEntry, AuditEntry>? complete = null
    )
    {
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var result = await change(connection, transaction);
        await SqlAudit.AppendAsync(
            connection,
            transaction,
            complete is null ? audit : complete(audit),
            cancellationToken
        );
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private Task<int> WriteAsync(
        AuditEntry audit,
        Func<DbConnection, DbTransaction, Task<int>> change,
        CancellationToken cancellationToken
    ) => WriteAsync<int>(audit, change, cancellationToken);

    private static CommandDefinition Cmd(
        string sql,
        object? parameters,
        DbTransaction? transaction,
        CancellationToken cancellationToken
    ) => new(sql, parameters, transaction, cancellationToken: cancellationToken);
}
