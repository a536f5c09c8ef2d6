using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using ImageForge.Application.Access;
using ImageForge.Core.Builds;
using ImageForge.TestUtils;

namespace ImageForge.Benchmarks;

/// <summary>
/// One worker (Kestrel, the real catalog) under 200 concurrent API reads and 20 concurrent build requests for the
/// same image, each sent twice (a client retrying with its Idempotency-Key): errors, builds created, read latency.
/// The runner is held (limit 0 for the local target) so the queue is measured, not Packer.
/// </summary>
internal sealed class WorkerLoadBenchmark : IBenchmark
{
    private const int Readers = 200;
    private const int ReadsEach = 10;
    private const int Requesters = 20;

    public string Name => "worker-load";

    public string Description =>
        "200 concurrent API reads and 20 concurrent build requests against one worker";

    public async Task<string> RunAsync()
    {
        using var dir = new TempDirectory("imageforge-bench-worker");
        await using var worker = await HeldWorker.StartAsync(new DataPaths(dir.Combine("data")));
        var builderSecret = ApiTokens.Generate();
        await worker.Host.Catalog.CreateTokenAsync(
            "bench-builder",
            "builder",
            ApiTokens.Hash(builderSecret),
            TimeProvider.System.GetUtcNow()
        );

        using var http = worker.Client(builderSecret);

        // 20 engineers ask for a rebuild at once, and each client retries once with the same key.
        var errors = new ConcurrentBag<string>();
        var buildIds = new ConcurrentBag<string>();
        var requests = Stopwatch.StartNew();
        await Task.WhenAll(
            Enumerable
                .Range(0, Requesters)
                .Select(async i =>
                {
                    for (var attempt = 0; attempt < 2; attempt++)
                    {
                        using var message = new HttpRequestMessage(HttpMethod.Post, "/api/builds")
                        {
                            Content = JsonContent.Create(
                                new { image = "debian-11-cis", reason = $"engineer {i}" }
                            ),
                        };
                        message.Headers.Add("Idempotency-Key", $"engineer-{i}");
                        using var response = await http.SendAsync(message);
                        var body = await response.Content.ReadAsStringAsync();
                        if (!response.IsSuccessStatusCode)
                        {
                            errors.Add($"POST {(int)response.StatusCode}: {body}");
                            continue;
                        }

                        using var json = JsonDocument.Parse(body);
                        buildIds.Add(
                            json.RootElement.GetProperty("build").GetProperty("id").GetString()!
                        );
                    }
                })
        );
        requests.Stop();
        var builds = await worker.Host.Catalog.ListBuildsAsync();
        var someBuild = builds.Count > 0 ? builds[0].Id : "1";

        // 200 readers, 10 reads each, over the read endpoints.
        string[] paths2 =
        [
            "/api/builds",
            $"/api/builds/{someBuild}",
            "/api/images",
            "/health",
            "/api/audit?limit=20",
        ];
        // Warm-up (first requests compile the endpoints): not measured.
        await ApiReads.WarmUpAsync([http], paths2, 10);
        var reads = await ApiReads.RunAsync([http], paths2, Readers, ReadsEach);
        await worker.StopAsync();
        foreach (var error in reads.Errors)
        {
            errors.Add(error);
        }

        var distinct = buildIds.Distinct(StringComparer.Ordinal).Count();
        var rows = new List<IReadOnlyList<string>>
        {
            Row(
                "build requests (20 clients x 2 tries)",
                (Requesters * 2).ToString(CultureInfo.InvariantCulture)
            ),
            Row("builds created", builds.Count.ToString(CultureInfo.InvariantCulture)),
            Row("distinct build ids returned", distinct.ToString(CultureInfo.InvariantCulture)),
            Row("build requests, wall time", $"{requests.Elapsed.TotalMilliseconds:0} ms"),
            Row("API reads", reads.Count),
            Row("reads, wall time", $"{reads.Wall.TotalMilliseconds:0} ms"),
            Row("reads per second", $"{reads.PerSecond:0}"),
            Row("read latency p50", $"{reads.Percentile(0.50):0.0} ms"),
            Row("read latency p95", $"{reads.Percentile(0.95):0.0} ms"),
            Row("read latency p99", $"{reads.Percentile(0.99):0.0} ms"),
            Row("read latency max", $"{reads.Max:0.0} ms"),
            Row("errors", errors.Count.ToString(CultureInfo.InvariantCulture)),
        };
        var verdict =
            errors.IsEmpty && builds.Count == 1 && distinct == 1
                ? "met: no errors, one build for twenty concurrent requests and their retries"
                : $"NOT met: {errors.Count} error(s), {builds.Count} build(s); first errors: {string.Join("; ", errors.Take(3))}";
        return new Report(
            "Worker under load",
            "dotnet run -c Release --project benchmarks/ImageForge.Benchmarks -- worker-load"
        )
            .Line(
                $"One worker on Kestrel (127.0.0.1) over a fresh catalog; {Readers} concurrent readers x {ReadsEach} "
                    + $"GETs over {string.Join(", ", paths2)}; {Requesters} concurrent POST /api/builds for one image, each "
                    + "retried once with its Idempotency-Key. The runner is held (queue limit 0) so no Packer runs; "
                    + "/health does not ask the clouds. "
                    + "The client runs in the same process and shares the 2 cores; 50 warm-up reads are not measured."
            )
            .Line("")
            .Table(["measure", "value"], rows)
            .Line($"Goal (no errors, no duplicate builds, p99 of reads reported): {verdict}.")
            .ToString();
    }

    private static IReadOnlyList<string> Row(string name, string value) => [name, value];
}
