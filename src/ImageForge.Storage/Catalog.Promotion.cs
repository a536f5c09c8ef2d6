using ImageForge.Core.Audit;
using ImageForge.Core.Promotion;
using ImageForge.Storage.Sql;

namespace ImageForge.Storage;

/// <summary>Channels, promotions, approvals, revocations, lineage, retention and the audit trail in the same catalog.</summary>
public sealed partial class Catalog : IPromotionStore, IAuditLog
{
    private SqlPromotionStore? _promotions;

    // Stateless over the pooled connections, so a second instance made by a racing thread is harmless.
    private SqlPromotionStore Promotions =>
        _promotions ??= new SqlPromotionStore(_dialect, ConnectAsync);

    /// <inheritdoc />
    public Task<IReadOnlyList<ChannelState>> GetChannelsAsync(
        string image,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.GetChannelsAsync(image, cancellationToken));

    /// <summary>Where every channel of every image points, by image then channel: one query.</summary>
    public Task<IReadOnlyList<ChannelState>> GetAllChannelsAsync(
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.GetAllChannelsAsync(cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<ChannelAssignment>> GetHistoryAsync(
        string image,
        string? channel = null,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.GetHistoryAsync(image, channel, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<Approval>> GetApprovalsAsync(
        string image,
        string version,
        string channel,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.GetApprovalsAsync(image, version, channel, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<AnomalyAcknowledgement>> GetAnomalyAcknowledgementsAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.GetAnomalyAcknowledgementsAsync(image, version, cancellationToken));

    /// <inheritdoc />
    public Task AcknowledgeAnomalyAsync(
        AnomalyAcknowledgement acknowledgement,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.AcknowledgeAnomalyAsync(acknowledgement, audit, cancellationToken));

    /// <inheritdoc />
    public Task<Rejection?> GetRejectionAsync(
        string image,
        string version,
        string channel,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.GetRejectionAsync(image, version, channel, cancellationToken));

    /// <inheritdoc />
    public Task RejectAsync(
        Rejection rejection,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.RejectAsync(rejection, audit, cancellationToken));

    /// <inheritdoc />
    public Task AddApprovalAsync(
        Approval approval,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.AddApprovalAsync(approval, audit, cancellationToken));

    /// <inheritdoc />
    public Task<PromotionRecord> StartPromotionAsync(
        string image,
        string version,
        string channel,
        string actor,
        string? skipReason,
        IReadOnlyList<DistributionStep> steps,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) =>
        Guard(
            Promotions.StartPromotionAsync(
                image,
                version,
                channel,
                actor,
                skipReason,
                steps,
                audit,
                cancellationToken
            )
        );

    /// <inheritdoc />
    public Task<PromotionRecord?> FindOpenPromotionAsync(
        string image,
        string channel,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.FindOpenPromotionAsync(image, channel, cancellationToken));

    /// <inheritdoc />
    public Task<PromotionRecord> ResumePromotionAsync(
        long promotionId,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.ResumePromotionAsync(promotionId, audit, cancellationToken));

    /// <inheritdoc />
    public Task RecordStepAsync(
        long promotionId,
        int position,
        StepStatus status,
        string detail,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    ) =>
        Guard(
            Promotions.RecordStepAsync(promotionId, position, status, detail, at, cancellationToken)
        );

    /// <inheritdoc />
    public Task FailPromotionAsync(
        long promotionId,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.FailPromotionAsync(promotionId, audit, cancellationToken));

    /// <inheritdoc />
    public Task<ChannelAssignment> CompletePromotionAsync(
        long promotionId,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.CompletePromotionAsync(promotionId, audit, cancellationToken));

    /// <inheritdoc />
    public Task<ChannelAssignment> MovePointerAsync(
        string image,
        string channel,
        string? expectedCurrent,
        string version,
        string action,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) =>
        Guard(
            Promotions.MovePointerAsync(
                image,
                channel,
                expectedCurrent,
                version,
                action,
                audit,
                cancellationToken
            )
        );

    /// <inheritdoc />
    public Task<RevocationRecord> RevokeAsync(
        string image,
        string version,
        string reason,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.RevokeAsync(image, version, reason, audit, cancellationToken));

    /// <inheritdoc />
    public Task ScheduleRevocationAsync(
        ScheduledRevocation revocation,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.ScheduleRevocationAsync(revocation, audit, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<ScheduledRevocation>> DueRevocationsAsync(
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.DueRevocationsAsync(now, cancellationToken));

    /// <inheritdoc />
    public Task<ScheduledRevocationClaim> ClaimScheduledRevocationAsync(
        ScheduledRevocation due,
        DateTimeOffset at,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.ClaimScheduledRevocationAsync(due, at, audit, cancellationToken));

    /// <inheritdoc />
    public Task RecordLineageAsync(
        Lineage lineage,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.RecordLineageAsync(lineage, cancellationToken));

    /// <inheritdoc />
    public Task<Lineage?> GetLineageAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.GetLineageAsync(image, version, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<(string Image, string Version)>> GetChildrenAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.GetChildrenAsync(image, version, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<VersionFlag>> GetFlagsAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.GetFlagsAsync(image, version, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<RetentionCandidate>> ListRetainableAsync(
        string image,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.ListRetainableAsync(image, cancellationToken));

    /// <inheritdoc />
    public Task MarkDeletedAsync(
        IReadOnlyList<(string Image, string Version)> versions,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.MarkDeletedAsync(versions, audit, cancellationToken));

    /// <inheritdoc />
    public Task<AuditEvent> AppendAsync(
        AuditEntry entry,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.AppendAsync(entry, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditEvent>> ReadAuditAsync(
        string? image = null,
        long afterSequence = 0,
        int limit = 1000,
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.ReadAuditAsync(image, afterSequence, limit, cancellationToken));

    /// <inheritdoc />
    public Task<AuditVerification> VerifyAuditAsync(
        CancellationToken cancellationToken = default
    ) => Guard(Promotions.VerifyAuditAsync(cancellationToken));
}
