using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using ImageForge.Storage;
using ImageForge.Toolchain.Processes;

namespace ImageForge.TestSupport;

/// <summary>
/// The size of one chaos run (docs/cluster.md): how many queued fakepacker builds, how long each runs, how many worker
/// processes with how many builds each, and how often a random busy worker is SIGKILLed and restarted.
/// </summary>
/// <param name="Builds">Builds queued before the workers start.</param>
/// <param name="LineDelayMs">fakepacker's FAKEPACKER_LINE_DELAY_MS for worker i (15 lines a build): "200" or "333-2000".</param>
/// <param name="KillEvery">Time between two kills.</param>
/// <param name="Kills">How many kills at most; null kills until every build has ended.</param>
/// <param name="Settle">How long the builds may take to end after the last kill.</param>
internal sealed record ChaosShape(
    int Builds,
    Func<int, string> LineDelayMs,
    TimeSpan KillEvery,
    int? Kills,
    TimeSpan Settle
)
{
    public int Workers { get; init; } = 3;

    public int Capacity { get; init; } = 3;

    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>What a chaos run left: the builds, their audit counts, the kills and how long each killed build took to run again.</summary>
internal sealed record ChaosRun(
    IReadOnlyList<BuildRecord> Builds,
    IReadOnlyDictionary<string, int> Ends,
    IReadOnlyDictionary<string, int> Starts,
    bool AuditVerifies,
    int VersionCount,
    IReadOnlyDictionary<string, int> Killed,
    IReadOnlyList<TimeSpan> Rerun,
    int Kills,
    IReadOnlyList<(int ExitCode, string Output)> Stopped,
    TimeSpan Elapsed
)
{
    /// <summary>
    /// How many killed builds ran again on the restarted worker (its start takes its predecessor's builds over) rather
    /// than on another one, and their slowest time: what the kill-to-running-elsewhere time is made of.
    /// </summary>
    public (int Count, TimeSpan Max) OnRestarted { get; init; }

    /// <summary>The same for the killed builds another (running) worker took.</summary>
    public (int Count, TimeSpan Max) OnOthers { get; init; }

    /// <summary>The <paramref name="p"/> percentile of the kill-to-running-elsewhere times.</summary>
    public TimeSpan Percentile(double p) =>
        Rerun[Math.Min(Rerun.Count - 1, (int)Math.Ceiling(p * Rerun.Count) - 1)];
}

/// <summary>
/// Real <c>imageforge worker</c> processes (their own data directories) on one PostgreSQL catalog, a queue of fakepacker
/// builds that run to Packer's own error (exit status 3), and a random busy worker SIGKILLed at intervals and
/// restarted on its data directory, while a watcher notes when each killed build runs again. The chaos spec
/// (small) and the cluster-chaos benchmark (the size) run it.
/// </summary>
internal static class ClusterChaos
{
    /// <summary>Nine steps, then the script's failure: each build ends failed with Packer's error.</summary>
    public static readonly string Transcript =
        string.Concat(
            Enumerable.Range(1, 9).Select(s => $"1795329432,,ui,say,==> null.local: step {s}\n")
        )
        + """
            1795329434,,ui,say,==> null.local: Running local shell script: /tmp/packer-shell1114647163
            1795329434,,ui,message,    null.local: hello%!(PACKER_COMMA) world
            1795329434,,ui,error,Build 'null.local' errored after 9 milliseconds 817 microseconds: Script exited with non-zero exit status: 3.Allowed exit codes are: [0]
            1795329434,,error-count,1
            1795329434,null.local,error,Script exited with non-zero exit status: 3.Allowed exit codes are: [0]
            1795329434,,ui,say,\n==> Builds finished but no artifacts were created.
            """;

    /// <summary>
    /// Runs <paramref name="shape"/> in <paramref name="directory"/> against <paramref name="database"/>, with the
    /// imageforge and fakepacker executables given.
    /// </summary>
    public static async Task<ChaosRun> RunAsync(
        ChaosShape shape,
        string database,
        string directory,
        string repositoryRoot,
        (string Imageforge, string FakePacker) executables,
        Action<string> log
    )
    {
        var transcript = Path.Combine(directory, "transcript.txt");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(transcript, Transcript);
        var dataDirs = Enumerable
            .Range(0, shape.Workers)
            .Select(i => Path.Combine(directory, $"w{i}"))
            .ToList();
        WorkerProcess Start(int i)
        {
            Directory.CreateDirectory(dataDirs[i]);
            var config = Path.Combine(dataDirs[i], "worker.yaml");
            var limit = shape.Workers * shape.Capacity;
            File.WriteAllText(
                config,
                $"name: w{i}\nqueue:\n  limits: {{ local: {limit} }}\n  capacity: {shape.Capacity}\n"
                    + $"  lease: {shape.Lease.TotalSeconds:0}s\n  max_attempts: 10\n"
            );
            // env restores SIGINT's default, which a non-interactive shell's background job inherits ignored.
            var spec = new ProcessSpec("env")
                .WithArguments([
                    "--default-signal=INT",
                    executables.Imageforge,
                    "worker",
                    "--config",
                    config,
                    "--urls",
                    "http://127.0.0.1:0",
                    "--data-dir",
                    dataDirs[i],
                ])
                .WithWorkingDirectory(repositoryRoot)
                .WithEnvironment("IMAGEFORGE_PACKER", executables.FakePacker)
                .WithEnvironment("FAKEPACKER_TRANSCRIPT", transcript)
                .WithEnvironment("FAKEPACKER_EXIT", "1")
                .WithEnvironment("FAKEPACKER_LINE_DELAY_MS", shape.LineDelayMs(i))
                .WithEnvironment("IMAGEFORGE_DATABASE", database);
            return new WorkerProcess(spec);
        }

        await using var catalog = await Catalog.OpenAsync(
            new DataPaths(dataDirs[0], database),
            TimeProvider.System
        );
        for (var n = 0; n < shape.Builds; n++)
        {
            await catalog.EnqueueAsync(
                new BuildRequest(
                    new NewBuild(
                        "debian-11-cis",
                        "local",
                        BuildTrigger.Manual,
                        "chaos",
                        $"build {n}",
                        "sha256:chaos"
                    ),
                    null,
                    false
                ),
                TimeProvider.System.GetUtcNow()
            );
        }

        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, shape.Workers).Select(Start).ToArray();
        var random = new Random(18);
        var killed = new ConcurrentDictionary<string, (DateTimeOffset At, int Attempts)>();
        var rerun = new ConcurrentDictionary<string, TimeSpan>();
        // Which worker (w0, w1...) each killed build was killed with, and which one ran it again.
        var victims = new ConcurrentDictionary<string, string>();
        var rerunOn = new ConcurrentDictionary<string, string>();
        using var stopWatching = new CancellationTokenSource();
        var watcher = WatchAsync(catalog, killed, rerun, rerunOn, stopWatching.Token);
        var kills = 0;
        while ((shape.Kills is not { } most || kills < most) && !await AllEndedAsync(catalog))
        {
            await Task.Delay(shape.KillEvery);
            // A worker that died on its own (it could not start) would make the run measure nothing.
            if (workers.FirstOrDefault(w => w.Exited.IsCompleted) is { } dead)
            {
                throw new InvalidOperationException(
                    $"a worker exited on its own ({await dead.Exited}):\n{dead.Output()}"
                );
            }

            // A worker that runs builds, when one does.
            var open = await catalog.ListRunningBuildsAsync();
            var busy = Enumerable
                .Range(0, shape.Workers)
                .Where(w => open.Any(b => Runs(b, w)))
                .ToList();
            if (busy.Count == 0 && await AllEndedAsync(catalog))
            {
                break;
            }

            var victim =
                busy.Count > 0 ? busy[random.Next(busy.Count)] : random.Next(shape.Workers);
            var running = open.Where(b => Runs(b, victim)).ToList();
            ProcessGroup.Signal(await workers[victim].Group, 9);
            kills++;
            var at = TimeProvider.System.GetUtcNow();
            foreach (var b in running)
            {
                killed[b.Id] = (at, b.Attempts);
                victims[b.Id] = $"w{victim}";
            }

            await workers[victim].Exited;
            // A build that ended just before the kill was not killed: the dead worker can write nothing more.
            foreach (var b in running)
            {
                if (
                    await catalog.GetBuildAsync(b.Id) is { } now
                    && now.Attempts == b.Attempts
                    && now.Status is not (BuildStatus.Running or BuildStatus.Queued)
                )
                {
                    killed.TryRemove(b.Id, out _);
                }
            }

            log(
                $"{clock.Elapsed.TotalSeconds:0} s: killed w{victim} running {running.Count} build(s)"
            );
            workers[victim] = Start(victim);
        }

        var deadline = TimeProvider.System.GetUtcNow() + shape.Settle;
        while (!await AllEndedAsync(catalog) && TimeProvider.System.GetUtcNow() < deadline)
        {
            await Task.Delay(250);
        }

        var elapsed = clock.Elapsed;
        await stopWatching.CancelAsync();
        await watcher;
        var stopped = new List<(int, string)>();
        foreach (var worker in workers)
        {
            ProcessGroup.Signal(await worker.Group, 15);
            stopped.Add((await worker.Exited, worker.Output()));
        }

        var all = await catalog.ListBuildsAsync(limit: 100_000);
        var audit = await catalog.ReadAuditAsync(limit: 100_000);
        Dictionary<string, int> Recorded(string action) =>
            all.ToDictionary(
                b => b.Id,
                b =>
                    audit.Count(e =>
                        e.Entry.Action == action
                        && JsonDocument
                            .Parse(e.Entry.Details!)
                            .RootElement.GetProperty("build")
                            .GetString() == b.Id
                    )
            );
        var versions = 0;
        foreach (var image in await catalog.ListImagesAsync())
        {
            versions += (await catalog.ListVersionsAsync(image.Image, limit: 100_000)).Count;
        }

        (int, TimeSpan) Where(bool restarted)
        {
            var times = rerun
                .Where(r =>
                    (rerunOn.GetValueOrDefault(r.Key) == victims.GetValueOrDefault(r.Key))
                    == restarted
                )
                .Select(r => r.Value)
                .ToList();
            return (times.Count, times.Count == 0 ? TimeSpan.Zero : times.Max());
        }

        return new ChaosRun(
            all,
            Recorded("build"),
            Recorded("build-start"),
            (await catalog.VerifyAuditAsync()).Ok,
            versions,
            killed.ToDictionary(k => k.Key, k => k.Value.Attempts),
            [.. rerun.Values.Order()],
            kills,
            stopped,
            elapsed
        )
        {
            OnRestarted = Where(restarted: true),
            OnOthers = Where(restarted: false),
        };
    }

    /// <summary>"p50 2.0 s, p95 2.9 s, max 2.9 s" of a run's kill-to-running-elsewhere times.</summary>
    public static string Times(ChaosRun run) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"p50 {run.Percentile(0.5).TotalSeconds:0.0} s, p95 {run.Percentile(0.95).TotalSeconds:0.0} s, "
                + $"max {run.Rerun[^1].TotalSeconds:0.0} s"
        );

    private static bool Runs(BuildRecord build, int worker) =>
        build.LeaseWorker?.StartsWith($"w{worker}-", StringComparison.Ordinal) == true;

    private static async Task<bool> AllEndedAsync(Catalog catalog) =>
        (await catalog.ListQueuedAsync()).Count == 0
        && (await catalog.ListRunningBuildsAsync()).Count == 0;

    // Polls the catalog: a killed build runs again once it is running on a later attempt.
    private static async Task WatchAsync(
        Catalog catalog,
        ConcurrentDictionary<string, (DateTimeOffset At, int Attempts)> killed,
        ConcurrentDictionary<string, TimeSpan> rerun,
        ConcurrentDictionary<string, string> rerunOn,
        CancellationToken stop
    )
    {
        while (!stop.IsCancellationRequested)
        {
            foreach (var build in await catalog.ListRunningBuildsAsync(CancellationToken.None))
            {
                if (
                    killed.TryGetValue(build.Id, out var kill)
                    && build.Attempts > kill.Attempts
                    && !rerun.ContainsKey(build.Id)
                )
                {
                    rerun[build.Id] = TimeProvider.System.GetUtcNow() - kill.At;
                    rerunOn[build.Id] = build.LeaseWorker?.Split('-')[0] ?? "";
                }
            }

            foreach (
                var build in await catalog.ListBuildsAsync(
                    limit: 100_000,
                    cancellationToken: CancellationToken.None
                )
            )
            {
                // One that ran again and ended between two polls: its end bounds the time.
                if (
                    killed.TryGetValue(build.Id, out var kill)
                    && build.Attempts > kill.Attempts
                    && build.EndedAt is { } ended
                    && !rerun.ContainsKey(build.Id)
                )
                {
                    rerun[build.Id] = ended - kill.At;
                    rerunOn[build.Id] = build.LeaseWorker?.Split('-')[0] ?? "";
                }
            }

            try
            {
                await Task.Delay(100, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
