using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ImageForge.Application.Access;
using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using ImageForge.Storage;
using ImageForge.TestUtils;

namespace ImageForge.Benchmarks;

/// <summary>
/// Issue 18: the catalog in PostgreSQL against the one SQLite file, in one run. (1) Claim throughput: 600 queued
/// local builds of several images, three claimers (three Catalog instances, as three workers) each claiming and
/// completing builds until the queue is empty; no build may be claimed twice or left queued. (2) API read latency: 200
/// concurrent readers over three workers sharing one PostgreSQL database, against the same readers on one worker
/// on SQLite. The runners are held (queue limit 0) and no worker reaches the network.
/// </summary>
internal sealed class ClusterLoadBenchmark : IBenchmark
{
    private const int Builds = 600;
    private const int Claimers = 3;
    private const int Readers = 200;
    private const int ReadsEach = 10;

    private static readonly string[] Images = ["web", "db", "cache", "proxy"];

    // worker-load's GETs (HeldWorker turns /health's cloud checks off).
    private static readonly string[] ReadPaths =
    [
        "/api/builds",
        "/api/builds/{id}",
        "/api/images",
        "/health",
        "/api/audit?limit=20",
    ];

    private static readonly Dictionary<string, int> Limits = new(StringComparer.Ordinal)
    {
        ["local"] = 1000,
    };

    public string Name => "cluster-load";

    public string Description =>
        "queue claims by 3 workers and 200 concurrent API reads, PostgreSQL against SQLite";

