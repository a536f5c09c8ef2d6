using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using ImageForge.Application;
using ImageForge.Cli;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Worker;
using ImageForge.Server;
using ImageForge.Server.Api;
using ImageForge.TestUtils;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ImageForge.Benchmarks;

/// <summary>
/// A worker over the repository's content for the worker benchmarks: Kestrel on a free loopback port, no resolver
/// and /health without its cloud checks (nothing reaches the network), and the runner held (queue limit 0 for the local target) so the queue and the API
/// are measured, not Packer.
/// </summary>
internal sealed class HeldWorker : IAsyncDisposable
{
    private HeldWorker(WorkerHost host, Uri address)
    {
        Host = host;
        Address = address;
    }

    public WorkerHost Host { get; }

    public Uri Address { get; }

    /// <param name="data">The worker's data directory.</param>
    /// <param name="content">Definitions, baselines and templates; null: the repository's.</param>
    /// <param name="extensions">Parts added to the worker, as the CLI adds the dashboard.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    public static async Task<HeldWorker> StartAsync(
        DataPaths data,
        ContentPaths? content = null,
        IReadOnlyList<IWorkerExtension>? extensions = null,
        CancellationToken cancellationToken = default
    )
    {
        var host = new PipelineHost(
            new HostPaths(content ?? ContentPaths.UnderRoot(RepoPaths.Root), data),
            TimeProvider.System,
            Environment.GetEnvironmentVariable,
            RepoPaths.Root,
            new Dictionary<string, string>()
        )
        {
            Resolvers = [],
        };
        var config = WorkerConfig.Default with
        {
            QueueLimits = new Dictionary<string, int>(StringComparer.Ordinal) { ["local"] = 0 },
        };
        var worker = await WorkerHost.CreateAsync(
            new WorkerOptions(
                host,
                CliComposition.Providers(),
                config,
                ["--urls", "http://127.0.0.1:0"]
            )
            {
                Extensions = [new NoCloudHealthChecks(), .. extensions ?? []],
            },
            cancellationToken
        );
        try
        {
            await worker.App.StartAsync(cancellationToken);
            var address = worker
                .App.Services.GetRequiredService<IServer>()
                .Features.Get<IServerAddressesFeature>()!
                .Addresses.First();
            return new HeldWorker(worker, new Uri(address));
        }
        catch
        {
            await worker.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client of this worker's API with a bearer token, allowing as many connections as readers.</summary>
    public HttpClient Client(string secret)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512 })
        {
            BaseAddress = Address,
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Bearer",
            secret
        );
        return client;
    }

    public Task StopAsync() => Host.App.StopAsync();

    public ValueTask DisposeAsync() => Host.DisposeAsync();

    // The repository's definitions target AWS, Azure and GCP: /health here must never ask them.
    private sealed class NoCloudHealthChecks : IWorkerExtension
    {
        public void AddServices(IServiceCollection services, WorkerOptions options) =>
            services.Configure<ApiHealthOptions>(o => o.CheckClouds = false);

        public void Use(IApplicationBuilder app) { }

        public void Map(IEndpointRouteBuilder endpoints) { }
    }
}

/// <summary>
/// Concurrent API readers: each reader sends its GETs one after another over the given paths, reader r through
/// client r modulo the number of clients (one client per worker), each GET timed on its own.
/// </summary>
internal static class ApiReads
{
    /// <summary>Sends each path <paramref name="times"/> times through every client, unmeasured (the first requests compile the endpoints).</summary>
    public static async Task WarmUpAsync(
        IEnumerable<HttpClient> clients,
        IReadOnlyList<string> paths,
        int times
    )
    {
        foreach (var client in clients)
        {
            foreach (var path in paths.SelectMany(p => Enumerable.Repeat(p, times)))
            {
                using var warm = await client.GetAsync(path);
            }
        }
    }

    public static async Task<ReadLoad> RunAsync(
        IReadOnlyList<HttpClient> clients,
        IReadOnlyList<string> paths,
        int readers,
        int readsEach
    )
    {
        var errors = new ConcurrentBag<string>();
        var latencies = new ConcurrentBag<(string Path, double Ms)>();
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(
            Enumerable
                .Range(0, readers)
                .Select(async r =>
                {
                    var http = clients[r % clients.Count];
                    for (var i = 0; i < readsEach; i++)
                    {
                        var path = paths[(r + i) % paths.Count];
                        var watch = Stopwatch.StartNew();
                        try
                        {
                            using var response = await http.GetAsync(path);
                            await response.Content.ReadAsByteArrayAsync();
                            watch.Stop();
                            if (!response.IsSuccessStatusCode)
                            {
                                errors.Add($"GET {path} {(int)response.StatusCode}");
                            }
                        }
                        catch (HttpRequestException e)
                        {
                            errors.Add($"GET {path}: {e.Message}");
                        }

                        latencies.Add((path, watch.Elapsed.TotalMilliseconds));
                    }
                })
        );
        wall.Stop();
        return new ReadLoad(
            [.. latencies.Select(l => l.Ms).Order()],
            latencies
                .GroupBy(l => l.Path, StringComparer.Ordinal)
                .ToDictionary(
                    g => g.Key,
                    g => g.Select(l => l.Ms).Order().ToArray(),
                    StringComparer.Ordinal
                ),
            wall.Elapsed,
            [.. errors]
        );
    }
}

/// <summary>
/// What a read load measured: every GET's latency in milliseconds (sorted), the same per path, the wall time and the
/// errors.
/// </summary>
internal sealed record ReadLoad(
    double[] Sorted,
    IReadOnlyDictionary<string, double[]> ByPath,
    TimeSpan Wall,
    IReadOnlyList<string> Errors
)
{
    public double PerSecond => Sorted.Length / Wall.TotalSeconds;

    public double Max => Sorted[^1];

    public double Percentile(double p) => Percentile(Sorted, p);

    public static double Percentile(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    public string Count => Sorted.Length.ToString(CultureInfo.InvariantCulture);
}
