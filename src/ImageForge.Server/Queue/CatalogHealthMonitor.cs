namespace ImageForge.Server.Queue;

/// <summary>
/// How the worker's own catalog writes fared, as its keep-alive loop (<see cref="QueueRunner"/>) last saw them:
/// <c>GET /health</c> turns degraded when the last write failed (the database is unreachable) or waited longer than
/// <see cref="SlowWrite"/> for the writer lock.
/// </summary>
public sealed class CatalogHealthMonitor
{
    /// <summary>A write that waited longer than this for the catalog makes the worker degraded.</summary>
    public static readonly TimeSpan SlowWrite = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private CatalogWrite? _last;

    /// <summary>The last write observed; null before the first.</summary>
    public CatalogWrite? Last
    {
        get
        {
            lock (_lock)
            {
                return _last;
            }
        }
    }

    /// <summary>Records one write: when it ended, how long it took, and its failure (null when it succeeded).</summary>
    public void Record(DateTimeOffset at, TimeSpan took, string? problem)
    {
        lock (_lock)
        {
            _last = new CatalogWrite(at, took, problem);
        }
    }
}

/// <summary>One write of the worker to its catalog, as <see cref="CatalogHealthMonitor"/> saw it.</summary>
/// <param name="At">When it ended.</param>
/// <param name="Took">How long it took, waiting for the writer lock included.</param>
/// <param name="Problem">Why it failed; null when it succeeded.</param>
public sealed record CatalogWrite(DateTimeOffset At, TimeSpan Took, string? Problem)
{
    /// <summary>It succeeded within <see cref="CatalogHealthMonitor.SlowWrite"/>.</summary>
    public bool Healthy => Problem is null && Took <= CatalogHealthMonitor.SlowWrite;
}
