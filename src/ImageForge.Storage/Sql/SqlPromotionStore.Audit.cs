using ImageForge.Core.Audit;

namespace ImageForge.Storage.Sql;

/// <summary>The promotion store: the audit trail.</summary>
internal sealed partial class SqlPromotionStore
{
    public async Task<AuditEvent> AppendAsync(
        AuditEntry entry,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var appended = await SqlAudit.AppendAsync(
            connection,
            transaction,
            entry,
            cancellationToken
        );
        await transaction.CommitAsync(cancellationToken);
        return appended;
    }

    public async Task<IReadOnlyList<AuditEvent>> ReadAuditAsync(
        string? image = null,
        long afterSequence = 0,
        int limit = 1000,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        return await SqlAudit.ReadAsync(connection, image, afterSequence, limit, cancellationToken);
    }

    public async Task<AuditVerification> VerifyAuditAsync(
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        await using var transaction = _dialect.BeginReadTransaction(connection);
        return await SqlAudit.VerifyAsync(connection, transaction, cancellationToken);
    }
}
