using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using ImageForge.Storage.Sql;

namespace ImageForge.Storage;

/// <summary>
/// The worker's state in the same catalog: the build queue (build rows in status Queued), schedule firings, CVE rebuilds,
/// API tokens and webhook deliveries. Each operation is one transaction; the database's locks make concurrent
/// processes take turns, so two claimers never take the same build and one idempotency key never queues twice.
/// </summary>
public sealed partial class Catalog
    : IBuildQueueStore,
        IWorkerRegistry,
        IScheduleLedger,
        ICveRebuildLedger,
        ITokenStore,
        IWebhookLog
{
    private SqlWorkerStore? _worker;

    // Stateless over the pooled connections, so a second instance made by a racing thread is harmless.
    private SqlWorkerStore Worker => _worker ??= new SqlWorkerStore(_dialect, ConnectAsync);

    /// <inheritdoc />
    public Task<QueuedBuild> EnqueueAsync(
        BuildRequest request,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.EnqueueAsync(request, at, cancellationToken));

    /// <inheritdoc />
    public Task<BuildRecord?> ClaimNextAsync(
        IReadOnlyDictionary<string, int> limits,
        Claimant claimant,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.ClaimNextAsync(limits, claimant, at, cancellationToken));

    /// <inheritdoc />
    public Task<bool> RenewLeaseAsync(
        BuildLease held,
        TimeSpan lease,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.RenewLeaseAsync(held, lease, cancellationToken));

    /// <inheritdoc />
    public Task<bool> ExpireLeaseAsync(
        BuildLease held,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.ExpireLeaseAsync(held, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<ReapedLease>> ReapExpiredLeasesAsync(
        int maxAttempts,
        DateTimeOffset at,
        Func<BuildRecord, AuditEntry>? ended = null,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.ReapExpiredLeasesAsync(maxAttempts, at, ended, cancellationToken));

    /// <inheritdoc />
    public Task<WorkerInfo> RegisterWorkerAsync(
        string id,
        string name,
        int pid,
        WorkerCapabilities capabilities,
        TimeSpan lease,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.RegisterWorkerAsync(id, name, pid, capabilities, lease, cancellationToken));

    /// <inheritdoc />
    public Task UpdateCapabilitiesAsync(
        string workerId,
        WorkerCapabilities capabilities,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.UpdateCapabilitiesAsync(workerId, capabilities, cancellationToken));

    /// <inheritdoc />
    public Task HeartbeatAsync(string workerId, CancellationToken cancellationToken = default) =>
        Guard(Worker.HeartbeatAsync(workerId, cancellationToken));

    /// <inheritdoc />
    public Task WorkerStoppedAsync(
        string workerId,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.WorkerStoppedAsync(workerId, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(
        TimeSpan recent,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.ListWorkersAsync(recent, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<BuildRecord>> ListQueuedAsync(
        CancellationToken cancellationToken = default
    ) => Guard(Worker.ListQueuedAsync(cancellationToken));

    /// <inheritdoc />
    public Task<bool> CancelQueuedAsync(
        string buildId,
        string message,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.CancelQueuedAsync(buildId, message, at, cancellationToken));

    /// <inheritdoc />
    public Task<BuildRecord> RecordSkippedAsync(
        NewBuild build,
        string reason,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.RecordSkippedAsync(build, reason, at, cancellationToken));

    /// <inheritdoc />
    public Task<BuildRecord?> LastSucceededAsync(
        string image,
        string target,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.LastSucceededAsync(image, target, cancellationToken));

    /// <inheritdoc />
    public Task<bool> TryRecordFiringAsync(
        ScheduleFiring firing,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.TryRecordFiringAsync(firing, cancellationToken));

    /// <inheritdoc />
    public Task<QueuedBuild?> RecordFiringAndEnqueueAsync(
        ScheduleFiring firing,
        BuildRequest request,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.RecordFiringAndEnqueueAsync(firing, request, at, cancellationToken));

    /// <inheritdoc />
    public Task AttachFiringBuildAsync(
        string image,
        string target,
        DateTimeOffset scheduledFor,
        string buildId,
        CancellationToken cancellationToken = default
    ) =>
        Guard(
            Worker.AttachFiringBuildAsync(image, target, scheduledFor, buildId, cancellationToken)
        );

    /// <inheritdoc />
    public Task<ScheduleFiring?> LastFiringAsync(
        string image,
        string target,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.LastFiringAsync(image, target, cancellationToken));

    /// <inheritdoc />
    public Task<BuildRecord?> EnqueueOnceAsync(
        NewBuild build,
        IReadOnlyList<string> advisories,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.EnqueueOnceAsync(build, advisories, at, cancellationToken));

    /// <inheritdoc />
    public Task<ApiToken> CreateTokenAsync(
        string actor,
        string role,
        string secretSha256,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.CreateTokenAsync(actor, role, secretSha256, at, cancellationToken));

    /// <inheritdoc />
    public Task<ApiToken?> FindActiveTokenAsync(
        string secretSha256,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.FindActiveTokenAsync(secretSha256, cancellationToken));

    /// <summary>Every token, revoked ones included, oldest first.</summary>
    public Task<IReadOnlyList<ApiToken>> ListTokensAsync(
        CancellationToken cancellationToken = default
    ) => Guard(Worker.ListTokensAsync(cancellationToken));

    /// <inheritdoc />
    public Task<bool> RevokeTokenAsync(
        string id,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.RevokeTokenAsync(id, at, cancellationToken));

    /// <inheritdoc />
    /// <remarks>
    /// Adding the event again for a URL it already has keeps (and returns) the existing delivery, so a publisher
    /// retrying after a crash never sends it twice.
    /// </remarks>
    public Task<IReadOnlyList<WebhookDelivery>> AddAsync(
        string eventId,
        string eventType,
        string payload,
        IReadOnlyList<string> urls,
        DateTimeOffset at,
        string? traceParent = null,
        CancellationToken cancellationToken = default
    ) =>
        Guard(
            Worker.AddAsync(eventId, eventType, payload, urls, at, traceParent, cancellationToken)
        );

    /// <inheritdoc />
    public Task<IReadOnlyList<WebhookDelivery>> DueAsync(
        DateTimeOffset now,
        int limit,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.DueAsync(now, limit, cancellationToken));

    /// <inheritdoc />
    public Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(
        DateTimeOffset now,
        int limit,
        string worker,
        TimeSpan claimFor,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.ClaimDueAsync(now, limit, worker, claimFor, cancellationToken));

    /// <inheritdoc />
    public Task<int> ReleaseClaimsAsync(
        string worker,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.ReleaseClaimsAsync(worker, cancellationToken));

    /// <inheritdoc />
    /// <exception cref="WebhookClaimLostException">Another dispatcher claimed the delivery since; nothing was written.</exception>
    /// <exception cref="CatalogException">The delivery is not pending (or does not exist); nothing was written.</exception>
    public Task RecordAttemptAsync(
        WebhookClaim claim,
        bool delivered,
        int? statusCode,
        string? failure,
        DateTimeOffset at,
        DateTimeOffset? nextAttemptAt,
        CancellationToken cancellationToken = default
    ) =>
        Guard(
            Worker.RecordAttemptAsync(
                claim,
                delivered,
                statusCode,
                failure,
                at,
                nextAttemptAt,
                cancellationToken
            )
        );

    /// <inheritdoc />
    public Task<IReadOnlyList<WebhookDelivery>> ListAsync(
        int limit,
        CancellationToken cancellationToken = default
    ) => Guard(Worker.ListAsync(limit, cancellationToken));
}