    public async Task<string> RunAsync()
    {
        var loadBefore = Report.LoadAverage();
        using var dir = new TempDirectory("imageforge-bench-cluster");
        var postgres = ThrowawayPostgres.Shared;
        var database = postgres.ConnectionString(postgres.CreateDatabase());
        var sqlite = new DataPaths(dir.Combine("sqlite"));
        var shared = new DataPaths(dir.Combine("claims"), database);

        var onSqlite = await ClaimAllAsync(sqlite);
        var onPostgres = await ClaimAllAsync(shared);

        // The readers read the catalogs the claims left (600 succeeded builds and versions each).
        var sqliteReads = await ReadAsync([sqlite]);
        var postgresReads = await ReadAsync([
            .. Enumerable
                .Range(1, Claimers)
                .Select(i => new DataPaths(dir.Combine($"worker-{i}"), database)),
        ]);

        var claimsOk = onSqlite.Ok && onPostgres.Ok;
        var readsOk = sqliteReads.Errors.Count == 0 && postgresReads.Errors.Count == 0;
        var ratio = onPostgres.PerSecond / onSqlite.PerSecond;
        var p99Ratio = postgresReads.Percentile(0.99) / sqliteReads.Percentile(0.99);
        var verdict =
            claimsOk && readsOk
                ? "met: no build claimed twice, none left queued, no read errors"
                : "NOT met: "
                    + string.Join(
                        "; ",
                        new[] { onSqlite.Problem, onPostgres.Problem }
                            .Where(p => p is not null)
                            .Concat(sqliteReads.Errors.Concat(postgresReads.Errors).Take(3))
                    );
        return new Report(
            "Cluster under load: PostgreSQL against SQLite",
            "dotnet run -c Release --project benchmarks/ImageForge.Benchmarks -- cluster-load"
        )
            .Line(
                $"Load average (1, 5, 15 min) at the start: {loadBefore}; at the end: {Report.LoadAverage()} (other work "
                    + "shares these cores; compare the two backends within this run, not with other runs)."
            )
            .Line("")
            .Line(
                $"Claims: {Builds} local builds of {Images.Length} images queued with `EnqueueAsync`, then {Claimers} "
                    + "claimers (three `Catalog` instances, as three workers; limit 1000 for local) each loop "
                    + "`ClaimNextAsync` then `CompleteBuildAsync` (succeeded: a new image version, no artifacts) until the queue is empty; SQLite is one "
                    + "catalog.db, PostgreSQL one database of a throwaway PostgreSQL 15 cluster on loopback (fsync off, "
                    + "as in the tests). Every claim and completion is one write transaction taking the catalog's one write "
                    + "lock, so the claimers take turns on either database."
            )
            .Line("")
            .Table(
                ["claims", "SQLite", "PostgreSQL"],
                [
                    ["builds queued", N(Builds), N(Builds)],
                    ["enqueue, wall time", Ms(onSqlite.Enqueue), Ms(onPostgres.Enqueue)],
                    ["claimed and completed", N(onSqlite.Claimed), N(onPostgres.Claimed)],
                    ["claims per claimer", onSqlite.PerClaimer, onPostgres.PerClaimer],
                    ["claims, wall time", Ms(onSqlite.Wall), Ms(onPostgres.Wall)],
                    [
                        "claims per second (claim + complete)",
                        Report.Number(onSqlite.PerSecond, "0"),
                        Report.Number(onPostgres.PerSecond, "0"),
                    ],
                    ["builds claimed twice", N(onSqlite.Twice), N(onPostgres.Twice)],
                    ["builds left queued", N(onSqlite.LeftQueued), N(onPostgres.LeftQueued)],
                ]
            )
            .Line(
                $"PostgreSQL / SQLite claims per second: {Report.Number(ratio, "0.00")} x (one run, same machine)."
            )
            .Line("")
            .Line(
                $"Reads: {Readers} concurrent readers x {ReadsEach} GETs over {string.Join(", ", ReadPaths)}, spread "
                    + $"round-robin over {Claimers} workers (Kestrel on 127.0.0.1, each its own data directory, all on "
                    + "the PostgreSQL database above), against the same readers on one worker over the SQLite catalog "
                    + "above. Each catalog holds the 600 succeeded builds (and versions) of the claims. Runners held (queue limit 0), "
                    + "no resolver, /health without its cloud checks (nothing leaves loopback). Client and workers share the 2 "
                    + "cores; warm-up reads are not measured."
            )
            .Line("")
            .Table(
                ["reads", "1 worker, SQLite", $"{Claimers} workers, PostgreSQL"],
                [
                    ["API reads", sqliteReads.Count, postgresReads.Count],
                    ["reads, wall time", Ms(sqliteReads.Wall), Ms(postgresReads.Wall)],
                    [
                        "reads per second",
                        Report.Number(sqliteReads.PerSecond, "0"),
                        Report.Number(postgresReads.PerSecond, "0"),
                    ],
                    Latency("p50", sqliteReads, postgresReads, 0.50),
                    Latency("p95", sqliteReads, postgresReads, 0.95),
                    Latency("p99", sqliteReads, postgresReads, 0.99),
                    ["read latency max", Ms(sqliteReads.Max), Ms(postgresReads.Max)],
                    .. ReadPaths.Select(path =>
                        (string[])
                            [
                                $"p99 of GET {path}",
                                Ms(ReadLoad.Percentile(sqliteReads.ByPath[path], 0.99)),
                                Ms(ReadLoad.Percentile(postgresReads.ByPath[path], 0.99)),
                            ]
                    ),
                    ["errors", N(sqliteReads.Errors.Count), N(postgresReads.Errors.Count)],
                ]
            )
            .Line(
                "/health's own answer is cached, but every request, /health included, looks its bearer token up in the "
                    + "catalog: a p99 that rises alike on every path points at what all requests share (that lookup, "
                    + "three hosts and the PostgreSQL server on the same cores), not at one endpoint's query."
            )
            .Line("")
            .Line(
                $"PostgreSQL (3 workers) / SQLite (1 worker) read p99: {Report.Number(p99Ratio, "0.00")} x."
            )
            .Line("")
            .Line(
                "Goal (no build claimed twice, none left queued, no read errors; claim rate and read p99 with 200 "
                    + $"concurrent readers reported for both): {verdict}."
            )
            .ToString();
    }

