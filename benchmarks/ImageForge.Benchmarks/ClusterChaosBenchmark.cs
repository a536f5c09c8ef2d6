using System.Globalization;
using ImageForge.Core.Builds;
using ImageForge.TestSupport;
using ImageForge.TestUtils;

namespace ImageForge.Benchmarks;

/// <summary>
/// Issue 18's chaos proof at its full size: three real worker processes (three builds each) on one PostgreSQL
/// catalog, 100 queued fakepacker builds of 5 to 30 s each (drawn per build), a random busy worker SIGKILLed every
/// 20 s and restarted until the queue is empty. Counts lost builds (not ended by a worker), builds recorded twice (more
/// than one end, or more starts than attempts), versions, and the time from a kill to the build running elsewhere
/// (goal: p95 at most 2 x lease). The chaos spec runs the same code at a tenth of the size on every CI run.
/// </summary>
internal sealed class ClusterChaosBenchmark : IBenchmark
{
    private static readonly ChaosShape Full = new(
        Builds: 100,
        // 15 lines a build: 333-2000 ms a line is 5-30 s of Packer.
        LineDelayMs: _ => "333-2000",
        KillEvery: TimeSpan.FromSeconds(20),
        Kills: null,
        Settle: TimeSpan.FromMinutes(5)
    );

    public string Name => "cluster-chaos";

    public string Description =>
        "100 builds of 5-30 s on 3 workers, a random worker SIGKILLed every 20 s (issue 18)";

    public async Task<string> RunAsync()
    {
        using var dir = new TempDirectory("imageforge-bench-chaos");
        var loadBefore = Report.LoadAverage();
        var postgres = ThrowawayPostgres.Shared;
        var run = await ClusterChaos.RunAsync(
            Full,
            postgres.ConnectionString(postgres.CreateDatabase()),
            dir.Path,
            RepoPaths.Root,
            (BuiltTools.Imageforge, BuiltTools.FakePacker),
            Console.WriteLine
        );

        var lost =
            run.Builds.Count(b =>
                b.Status != BuildStatus.Failed || b.Message?.Contains("exit status: 3") != true
            ) + (Full.Builds - run.Builds.Count);
        var twice = run.Builds.Count(b => run.Ends[b.Id] != 1 || run.Starts[b.Id] > b.Attempts);
        var notRerun = run.Builds.Count(b => run.Killed.ContainsKey(b.Id) && b.Attempts < 2);
        var unclean = run.Stopped.Count(s => s.ExitCode != 0);
        var p95 = run.Percentile(0.95);
        var goal = 2 * Full.Lease;
        return new Report(
            "Cluster chaos: 100 builds, a worker SIGKILLed every 20 s",
            "dotnet run -c Release --project benchmarks/ImageForge.Benchmarks -- cluster-chaos"
        )
            .Line(
                $"3 `imageforge worker` processes (capacity 3 each, lease {Full.Lease.TotalSeconds:0} s) on one "
                    + "throwaway PostgreSQL 15, 100 queued fakepacker builds of 5-30 s (each ends with Packer's own "
                    + "error), a random busy worker SIGKILLed every 20 s and restarted on its data directory until "
                    + "the queue was empty (tests/Shared/ClusterChaos.cs, the chaos spec's code)."
            )
            .Line("")
            .Table(
                ["measure", "value", "goal"],
                [
                    ["wall time", Report.Seconds(run.Elapsed), "about 5 min to run in CI"],
                    ["kills", Num(run.Kills), ""],
                    ["builds killed with their worker", Num(run.Killed.Count), ""],
                    ["builds lost (not run to their end)", Num(lost), "0"],
                    ["builds recorded twice", Num(twice), "0"],
                    ["killed builds not run again", Num(notRerun), "0"],
                    ["versions recorded", Num(run.VersionCount), "0 (every build fails)"],
                    ["audit chain verifies", run.AuditVerifies ? "yes" : "NO", "yes"],
                    ["workers not stopping cleanly at the end", Num(unclean), "0"],
                    [
                        "kill to running elsewhere",
                        ClusterChaos.Times(run),
                        $"p95 <= {Report.Seconds(goal)}",
                    ],
                    [
                        "of those, run again by the restarted worker",
                        $"{Num(run.OnRestarted.Count)}, max {Report.Seconds(run.OnRestarted.Max)}",
                        "",
                    ],
                    [
                        "of those, run again by another worker",
                        $"{Num(run.OnOthers.Count)}, max {Report.Seconds(run.OnOthers.Max)}",
                        "",
                    ],
                ]
            )
            .Line(
                $"Load average (1, 5, 15 min) at the start: {loadBefore}; at the end: {Report.LoadAverage()} (other "
                    + "work shares this machine's 2 cores)."
            )
            .Line("")
            .Line(
                lost == 0 && twice == 0 && notRerun == 0 && run.AuditVerifies && unclean == 0
                    ? "Verdict: no build lost or recorded twice."
                    : "Verdict: FAILED: see the counts above."
            )
            .Line(
                p95 <= goal
                    ? $"Verdict: p95 kill to running elsewhere {Report.Seconds(p95)}, within 2 x lease."
                    : $"Verdict: p95 kill to running elsewhere {Report.Seconds(p95)}, OVER 2 x lease."
            )
            .ToString();
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}
