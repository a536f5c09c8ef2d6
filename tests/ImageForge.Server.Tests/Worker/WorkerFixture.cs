using ImageForge.Application;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;
using ImageForge.Core.Worker;
using ImageForge.Server.Queue;
using ImageForge.Storage;
using ImageForge.TestSupport;
using ImageForge.TestUtils;

namespace ImageForge.Server.Tests.Worker;

/// <summary>
/// A worker's parts over a copy of the repository's content (so a test may edit a definition or a hardening
/// script), a fresh catalog and a fake clock. No resolver: these specs must not reach a Debian mirror.
/// </summary>
internal sealed class WorkerFixture : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("imageforge-worker");

    private WorkerFixture(ManualTimeProvider time, string? database, ProviderRegistry? providers)
    {
        Time = time;
        foreach (var folder in new[] { "templates", "baselines", "hardening" })
        {
            DirectoryTrees.Copy(
                Path.Combine(RepoPaths.Root, folder),
                _dir.Combine("content", folder)
            );
        }

        Content = ContentPaths.UnderRoot(_dir.Combine("content"));
        Data = new DataPaths(_dir.Combine("data"), database);
        Pipeline = new Pipeline(
            new PipelineHost(
                new HostPaths(Content, Data),
                time,
                _ => null,
                _dir.Path,
                new Dictionary<string, string>()
            )
            {
                Resolvers = [],
            },
            providers ?? TestProviders.Shipped
        );
    }

    public ManualTimeProvider Time { get; }
    public ContentPaths Content { get; }
    public DataPaths Data { get; }
    public Pipeline Pipeline { get; }
    public Catalog Catalog { get; private set; } = null!;
    public QueueSignal Signal { get; } = new();

    public string ContentFile(params string[] parts) => _dir.Combine(["content", .. parts]);

    public static async Task<WorkerFixture> CreateAsync(
        DateTimeOffset now,
        string? database = null,
        ProviderRegistry? providers = null
    )
    {
        var fixture = new WorkerFixture(new ManualTimeProvider(now), database, providers);
        fixture.Catalog = await Catalog.OpenAsync(fixture.Data, fixture.Time);
        return fixture;
    }

    /// <summary>Runs a queued build the way the runner would, minus Packer: claimed, then completed as built.</summary>
    public async Task<ImageVersion> CompleteNextQueuedAsync(
        IReadOnlyList<Artifact>? artifacts = null,
        IReadOnlyList<EvidenceDocument>? evidence = null
    )
    {
        var claimed = await Catalog.ClaimNextAsync(
            new Dictionary<string, int>(),
            new Claimant("worker", Environment.ProcessId, TimeSpan.FromHours(1)),
            Time.GetUtcNow()
        );
        return await Catalog.CompleteBuildAsync(
            claimed!.Id,
            artifacts ?? [],
            evidence ?? [],
            VersionStatus.Built,
            Time.GetUtcNow()
        );
    }

    public async ValueTask DisposeAsync()
    {
        await Catalog.DisposeAsync();
        Signal.Dispose();
        _dir.Dispose();
    }
}