    private static async Task<ClaimRun> ClaimAllAsync(DataPaths data)
    {
        var time = TimeProvider.System;
        var catalogs = new List<Catalog>();
        try
        {
            for (var i = 0; i < Claimers; i++)
            {
                catalogs.Add(await Catalog.OpenAsync(data, time));
            }

            var enqueue = Stopwatch.StartNew();
            for (var i = 0; i < Builds; i++)
            {
                var image = Images[i % Images.Length];
                await catalogs[0]
                    .EnqueueAsync(
                        new BuildRequest(
                            new NewBuild(
                                image,
                                "local",
                                BuildTrigger.Manual,
                                "bench",
                                $"claim {i}",
                                $"fingerprint-{image}"
                            ),
                            IdempotencyKey: null,
                            Coalesce: false
                        ),
                        time.GetUtcNow()
                    );
            }

            enqueue.Stop();

            var claimed = new ConcurrentBag<string>();
            var counts = new int[Claimers];
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var claimers = catalogs
                .Select(
                    (catalog, c) =>
                        Task.Run(async () =>
                        {
                            await gate.Task;
                            while (
                                await catalog.ClaimNextAsync(
                                    Limits,
                                    new Claimant(
                                        "worker",
                                        Environment.ProcessId,
                                        TimeSpan.FromHours(1)
                                    ),
                                    time.GetUtcNow()
                                )
                                    is { } build
                            )
                            {
                                claimed.Add(build.Id);
                                counts[c]++;
                                // A build succeeds through CompleteBuildAsync (a new image version).
                                await catalog.CompleteBuildAsync(
                                    build.Id,
                                    [],
                                    [],
                                    VersionStatus.Built,
                                    time.GetUtcNow()
                                );
                            }
                        })
                )
                .ToList();
            var wall = Stopwatch.StartNew();
            gate.SetResult();
            await Task.WhenAll(claimers);
            wall.Stop();

            var queued = await catalogs[0].ListQueuedAsync();
            return new ClaimRun(
                enqueue.Elapsed,
                wall.Elapsed,
                claimed.Count,
                claimed.Count - claimed.Distinct(StringComparer.Ordinal).Count(),
                queued.Count,
                string.Join(" / ", counts.Select(N))
            );
        }
        finally
        {
            foreach (var catalog in catalogs)
            {
                await catalog.DisposeAsync();
            }
        }
    }

    private static async Task<ReadLoad> ReadAsync(IReadOnlyList<DataPaths> data)
    {
        var workers = new List<HeldWorker>();
        var clients = new List<HttpClient>();
        try
        {
            foreach (var where in data)
            {
                workers.Add(await HeldWorker.StartAsync(where));
            }

            var catalog = workers[0].Host.Catalog;
            var secret = ApiTokens.Generate();
            await catalog.CreateTokenAsync(
                $"bench-reader-{Guid.NewGuid():N}",
                "builder",
                ApiTokens.Hash(secret),
                TimeProvider.System.GetUtcNow()
            );
            var someBuild = (await catalog.ListBuildsAsync(limit: 1))[0].Id;
            string[] paths =
            [
                .. ReadPaths.Select(p => p.Replace("{id}", someBuild, StringComparison.Ordinal)),
            ];
            clients.AddRange(workers.Select(w => w.Client(secret)));

            await ApiReads.WarmUpAsync(clients, paths, 10);
            var reads = await ApiReads.RunAsync(clients, paths, Readers, ReadsEach);
            foreach (var worker in workers)
            {
                await worker.StopAsync();
            }

            // Per path as the report names it ({id}, not this catalog's build id).
            return reads with
            {
                ByPath = ReadPaths
                    .Zip(paths)
                    .ToDictionary(
                        p => p.First,
                        p => reads.ByPath[p.Second],
                        StringComparer.Ordinal
                    ),
            };
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }

            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }
        }
    }

    private static string[] Latency(string name, ReadLoad sqlite, ReadLoad postgres, double p) =>
        [$"read latency {name}", Ms(sqlite.Percentile(p)), Ms(postgres.Percentile(p))];

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Ms(TimeSpan t) => Ms(t.TotalMilliseconds);

    private static string Ms(double milliseconds) =>
        milliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    private sealed record ClaimRun(
        TimeSpan Enqueue,
        TimeSpan Wall,
        int Claimed,
        int Twice,
        int LeftQueued,
        string PerClaimer
    )
    {
        public double PerSecond => Claimed / Wall.TotalSeconds;

        public bool Ok => Twice == 0 && LeftQueued == 0 && Claimed == Builds;

        public string? Problem =>
            Ok ? null : $"{Claimed} claimed, {Twice} twice, {LeftQueued} left queued";
    }
}
