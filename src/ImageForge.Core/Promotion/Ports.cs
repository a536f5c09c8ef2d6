using ImageForge.Core.Audit;
using ImageForge.Core.Builds;

namespace ImageForge.Core.Promotion;

/// <summary>
/// One provider's half of promotion, revocation and retention (the local registry now, the clouds later). Every
/// operation is idempotent: running a step that already succeeded does nothing and succeeds again.
/// </summary>
public interface IDistributionTarget
{
    /// <summary>The target (provider) whose artifacts this publishes: local, aws, azure, gcp.</summary>
    string Target { get; }

    /// <summary>Makes the step's artifacts available in the channel (copy, share, tag).</summary>
    Task<StepOutcome> PublishAsync(
        ImageVersion version,
        string channel,
        DistributionStep planned,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// A rollback moves <paramref name="channel"/> from <paramref name="leaving"/> back to <paramref name="serving"/>
    /// without a promotion: what the provider publishes per channel (a parameter, a family, permissions) follows,
    /// before the catalog's pointer moves (a failure leaves the pointer where it was). <paramref name="serving"/> is
    /// null when a revocation left the channel empty: what the channel published of <paramref name="leaving"/> is
    /// withdrawn and nothing takes its place. <paramref name="targets"/> are the definition's targets (channel
    /// options). By default there is nothing to follow: the catalog's pointer is all the channel has.
    /// </summary>
    Task<StepOutcome> RollBackAsync(
        string channel,
        ImageVersion? leaving,
        ImageVersion? serving,
        IReadOnlyList<Definitions.TargetSpec> targets,
        CancellationToken cancellationToken = default
    ) =>
        Task.FromResult(
            StepOutcome.Done("nothing to restore: the catalog's pointer serves the channel")
        );

    /// <summary>Marks every published copy of the version deprecated or revoked, with the reason.</summary>
    Task<StepOutcome> DeprecateAsync(
        ImageVersion version,
        string reason,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// After <see cref="DeprecateAsync"/>, where the baseline asks (<c>revocation: { disable: true }</c>): makes the
    /// version's images unusable, so that nothing launches them even by id (AWS DisableImage, GCE DELETED). By default
    /// the provider has nothing more than its deprecation.
    /// </summary>
    Task<StepOutcome> DisableAsync(
        ImageVersion version,
        string reason,
        CancellationToken cancellationToken = default
    ) =>
        Task.FromResult(
            StepOutcome.Done($"{Target} has nothing to disable beyond its deprecation")
        );

    /// <summary>Removes what the provider holds of a version retention collects (published copies, images).</summary>
    Task<StepOutcome> DeleteAsync(
        ImageVersion version,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// What the provider holds now of each of the version's images of this target, read from the provider itself
    /// (<c>verify --live</c>, <c>channels show --live</c>): one entry per artifact, <see cref="LiveState.Missing"/>
    /// for one that is gone. By default the provider has no live view and returns nothing (its artifacts are then
    /// reported as not inspected).
    /// </summary>
    Task<IReadOnlyList<LiveImage>> InspectAsync(
        ImageVersion version,
        CancellationToken cancellationToken = default
    ) => Task.FromResult<IReadOnlyList<LiveImage>>([]);
}

/// <summary>
/// Channels, promotions, approvals, revocations, lineage and retention in the catalog (port; ImageForge.Storage
/// implements it). Every method that changes state also appends its audit event, in the same transaction.
/// </summary>
public interface IPromotionStore
{
    Task<IReadOnlyList<ChannelState>> GetChannelsAsync(
        string image,
        CancellationToken cancellationToken = default
    );

    /// <summary>Assignments oldest first, of one channel or all of an image's.</summary>
    Task<IReadOnlyList<ChannelAssignment>> GetHistoryAsync(
        string image,
        string? channel = null,
        CancellationToken cancellationToken = default
    );

    Task<IReadOnlyList<Approval>> GetApprovalsAsync(
        string image,
        string version,
        string channel,
        CancellationToken cancellationToken = default
    );

    /// <summary>Records an approval; a second approval by the same actor replaces the first (it counts once).</summary>
    Task AddApprovalAsync(
        Approval approval,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    );

    /// <summary>The rejection of a version for a channel, if one stands.</summary>
    Task<Rejection?> GetRejectionAsync(
        string image,
        string version,
        string channel,
        CancellationToken cancellationToken = default
    );

    /// <summary>Records a rejection with its audit event; rejecting again replaces the first (actor, time, reason).</summary>
    Task RejectAsync(
        Rejection rejection,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    );

    /// <summary>The acknowledgements of a version's anomalies.</summary>
    Task<IReadOnlyList<AnomalyAcknowledgement>> GetAnomalyAcknowledgementsAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    );

    /// <summary>Records an acknowledgement with its audit event; acknowledging again replaces the first.</summary>
    Task AcknowledgeAnomalyAsync(
        AnomalyAcknowledgement acknowledgement,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Opens a promotion with its steps pending. Throws <see cref="PromotionConflictException"/> when another
    /// promotion of the channel is running; a failed one of another version is abandoned.
    /// </summary>
    Task<PromotionRecord> StartPromotionAsync(
        string image,
        string version,
        string channel,
        string actor,
        string? skipReason,
        IReadOnlyList<DistributionStep> steps,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    );

    /// <summary>The newest open (running or failed) promotion of the channel, if any.</summary>
    Task<PromotionRecord?> FindOpenPromotionAsync(
        string image,
        string channel,
        CancellationToken cancellationToken = default
    );

    /// <summary>Takes a failed promotion back to running for --resume; conflict when it is running already.</summary>
    Task<PromotionRecord> ResumePromotionAsync(
        long promotionId,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    );

    Task RecordStepAsync(
        long promotionId,
        int position,
        StepStatus status,
        string detail,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );

    /// <summary>Marks the promotion failed (its failed steps wait for --resume); the channel does not move.</summary>
    Task FailPromotionAsync(
        long promotionId,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    );

    /// <summary>In one transaction: every step must have succeeded; moves the pointer, records the assignment.</summary>
    Task<ChannelAssignment> CompletePromotionAsync(
        long promotionId,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Moves a channel pointer if it still points at <paramref name="expectedCurrent"/> (a rollback); throws
    /// <see cref="PromotionConflictException"/> when it moved meanwhile or a promotion of it is running.
    /// </summary>
    Task<ChannelAssignment> MovePointerAsync(
        string image,
        string channel,
        string? expectedCurrent,
        string version,
        string action,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// In one transaction: marks the version revoked, moves every channel pointing at it to its last good version
    /// (or empties it when there is none), flags versions built on it, and appends the audit event.
    /// </summary>
    Task<RevocationRecord> RevokeAsync(
        string image,
        string version,
        string reason,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    );

    Task ScheduleRevocationAsync(
        ScheduledRevocation revocation,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    );

    /// <summary>Scheduled revocations not yet applied whose time is at or before <paramref name="now"/>.</summary>
    Task<IReadOnlyList<ScheduledRevocation>> DueRevocationsAsync(
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Claims <paramref name="due"/> and, when its version is still built or rejected, revokes it as
    /// <see cref="RevokeAsync"/> does, with <paramref name="audit"/>: one write transaction, so of appliers racing
    /// exactly one applies it (one revocation, one audit event).
    /// </summary>
    Task<ScheduledRevocationClaim> ClaimScheduledRevocationAsync(
        ScheduledRevocation due,
        DateTimeOffset at,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    );

    Task RecordLineageAsync(Lineage lineage, CancellationToken cancellationToken = default);

    Task<Lineage?> GetLineageAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    );

    /// <summary>The versions recorded as built on this one (their lineage names it as parent), by image and version.</summary>
    Task<IReadOnlyList<(string Image, string Version)>> GetChildrenAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    );

    Task<IReadOnlyList<VersionFlag>> GetFlagsAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    );

    /// <summary>Every version not deleted nor pending, newest first.</summary>
    Task<IReadOnlyList<RetentionCandidate>> ListRetainableAsync(
        string image,
        CancellationToken cancellationToken = default
    );

    /// <summary>Marks versions deleted in one transaction, with one audit event.</summary>
    Task MarkDeletedAsync(
        IReadOnlyList<(string Image, string Version)> versions,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    );
}
