using System.Globalization;
using Azure.ResourceManager.Compute;
using Azure.ResourceManager.Compute.Models;
using Polly;
using Polly.Retry;

namespace ImageForge.Providers.Azure;

/// <summary>What one look at a gallery version said about the regions being watched.</summary>
internal sealed record ReplicationView(
    GalleryImageVersionData Data,
    IReadOnlyDictionary<string, RegionalReplicationStatus> Regions
)
{
    public string State => Data.ProvisioningState?.ToString() ?? "Unknown";

    public bool Running => State is "Creating" or "Updating";

    public bool Completed(string region) =>
        Regions.TryGetValue(region, out var status)
        && status.State == RegionalReplicationState.Completed;

    public bool Failed(string region) =>
        Regions.TryGetValue(region, out var status)
        && status.State == RegionalReplicationState.Failed;

    /// <summary>Every watched region is done one way or the other, and Azure says so too.</summary>
    public bool Settled(IEnumerable<string> watched) =>
        !Running && watched.All(r => Completed(r) || Failed(r));

    public string Describe(IEnumerable<string> watched) =>
        string.Join(
            ", ",
            watched.Select(r =>
                Regions.TryGetValue(r, out var s)
                    ? string.Create(
                        CultureInfo.InvariantCulture,
                        $"{r} {s.State?.ToString() ?? "Unknown"} {s.Progress ?? 0}%"
                    )
                    : $"{r} not reported"
            )
        );

    public static ReplicationView Of(GalleryImageVersionData data) =>
        new(
            data,
            (data.ReplicationStatus?.Summary ?? [])
                .Where(s => s.Region is not null)
                .GroupBy(s => Normalize(s.Region))
                .ToDictionary(g => g.Key, g => g.Last(), StringComparer.OrdinalIgnoreCase)
        );

    /// <summary>Azure reports regions by display name at times ("West Europe"); compare by name.</summary>
    public static string Normalize(string region) =>
        region.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();
}

/// <summary>
/// Watches a gallery version's replication (<c>$expand=ReplicationStatus</c>) through a Polly retry pipeline until
/// every watched region is Completed or Failed, reporting per-region progress. When the wait runs out, the version is
/// read once more before anything is called failed: Azure often finishes while a client gives up (packer#7865).
/// </summary>
internal sealed class ReplicationWatch(TimeProvider time, TimeSpan interval)
{
    public async Task<(ReplicationView View, bool TimedOut)> WatchAsync(
        GalleryImageVersionResource version,
        IReadOnlyList<string> watched,
        TimeSpan timeout,
        Action<string> progress,
        CancellationToken cancellationToken
    )
    {
        var deadline = time.GetUtcNow() + timeout;
        string? last = null;
        var pipeline = new ResiliencePipelineBuilder<ReplicationView> { TimeProvider = time }
            .AddRetry(
                new RetryStrategyOptions<ReplicationView>
                {
                    MaxRetryAttempts = int.MaxValue,
                    Delay = interval,
                    BackoffType = DelayBackoffType.Constant,
                    UseJitter = false,
                    ShouldHandle = args =>
                        ValueTask.FromResult(
                            args.Outcome.Result is { } view
                                && !view.Settled(watched)
                                && time.GetUtcNow() + interval <= deadline
                        ),
                }
            )
            .Build();
        async ValueTask<ReplicationView> LookAsync(CancellationToken ct)
        {
            var view = ReplicationView.Of(
                (await version.GetAsync(ReplicationStatusType.ReplicationStatus, ct)).Value.Data
            );
            var described = $"{view.State}: {view.Describe(watched)}";
            if (described != last)
            {
                last = described;
                progress($"replication {version.Id.Name}: {described}");
            }

            return view;
        }

        var seen = await pipeline.ExecuteAsync(LookAsync, cancellationToken);
        if (seen.Settled(watched))
        {
            return (seen, false);
        }

        // The wait is over; Azure may have finished meanwhile (packer#7865): look once more before deciding.
        seen = await LookAsync(cancellationToken);
        return (seen, !seen.Settled(watched));
    }
}
