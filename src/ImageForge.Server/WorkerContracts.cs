using ImageForge.Core.Builds;
using ImageForge.Core.Worker;

namespace ImageForge.Server;

/// <summary>A request to build, as the API and the schedules make it.</summary>
/// <param name="Image">The image definition's name.</param>
/// <param name="Target">The provider; null when the definition has exactly one target.</param>
/// <param name="Trigger">manual (API, CLI), schedule, cve.</param>
/// <param name="Requester">The actor: the token's name, or "schedule" / "cve-rescan".</param>
/// <param name="Reason">Free text shown in builds list ("CVE-2026-1234").</param>
/// <param name="IdempotencyKey">The client's Idempotency-Key header, or null.</param>
/// <param name="Role">The requester's role, recorded in the audit trail with the request.</param>
public sealed record BuildSubmission(
    string Image,
    string? Target,
    BuildTrigger Trigger,
    string Requester,
    string? Reason,
    string? IdempotencyKey,
    string Role = "builder"
);

/// <summary>
/// Queues builds for the worker's runner. Bad input (unknown image or target, a definition or baseline with
/// problems, a missing secret) throws <c>InvalidInputException</c> before anything is written.
/// </summary>
public interface IBuildRequests
{
    Task<QueuedBuild> QueueAsync(BuildSubmission submission, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels a queued build at once, or asks a running one to stop (its runner sees it within a second), and audits
    /// it with the actor and role. False when the build has already ended or does not exist.
    /// </summary>
    Task<bool> CancelAsync(
        string buildId,
        string actor,
        string role,
        CancellationToken cancellationToken
    );
}

/// <summary>Worker events for webhooks: build.finished, gate.failed, anomaly.raised, promoted, rolled_back, revoked, policy.denied.</summary>
public interface IWorkerEvents
{
    /// <summary>Records the event's deliveries (one per subscribed endpoint); they are sent in the background.</summary>
    Task PublishAsync(string eventType, object data, CancellationToken cancellationToken);
}

/// <summary>The webhook event types.</summary>
public static class WorkerEventTypes
{
    public const string BuildFinished = "build.finished";
    public const string GateFailed = "gate.failed";
    public const string Promoted = "promoted";
    public const string RolledBack = "rolled_back";
    public const string Revoked = "revoked";
    public const string PolicyDenied = "policy.denied";
    public const string AnomalyRaised = "anomaly.raised";

    public static readonly IReadOnlyList<string> All =
    [
        BuildFinished,
        GateFailed,
        Promoted,
        RolledBack,
        Revoked,
        PolicyDenied,
        AnomalyRaised,
    ];
}
