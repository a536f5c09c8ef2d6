using ImageForge.Core.Builds;

namespace ImageForge.Core.Worker;

/// <summary>A build asked for through the queue (API, CLI with --server, a schedule, the CVE job).</summary>
/// <param name="Build">The prepared build's row values (the fingerprint is computed when the request is checked).</param>
/// <param name="IdempotencyKey">
/// The client's key (HTTP <c>Idempotency-Key</c>): a second request with the same key returns the first build, so a
/// retried POST never builds twice. Null for none.
/// </param>
/// <param name="Coalesce">
/// True: when a build of the same image and target is already queued (not yet running), return that one instead of
/// queueing another (twenty people asking for "rebuild now" get one build).
/// </param>
public sealed record BuildRequest(NewBuild Build, string? IdempotencyKey, bool Coalesce);

/// <summary>What queueing did.</summary>
/// <param name="Build">The build row (status Queued, or whatever the joined build is in now).</param>
/// <param name="Joined">True when an existing build was returned (same idempotency key, or coalesced).</param>
public sealed record QueuedBuild(BuildRecord Build, bool Joined);

/// <summary>
/// The persisted build queue (port; ImageForge.Storage implements it). Queued builds are build rows in status
/// Queued, so they survive a restart and show in <c>builds list</c>. Every method is one transaction.
/// </summary>
public interface IBuildQueueStore
{
    /// <summary>Queues a build (or returns the one it joins, see <see cref="BuildRequest"/>).</summary>
    Task<QueuedBuild> EnqueueAsync(
        BuildRequest request,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Takes the oldest queued build the claimant takes (<see cref="Claimant.Providers"/>) whose target has fewer
    /// running builds than its limit (targets missing from <paramref name="limits"/> have limit 1), and turns it
    /// Running under the claimant's lease, started at
    /// <paramref name="at"/>: its epoch raised by one, its attempts by one, its lease running out after
    /// <see cref="Claimant.Lease"/> by the database's clock. Null when nothing can start now. Two callers never
    /// claim the same build.
    /// </summary>
    Task<BuildRecord?> ClaimNextAsync(
        IReadOnlyDictionary<string, int> limits,
        Claimant claimant,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Extends a lease by <paramref name="lease"/> from now (the database's clock). False when the lease is no longer
    /// held (the build was taken over, queued again or has ended): the worker must stop the build.
    /// </summary>
    Task<bool> RenewLeaseAsync(
        BuildLease held,
        TimeSpan lease,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Ends a lease now (its worker is known to be dead: its process is gone from this machine), so the next
    /// <see cref="ReapExpiredLeasesAsync"/> takes the build over. False when the lease is no longer held.
    /// </summary>
    Task<bool> ExpireLeaseAsync(BuildLease held, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes over every running build whose lease ran out (its worker is paused, partitioned or dead), one caller at a
    /// time: raises its epoch (so its old worker can record nothing more) and queues it again when it has been claimed
    /// fewer than <paramref name="maxAttempts"/> times, else ends it as Failed saying why; a build someone asked to
    /// cancel ends as Cancelled, and one whose imports began ends as Interrupted, kept for <c>build --resume</c>.
    /// Returns each build as it was before, with what became of it. <paramref name="ended"/> gives the audit event of
    /// each build it ends (given the build as it ended), appended in the same transaction.
    /// </summary>
    Task<IReadOnlyList<ReapedLease>> ReapExpiredLeasesAsync(
        int maxAttempts,
        DateTimeOffset at,
        Func<BuildRecord, Audit.AuditEntry>? ended = null,
        CancellationToken cancellationToken = default
    );

    /// <summary>Queued builds, oldest first.</summary>
    Task<IReadOnlyList<BuildRecord>> ListQueuedAsync(CancellationToken cancellationToken = default);

    /// <summary>Cancels a queued build (it never ran): status Cancelled with the message. False when it is not queued.</summary>
    Task<bool> CancelQueuedAsync(
        string buildId,
        string message,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Records a scheduled build that did not run because its inputs had not changed: a build row that starts and
    /// ends at <paramref name="at"/> in status Skipped, with <paramref name="reason"/> as its message.
    /// </summary>
    Task<BuildRecord> RecordSkippedAsync(
        NewBuild build,
        string reason,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );

    /// <summary>The newest Succeeded build of the image on the target, or null.</summary>
    Task<BuildRecord?> LastSucceededAsync(
        string image,
        string target,
        CancellationToken cancellationToken = default
    );
}

/// <summary>Who claims a queued build: the worker (<see cref="WorkerInfo.Id"/>), its process, and the lease it asks.</summary>
public sealed record Claimant(string Worker, int Pid, TimeSpan Lease)
{
    /// <summary>
    /// The providers whose builds it takes: only builds all of whose targets are among them are claimed. Null for any.
    /// </summary>
    public IReadOnlySet<string>? Providers { get; init; }

    /// <summary>Whether KVM runs a guest where it runs (its probe passed): only then does it claim builds that require KVM.</summary>
    public bool Kvm { get; init; }
}

/// <summary>A build whose lease ran out, as it was (<paramref name="Build"/>), and what it became.</summary>
/// <param name="Build">The build before it was taken over: its owner, tool process group and attempts.</param>
/// <param name="Became">Queued (runs again), or Failed, Cancelled or Interrupted.</param>
/// <param name="Message">What the build's log (and, when it ended, its message) says.</param>
public sealed record ReapedLease(BuildRecord Build, BuildStatus Became, string Message);

/// <summary>
/// What a worker can do, as it registered it: the providers it builds for and whether KVM works (the boot test's own
/// probe, docs/cluster.md "Requiring KVM").
/// </summary>
public sealed record WorkerCapabilities(IReadOnlyList<string> Providers, bool Kvm)
{
    /// <summary>Why KVM does not work there (<c>no /dev/kvm</c>, the probe guest's exit, not probed yet); null when it works.</summary>
    public string? KvmReason { get; init; }
}

/// <summary>A worker process that registered with the catalog, as <c>imageforge workers</c> lists it.</summary>
/// <param name="Id">New at every start: <c>&lt;name&gt;-&lt;12 hex&gt;</c>.</param>
/// <param name="Name">worker.yaml <c>name</c>, default the host name.</param>
/// <param name="Host">Its machine and boot (<see cref="HostIdentity"/>).</param>
/// <param name="Pid">Its process id on that machine.</param>
/// <param name="StartedAt">When it registered.</param>
/// <param name="HeartbeatAt">Its last heartbeat (the database's clock).</param>
/// <param name="StoppedAt">When it stopped cleanly; null while it runs or when it died.</param>
/// <param name="Capabilities">What it can build.</param>
/// <param name="Lease">Its <c>queue.lease</c>.</param>
public sealed record WorkerInfo(
    string Id,
    string Name,
    string Host,
    int Pid,
    DateTimeOffset StartedAt,
    DateTimeOffset HeartbeatAt,
    DateTimeOffset? StoppedAt,
    WorkerCapabilities Capabilities,
    TimeSpan Lease
)
{
    /// <summary>Its last heartbeat is older than its lease (the database's clock): it is paused, cut off or dead.</summary>
    public bool Silent { get; init; }

    /// <summary>stopped, silent or running.</summary>
    public string State =>
        StoppedAt is not null ? "stopped"
        : Silent ? "silent"
        : "running";

    /// <summary>The builds running under its lease now.</summary>
    public IReadOnlyList<string> Builds { get; init; } = [];
}

/// <summary>
/// The workers sharing a catalog (port; ImageForge.Storage implements it): each registers at start, heartbeats
/// while it runs and says when it stops.
/// </summary>
public interface IWorkerRegistry
{
    /// <summary>Registers a worker starting now; returns it as recorded.</summary>
    Task<WorkerInfo> RegisterWorkerAsync(
        string id,
        string name,
        int pid,
        WorkerCapabilities capabilities,
        TimeSpan lease,
        CancellationToken cancellationToken = default
    );

    /// <summary>Replaces what a registered worker can do (its KVM probe answered after it registered).</summary>
    Task UpdateCapabilitiesAsync(
        string workerId,
        WorkerCapabilities capabilities,
        CancellationToken cancellationToken = default
    );

    /// <summary>Records a heartbeat of a registered worker (the database's clock).</summary>
    Task HeartbeatAsync(string workerId, CancellationToken cancellationToken = default);

    /// <summary>Records that a worker stopped cleanly.</summary>
    Task WorkerStoppedAsync(string workerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Workers whose last heartbeat is within <paramref name="recent"/> of now (the database's clock), newest first,
    /// with the builds under their leases.
    /// </summary>
    Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(
        TimeSpan recent,
        CancellationToken cancellationToken = default
    );
}

/// <summary>One firing of an image's schedule, as recorded (exactly once per image, target and instant).</summary>
public sealed record ScheduleFiring(
    string Image,
    string Target,
    DateTimeOffset ScheduledFor,
    DateTimeOffset FiredAt,
    string Outcome,
    string? BuildId,
    string Reason
);

/// <summary>Schedule bookkeeping (port): which scheduled instants were handled, so a restart never fires one twice.</summary>
public interface IScheduleLedger
{
    /// <summary>
    /// Records the firing; false (and nothing written) when that image, target and instant was already recorded.
    /// </summary>
    Task<bool> TryRecordFiringAsync(
        ScheduleFiring firing,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Records a firing that queues a build and queues it (<paramref name="request"/>: by its idempotency key,
    /// coalescing) in one transaction, the firing naming the build: null, and nothing written or queued, when that
    /// image, target and instant was already recorded. So a double firing queues one build, and a worker dying
    /// mid-firing leaves either both or neither.
    /// </summary>
    Task<QueuedBuild?> RecordFiringAndEnqueueAsync(
        ScheduleFiring firing,
        BuildRequest request,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Names the build a recorded firing queued or recorded as skipped (a firing is recorded first, so that an
    /// instant is handled once, and its build exists only after).
    /// </summary>
    Task AttachFiringBuildAsync(
        string image,
        string target,
        DateTimeOffset scheduledFor,
        string buildId,
        CancellationToken cancellationToken = default
    );

    /// <summary>The newest recorded firing of the image on the target, or null.</summary>
    Task<ScheduleFiring?> LastFiringAsync(
        string image,
        string target,
        CancellationToken cancellationToken = default
    );
}

/// <summary>
/// CVE-driven rebuilds (port): queues the patch build and remembers the advisory set in one transaction, so the
/// same set of advisories never queues a second build of the image (no rebuild storms).
/// </summary>
public interface ICveRebuildLedger
{
    /// <summary>
    /// Queues <paramref name="build"/> unless this image and target already had a build for exactly
    /// <paramref name="advisories"/> (sorted, distinct ids); returns the new build, or null when it had.
    /// </summary>
    Task<BuildRecord?> EnqueueOnceAsync(
        NewBuild build,
        IReadOnlyList<string> advisories,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );
}

/// <summary>An API token as stored: only the sha256 of its secret is kept.</summary>
public sealed record ApiToken(
    string Id,
    string Actor,
    string Role,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt
);

/// <summary>API tokens (port).</summary>
public interface ITokenStore
{
    /// <summary>Stores a new token by the sha256 (lowercase hex) of its secret.</summary>
    Task<ApiToken> CreateTokenAsync(
        string actor,
        string role,
        string secretSha256,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );

    /// <summary>The token with this secret hash, unless revoked; null otherwise.</summary>
    Task<ApiToken?> FindActiveTokenAsync(
        string secretSha256,
        CancellationToken cancellationToken = default
    );

    Task<IReadOnlyList<ApiToken>> ListTokensAsync(CancellationToken cancellationToken = default);

    /// <summary>Revokes a token; false when there is no such active token.</summary>
    Task<bool> RevokeTokenAsync(
        string id,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    );
}

/// <summary>One delivery of one event to one webhook URL, with its attempts so far.</summary>
public sealed record WebhookDelivery
{
    public required string Id { get; init; }
    public required string EventId { get; init; }
    public required string EventType { get; init; }
    public required string Url { get; init; }

    /// <summary>The JSON body sent (never holds a secret).</summary>
    public required string Payload { get; init; }

    /// <summary>pending (will be tried at <see cref="NextAttemptAt"/>), delivered, or failed (gave up).</summary>
    public required string State { get; init; }
    public required int Attempts { get; init; }
    public int? LastStatusCode { get; init; }
    public string? LastError { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? NextAttemptAt { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }

    /// <summary>The W3C traceparent of the work that published the event, sent with every attempt.</summary>
    public string? TraceParent { get; init; }

    /// <summary>Every attempt so far, oldest first (filled by <see cref="IWebhookLog.ListAsync"/>).</summary>
    public IReadOnlyList<WebhookAttempt> History { get; init; } = [];

    /// <summary>
    /// The claim this delivery was read under (set by <see cref="IWebhookLog.ClaimDueAsync"/>, null otherwise): the
    /// attempt is recorded with it, and only while no other dispatcher has claimed the delivery since.
    /// </summary>
    public WebhookClaim? Claim { get; init; }

    /// <summary>The worker whose dispatcher claimed it last (null: never claimed).</summary>
    public string? ClaimedBy { get; init; }
}

/// <summary>
/// One dispatcher's claim on a delivery (docs/cluster.md): the delivery's id and the claim epoch, raised at every
/// claim, so a dispatcher whose claim ran out and was taken by another cannot record its late attempt.
/// </summary>
public sealed record WebhookClaim(string DeliveryId, long Epoch);

/// <summary>One attempt of a delivery: when, and the receiver's status code or what went wrong.</summary>
public sealed record WebhookAttempt(int Attempt, DateTimeOffset At, int? StatusCode, string? Error);

/// <summary>The webhook delivery log (port): deliveries are persisted so retries survive a restart.</summary>
public interface IWebhookLog
{
    /// <summary>
    /// Adds one pending delivery per URL for the event, due at <paramref name="at"/>, with the W3C traceparent of
    /// the work that published it (null for none): its attempts continue that trace.
    /// </summary>
    Task<IReadOnlyList<WebhookDelivery>> AddAsync(
        string eventId,
        string eventType,
        string payload,
        IReadOnlyList<string> urls,
        DateTimeOffset at,
        string? traceParent = null,
        CancellationToken cancellationToken = default
    );

    /// <summary>Pending deliveries due at or before <paramref name="now"/>, oldest first (claimed or not).</summary>
    Task<IReadOnlyList<WebhookDelivery>> DueAsync(
        DateTimeOffset now,
        int limit,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Claims up to <paramref name="limit"/> pending deliveries due at or before <paramref name="now"/>, oldest first,
    /// that no dispatcher holds a live claim on, for <paramref name="worker"/> until <paramref name="claimFor"/> from
    /// now by the database's clock; each comes back with its <see cref="WebhookDelivery.Claim"/>. Claims take the
    /// catalog's writer lock, so racing dispatchers never claim one delivery both. A claim that ran out (its
    /// dispatcher died mid-send) no longer holds the delivery: it is due again.
    /// </summary>
    Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(
        DateTimeOffset now,
        int limit,
        string worker,
        TimeSpan claimFor,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Gives back the live claims <paramref name="worker"/> holds on deliveries still pending (its dispatcher stopping
    /// cleanly with nothing in flight), so another dispatcher may take them at once instead of when they run out; the
    /// claims' epochs stay, so nothing can be recorded under them. Returns how many were given back.
    /// </summary>
    Task<int> ReleaseClaimsAsync(string worker, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records an attempt made under <paramref name="claim"/> (<paramref name="failure"/>: what went wrong, null when
    /// delivered): delivered (<paramref name="nextAttemptAt"/> null and <paramref name="delivered"/>), retry
    /// later (not delivered, <paramref name="nextAttemptAt"/> set) or given up (neither). Refused, with nothing
    /// written, when another dispatcher has claimed the delivery since.
    /// </summary>
    Task RecordAttemptAsync(
        WebhookClaim claim,
        bool delivered,
        int? statusCode,
        string? failure,
        DateTimeOffset at,
        DateTimeOffset? nextAttemptAt,
        CancellationToken cancellationToken = default
    );

    /// <summary>Deliveries newest first, each with its attempts.</summary>
    Task<IReadOnlyList<WebhookDelivery>> ListAsync(
        int limit,
        CancellationToken cancellationToken = default
    );
}
