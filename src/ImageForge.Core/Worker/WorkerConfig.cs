namespace ImageForge.Core.Worker;

/// <summary>What the worker does with running builds when it is asked to stop.</summary>
public enum ShutdownMode
{
    /// <summary>Cancel them cleanly (Packer's group stopped, mounts released, recorded cancelled).</summary>
    Cancel,

    /// <summary>Let them finish, bounded by <see cref="WorkerConfig.ShutdownTimeout"/>.</summary>
    Finish,
}

/// <summary>
/// The worker's settings, read from <c>worker.yaml</c> by <see cref="WorkerConfigParser"/> (docs/worker.md,
/// "Configuration"). Every property has the documented default, so <see cref="Default"/> is a worker without a file.
/// </summary>
public sealed record WorkerConfig
{
    /// <summary>The settings of a worker without <c>worker.yaml</c>.</summary>
    public static WorkerConfig Default { get; } = new();

    /// <summary>
    /// <c>queue.limits</c>: how many builds may run at once per provider (local, aws, azure, gcp); a provider not
    /// listed has limit 1. Every value is at least 1.
    /// </summary>
    public IReadOnlyDictionary<string, int> QueueLimits { get; init; } =
        new Dictionary<string, int>(StringComparer.Ordinal);

    /// <summary>
    /// <c>queue.lease</c>: how long a claimed build stays this worker's without a renewal (default 60 s; renewed every
    /// third of it). A worker silent for longer (paused, partitioned, dead) loses the build to another worker.
    /// </summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// <c>queue.max_attempts</c>: how many times a build may be claimed; one whose lease ran out that often ends as
    /// failed instead of being queued again (default 3).
    /// </summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>
    /// <c>queue.capacity</c>: how many builds this worker runs at once, whatever their provider; null (the default)
    /// for no limit beyond <see cref="QueueLimits"/>, which count every running build of the catalog. With several
    /// workers on one catalog it spreads the queue over them.
    /// </summary>
    public int? Capacity { get; init; }

    /// <summary>
    /// <c>queue.providers</c>: the providers whose builds this worker claims (a build with imports needs every one of its
    /// targets); null (the default) for every provider it builds. Workers with different credentials or tools then
    /// share one queue.
    /// </summary>
    public IReadOnlyList<string>? Providers { get; init; }

    /// <summary><c>name</c>: the worker's name in <c>imageforge workers</c>; null for the host name.</summary>
    public string? Name { get; init; }

    /// <summary><c>shutdown</c>: cancel (the default) or finish running builds at shutdown.</summary>
    public ShutdownMode Shutdown { get; init; } = ShutdownMode.Cancel;

    /// <summary><c>shutdown_timeout</c>: how long the host waits for running work to stop (default 30 min).</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// <c>schedules.misfire_grace</c>: how old a missed scheduled instant may be and still fire once at start
    /// (default 6 h; 0 never catches up).
    /// </summary>
    public TimeSpan MisfireGrace { get; init; } = TimeSpan.FromHours(6);

    /// <summary><c>cve_rescan.interval</c>: how often the CVE job re-scans the versions channels point at (default 6 h).</summary>
    public TimeSpan CveRescanInterval { get; init; } = TimeSpan.FromHours(6);

    /// <summary><c>webhooks</c>: where events are sent and how often a delivery is tried.</summary>
    public WebhookSettings Webhooks { get; init; } = WebhookSettings.Default;

    /// <summary>
    /// <c>database</c>: the PostgreSQL catalog shared by several workers, as a connection string without the password
    /// (IMAGEFORGE_DATABASE wins over it); null keeps the SQLite file of the data directory.
    /// </summary>
    public string? Database { get; init; }

    /// <summary>
    /// <c>artifacts</c>: the artifact store every worker of a cluster shares, an absolute path such as an NFS mount
    /// (IMAGEFORGE_ARTIFACTS wins over it); null keeps the artifacts in the data directory.
    /// </summary>
    public string? Artifacts { get; init; }
}

/// <summary>The <c>webhooks</c> section of <c>worker.yaml</c>.</summary>
/// <param name="MaxAttempts">How many times one delivery is tried before it is given up (at least 1; default 8).</param>
/// <param name="Endpoints">The receivers; no two share a URL.</param>
public sealed record WebhookSettings(int MaxAttempts, IReadOnlyList<WebhookEndpoint> Endpoints)
{
    /// <summary>Default number of attempts per delivery.</summary>
    public const int DefaultMaxAttempts = 8;

    /// <summary>No endpoint, 8 attempts.</summary>
    public static WebhookSettings Default { get; } = new(DefaultMaxAttempts, []);

    /// <summary>The endpoints subscribed to <paramref name="eventType"/>.</summary>
    public IReadOnlyList<WebhookEndpoint> SubscribedTo(string eventType) =>
        [.. Endpoints.Where(e => e.Events.Contains(eventType, StringComparer.Ordinal))];

    /// <summary>The endpoint with this URL (as stored in a delivery), or null.</summary>
    public WebhookEndpoint? FindByUrl(string url) =>
        Endpoints.FirstOrDefault(e =>
            string.Equals(e.Url.AbsoluteUri, url, StringComparison.Ordinal)
        );
}

/// <summary>One webhook receiver.</summary>
/// <param name="Url">Absolute http or https URL, without user information (it is stored in the delivery log).</param>
/// <param name="Events">The event types sent to it (at least one, see <c>WorkerEventTypes</c>).</param>
/// <param name="SecretEnv">
/// The NAME of the environment variable holding the signing secret; the secret itself never enters a file, the
/// catalog or a log.
/// </param>
public sealed record WebhookEndpoint(Uri Url, IReadOnlyList<string> Events, string SecretEnv);
