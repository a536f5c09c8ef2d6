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
    /// Takes the oldest queued build whose target has fewer running builds than its limit (targets missing from
    /// <paramref name="limits"/> have limit 1), and turns it Running, owned by <paramref name="ownerPid"/>, started
    /// at <paramref name="at"/>. Null when nothing can start now. Two callers never claim the same build.
    /// </summary>
    Task<BuildRecord?> ClaimNextAsync(
        IReadOnlyDictionary<string, int> limits,
        int ownerPid,
        DateTimeOffset at,
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
}

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

    /// <summary>Pending deliveries due at or before <paramref name="now"/>, oldest first.</summary>
    Task<IReadOnlyList<WebhookDelivery>> DueAsync(
        DateTimeOffset now,
        int limit,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// Records an attempt (<paramref name="failure"/>: what went wrong, null when delivered): delivered (<paramref name="nextAttemptAt"/> null and <paramref name="delivered"/>), retry
    /// later (not delivered, <paramref name="nextAttemptAt"/> set) or given up (neither).
    /// </summary>
    Task RecordAttemptAsync(
        string deliveryId,
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
