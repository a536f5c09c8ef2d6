namespace ImageForge.Core.Builds;

/// <summary>
/// How many imports into each provider may run at once across the builds of one process: the worker's
/// <c>queue.limits</c> (a provider not listed has one), so several multi-cloud builds never upload into one cloud
/// past what its account's quotas and the worker's bandwidth allow. The command line runs one build: no limit.
/// </summary>
public sealed class ImportSlots
{
    private readonly IReadOnlyDictionary<string, int>? _limits;
    private readonly Dictionary<string, SemaphoreSlim> _slots = new(StringComparer.Ordinal);

    private ImportSlots(IReadOnlyDictionary<string, int>? limits) => _limits = limits;

    /// <summary>No limit: every import starts at once (one build in the process).</summary>
    public static ImportSlots Unlimited { get; } = new(null);

    /// <summary>At most <paramref name="limits"/>[provider] imports into a provider at once; 1 for one not listed.</summary>
    public static ImportSlots PerProvider(IReadOnlyDictionary<string, int> limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return new(limits);
    }

    /// <summary>The limit of <paramref name="provider"/>, or null when there is none.</summary>
    public int? LimitOf(string provider) =>
        _limits is null ? null : Math.Max(1, _limits.GetValueOrDefault(provider, 1));

    /// <summary>
    /// Waits for a free slot of <paramref name="provider"/>; <paramref name="waiting"/> is called once when the slot
    /// is not free at once. Disposing the answer frees the slot.
    /// </summary>
    public async Task<IDisposable> EnterAsync(
        string provider,
        Action<int> waiting,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(waiting);
        if (LimitOf(provider) is not { } limit)
        {
            return Slot.None;
        }
        SemaphoreSlim slots;
        lock (_slots)
        {
            if (!_slots.TryGetValue(provider, out slots!))
            {
                _slots[provider] = slots = new SemaphoreSlim(limit, limit);
            }
        }
        if (!await slots.WaitAsync(TimeSpan.Zero, cancellationToken))
        {
            waiting(limit);
            await slots.WaitAsync(cancellationToken);
        }
        return new Slot(slots);
    }

    private sealed class Slot(SemaphoreSlim? slots) : IDisposable
    {
        public static readonly Slot None = new(null);

        private SemaphoreSlim? _slots = slots;

        public void Dispose() => Interlocked.Exchange(ref _slots, null)?.Release();
    }
}
