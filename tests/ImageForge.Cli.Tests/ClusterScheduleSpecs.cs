using System.Globalization;
using System.Text.RegularExpressions;
using ImageForge.Core.Scheduling;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Npgsql;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace ImageForge.Cli.Tests;

/// <summary>
/// The schedule proof of issue 18 (docs/cluster.md): three real worker processes on one PostgreSQL catalog, whose
/// schedules live in Quartz's clustered store there, one schedule firing every second (the test-only macro
/// <c>@every_second</c>) for two minutes while each worker in turn is stopped (SIGTERM or SIGKILL) and started
/// again. Each instant is fired by one worker (Quartz clustering; a rare double firing is absorbed by the ledger),
/// each recorded instant names the one build it queued (the ledger and the builds table agree, no build without its
/// firing), and the instants no worker fired are only those a stop coalesced into the next firing (the misfire
/// policy), each such gap bounded.
/// </summary>
[Collection(nameof(ClusterProcesses))]
public sealed partial class ClusterScheduleSpecs(ITestOutputHelper output)
{
    private const int Workers = 3;
    private const string Image = "every-second";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan RestartEvery = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 300_000)]
    public async Task A_schedule_firing_every_second_through_rolling_restarts_queues_each_instant_once()
    {
        // Arrange: one database, three data directories, a definition scheduled every second whose mirror is a
        // closed loopback port (its fingerprint says so and never matches: every firing queues), quick failing builds.
        var server = ThrowawayPostgres.Shared;
        var database = server.ConnectionString(server.CreateDatabase());
        using var definitions = new TempDirectory("imageforge-every-second");
        await File.WriteAllTextAsync(
            Path.Combine(definitions.Path, $"{Image}.yaml"),
            EverySecondDefinition()
        );
        var builds = Enumerable
            .Range(0, Workers)
            .Select(_ =>
            {
                var build = new FakePackerBuild(BuildCommandSpecs.FailureTranscript, exitCode: 1);
                build.Environment[CliContext.DatabaseVariable] = database;
                build.Environment[CronExpression.EverySecondVariable] = "1";
                return build;
            })
            .ToList();
        var workers = new WorkerProcess?[Workers];
        var outputs = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < Workers; i++)
            {
                workers[i] = Start(builds[i], i, definitions.Path);
                outputs.Add(workers[i]!);
            }

            await WaitUntilAsync(
                () => outputs.All(w => w.Said("registered as worker")),
                TimeSpan.FromSeconds(60),
                () => string.Join("\n---\n", outputs.Select(w => w.Output()))
            );
            var from = TimeProvider.System.GetUtcNow();

            // Act: every 20 s one worker in turn is stopped, alternately with SIGTERM and SIGKILL, and started again.
            var restarts = new List<(DateTimeOffset At, int Worker, int Signal)>();
            for (var r = 0; from + (RestartEvery * (r + 1)) < from + Window; r++)
            {
                await Task.Delay(
                    (from + (RestartEvery * (r + 1))) - TimeProvider.System.GetUtcNow()
                );
                var victim = r % Workers;
                var signal = r % 2 == 0 ? 15 : 9;
                restarts.Add((TimeProvider.System.GetUtcNow(), victim, signal));
                ProcessGroup.Signal(await workers[victim]!.Group, signal);
                var exit = await workers[victim]!.Exited;
                if (signal == 15)
                {
                    exit.ShouldBe(0, workers[victim]!.Output());
                }

                output.WriteLine(
                    $"{TimeProvider.System.GetUtcNow():HH:mm:ss.fff} w{victim} {(signal == 15 ? "SIGTERM" : "SIGKILL")}ed (exit {exit}), started again"
                );
                workers[victim] = Start(builds[victim], victim, definitions.Path);
                outputs.Add(workers[victim]!);
            }

            await Task.Delay((from + Window) - TimeProvider.System.GetUtcNow());
            var until = TimeProvider.System.GetUtcNow();
            foreach (var worker in workers)
            {
                ProcessGroup.Signal(await worker!.Group, 15);
                (await worker.Exited).ShouldBe(0, worker.Output());
            }

            // Assert: the ledger and the builds table.
            var firings = await FiringsAsync(database);
            var scheduled = await ScheduledBuildsAsync(database);
            var inWindow = firings
                .Where(f =>
                    f.ScheduledFor > from && f.ScheduledFor <= until - TimeSpan.FromSeconds(2)
                )
                .ToList();
            inWindow.Count.ShouldBeGreaterThan(60, "firings recorded in two minutes");
            firings.ShouldAllBe(f => f.Outcome == "queued", "every firing queued (none misfired)");
            firings.ShouldAllBe(f => f.BuildId != null, "every firing names its build");
            firings
                .Select(f => f.BuildId!.Value)
                .ShouldAllBe(id => scheduled.ContainsKey(id), "each named build exists");
            // No build without a firing: a second firing of an instant that queued its own build would show here.
            scheduled.Keys.ShouldBeSubsetOf(firings.Select(f => f.BuildId!.Value).ToHashSet());
            foreach (var (id, key) in scheduled)
            {
                key.ShouldNotBeNull($"build {id} has the key of an instant");
            }

            // Each instant fired once across the cluster: a worker that fires an instant another already recorded
            // logs "already handled". With each worker on its own RAM store every instant is fired three times.
            var allOutput = string.Join("\n", outputs.Select(w => w.Output()));
            var fired = FiredLine().Count(allOutput);
            var again = AlreadyHandledLine().Count(allOutput);
            output.WriteLine(
                $"{firings.Count} firings recorded ({inWindow.Count} in the window), {scheduled.Count} builds, "
                    + $"{fired} firings logged as queued, {again} as already handled"
            );
            again.ShouldBeLessThanOrEqualTo(restarts.Count * 2, "instants fired twice");

            // Gaps: instants no worker recorded, each ended by a firing that caught up (the misfire policy coalesces
            // the missed instants into one firing of the newest); each gap bounded by the failover, about a lease.
            var instants = inWindow.Select(f => f.ScheduledFor).Order().ToList();
            var gaps = instants
                .Zip(instants.Skip(1), (a, b) => (After: a, Missed: (int)(b - a).TotalSeconds - 1))
                .Where(g => g.Missed > 0)
                .ToList();
            output.WriteLine(
                $"{gaps.Sum(g => g.Missed)} instants coalesced in {gaps.Count} gap(s): "
                    + string.Join(", ", gaps.Select(g => $"{g.Missed} after {g.After:HH:mm:ss}"))
            );
            gaps.ShouldAllBe(
                g => g.Missed <= (int)(Lease.TotalSeconds * 4),
                "instants missed in a row (at most 4 x lease)"
            );
        }
        finally
        {
            foreach (var worker in workers)
            {
                if (worker is not null && !worker.Exited.IsCompleted)
                {
                    ProcessGroup.Signal(await worker.Group, 9);
                    await worker.Exited;
                }
            }

            foreach (var build in builds)
            {
                build.Dispose();
            }
        }
    }

    private static WorkerProcess Start(FakePackerBuild build, int index, string definitions)
    {
        Directory.CreateDirectory(build.DataDir);
        var config = Path.Combine(build.DataDir, "worker.yaml");
        File.WriteAllText(
            config,
            $"name: w{index}\nqueue:\n  limits: {{ local: 3 }}\n  capacity: 1\n  lease: {Lease.TotalSeconds:0}s\nshutdown_timeout: 10s\n"
        );
        return new WorkerProcess(
            build.ImageforgeProcess(
                "worker",
                "--config",
                config,
                "--definitions",
                definitions,
                "--urls",
                "http://127.0.0.1:0"
            )
        );
    }

    private static string EverySecondDefinition() =>
        File.ReadAllText(Path.Combine(RepoPaths.Root, "templates", "images", "debian-11-cis.yaml"))
            .Replace("name: debian-11-cis\n", $"name: {Image}\n", StringComparison.Ordinal)
            .Replace(
                "http://deb.debian.org/debian-security",
                "http://127.0.0.1:9/debian-security",
                StringComparison.Ordinal
            )
            .Replace(
                "http://deb.debian.org/debian",
                "http://127.0.0.1:9/debian",
                StringComparison.Ordinal
            )
            .Replace(
                "cron: \"0 2 * * *\"",
                $"cron: \"{CronExpression.EverySecondMacro}\"",
                StringComparison.Ordinal
            )
            .Replace("time_zone: Europe/Berlin", "time_zone: UTC", StringComparison.Ordinal);

    private static async Task WaitUntilAsync(Func<bool> done, TimeSpan limit, Func<string> why)
    {
        var deadline = TimeProvider.System.GetUtcNow() + limit;
        while (!done())
        {
            TimeProvider.System.GetUtcNow().ShouldBeLessThan(deadline, why());
            await Task.Delay(100);
        }
    }

    private static async Task<
        List<(DateTimeOffset ScheduledFor, string Outcome, long? BuildId)>
    > FiringsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT scheduled_for, outcome, build_id FROM schedule_firings WHERE image = @Image ORDER BY scheduled_for",
            connection
        );
        command.Parameters.AddWithValue("Image", Image);
        var rows = new List<(DateTimeOffset, string, long?)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(
                (
                    DateTimeOffset.Parse(
                        reader.GetString(0),
                        CultureInfo.InvariantCulture,
                        DateTimeStyles.AssumeUniversal
                    ),
                    reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetInt64(2)
                )
            );
        }

        return rows;
    }

    // The scheduled builds of the image, with the instant key of the request that made each (null when none).
    private static async Task<Dictionary<long, string?>> ScheduledBuildsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT b.id, MIN(k.idempotency_key) FROM builds b
            LEFT JOIN build_request_keys k ON k.build_id = b.id
            WHERE b.image = @Image GROUP BY b.id
            """,
            connection
        );
        command.Parameters.AddWithValue("Image", Image);
        var rows = new Dictionary<long, string?>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows[reader.GetInt64(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
        }

        return rows;
    }

    [GeneratedRegex(@"Schedule of every-second on local for \S+: queued")]
    private static partial Regex FiredLine();

    [GeneratedRegex(@"Schedule of every-second on local for \S+ was already handled")]
    private static partial Regex AlreadyHandledLine();
}
