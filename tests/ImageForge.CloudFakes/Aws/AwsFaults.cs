using System.Collections.Concurrent;

namespace ImageForge.CloudFakes.Aws;

/// <summary>
/// Failures a spec injects into the fake. Each is answered as the real service answers it, so the SDK's own retry
/// policy and the code under test see what they would see in AWS.
/// </summary>
public sealed class AwsFaults
{
    private readonly ConcurrentDictionary<string, int> _throttled = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _failingRegions = new(
        StringComparer.Ordinal
    );
    private readonly ConcurrentDictionary<int, (long AfterBytes, int Times)> _cuts = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _held = new(
        StringComparer.Ordinal
    );
    private int _hiddenCopyCalls;

    /// <summary>
    /// The next <paramref name="times"/> calls of <paramref name="operation"/> are throttled: EC2
    /// <c>RequestLimitExceeded</c> (503), S3 <c>SlowDown</c> (503), SSM <c>ThrottlingException</c>, STS <c>Throttling</c>.
    /// </summary>
    public void Throttle(string operation, int times) => _throttled[operation] = times;

    /// <summary>
    /// Eventual consistency: an image that CopyImage creates from now on is unknown (<c>InvalidAMIID.NotFound</c>) to
    /// the first <paramref name="calls"/> calls that name it (DescribeImages, CreateTags, ModifyImageAttribute...).
    /// </summary>
    public void HideCopiedImages(int calls) => Volatile.Write(ref _hiddenCopyCalls, calls);

    /// <summary>Every call to <paramref name="region"/> answers 503 (<c>Unavailable</c> / <c>ServiceUnavailable</c>).</summary>
    public void FailRegion(string region) => _failingRegions[region] = true;

    /// <summary>Ends <see cref="FailRegion"/>.</summary>
    public void RestoreRegion(string region) => _failingRegions.TryRemove(region, out _);

    /// <summary>
    /// The next <paramref name="times"/> UploadPart calls of part <paramref name="partNumber"/> (of any upload) have
    /// their connection cut after the fake read <paramref name="afterBytes"/> of the body.
    /// </summary>
    public void CutUploadPart(int partNumber, long afterBytes, int times = 1) =>
        _cuts[partNumber] = (afterBytes, times);

    /// <summary>
    /// Calls of <paramref name="operation"/> wait unanswered (the call stays in flight) until
    /// <see cref="Release"/>: a spec holds one step of an import for as long as it looks at what else runs.
    /// </summary>
    public void Hold(string operation) =>
        _held[operation] = new TaskCompletionSource(
            TaskCreationOptions.RunContinuationsAsynchronously
        );

    /// <summary>Answers the calls <see cref="Hold"/> kept waiting, and every later one at once.</summary>
    public void Release(string operation)
    {
        if (_held.TryRemove(operation, out var gate))
        {
            gate.TrySetResult();
        }
    }

    /// <summary>Clears every fault.</summary>
    public void Reset()
    {
        foreach (var operation in _held.Keys)
        {
            Release(operation);
        }
        _throttled.Clear();
        _failingRegions.Clear();
        _cuts.Clear();
        Volatile.Write(ref _hiddenCopyCalls, 0);
    }

    internal bool Throttles(string operation) => Take(_throttled, operation);

    internal Task HeldAsync(string operation) =>
        _held.TryGetValue(operation, out var gate) ? gate.Task : Task.CompletedTask;

    internal bool RegionFails(string region) => _failingRegions.ContainsKey(region);

    internal int HiddenCopyCalls => Volatile.Read(ref _hiddenCopyCalls);

    internal long? CutAfter(int partNumber)
    {
        while (_cuts.TryGetValue(partNumber, out var cut))
        {
            if (cut.Times <= 0)
            {
                return null;
            }

            if (_cuts.TryUpdate(partNumber, (cut.AfterBytes, cut.Times - 1), cut))
            {
                return cut.AfterBytes;
            }
        }

        return null;
    }

    private static bool Take(ConcurrentDictionary<string, int> counters, string key)
    {
        while (counters.TryGetValue(key, out var left) && left > 0)
        {
            if (counters.TryUpdate(key, left - 1, left))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Requests the fake received (after authentication), by operation and by region, for specs and benchmarks.</summary>
public sealed class AwsRequestCounts
{
    private readonly ConcurrentDictionary<string, int> _byOperation = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _byRegion = new(StringComparer.Ordinal);

    /// <summary>Requests of one operation (DescribeImages, UploadPart...) in every region.</summary>
    public int Of(string operation) => _byOperation.GetValueOrDefault(operation);

    /// <summary>Requests of one operation to one region.</summary>
    public int Of(string operation, string region) =>
        _byOperation.GetValueOrDefault($"{region}/{operation}");

    /// <summary>Requests to one region.</summary>
    public int In(string region) => _byRegion.GetValueOrDefault(region);

    /// <summary>Every request.</summary>
    public int Total => _byRegion.Values.Sum();

    /// <summary>Counts by operation name.</summary>
    public IReadOnlyDictionary<string, int> ByOperation =>
        _byOperation.Where(p => !p.Key.Contains('/', StringComparison.Ordinal)).ToDictionary();

    /// <summary>Counts by region.</summary>
    public IReadOnlyDictionary<string, int> ByRegion => _byRegion.ToDictionary();

    internal void Add(string operation, string region)
    {
        _byOperation.AddOrUpdate(operation, 1, (_, n) => n + 1);
        _byOperation.AddOrUpdate($"{region}/{operation}", 1, (_, n) => n + 1);
        _byRegion.AddOrUpdate(region, 1, (_, n) => n + 1);
    }
}
