using System.Text.Json;
using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using ImageForge.Storage;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// Two workers on one PostgreSQL catalog (docs/cluster.md): a worker process paused (SIGSTOP) past its lease while it
/// runs a build loses the build to the other worker, which finishes it; resumed (SIGCONT), the paused worker records
/// nothing more about it and stops it.
/// </summary>
[Collection(nameof(ClusterProcesses))]
public sealed class LeaseTakeoverSpecs
{
    private const int Stop = 19;
    private const int Continue = 18;
    private const int Terminate = 15;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);

    [Fact(Timeout = 120_000)]
    public async Task A_worker_paused_past_its_lease_loses_its_build_to_another_that_finishes_it_and_records_nothing_after_it_resumes()
    {
        // Arrange: one queued build; worker A (its own process) claims it and its fakepacker hangs.
        var server = ThrowawayPostgres.Shared;
        var database = server.ConnectionString(server.CreateDatabase());
        using var paused = new FakePackerBuild(
            "1795329432,,ui,say,==> null.local: Running local shell script\n"
        ).Hanging();
        paused.Environment[CliContext.DatabaseVariable] = database;
        Directory.CreateDirectory(paused.DataDir);
        var config = Path.Combine(paused.DataDir, "worker.yaml");
        await File.WriteAllTextAsync(config, "name: paused\nqueue:\n  lease: 2s\n");
        string buildId;
        await using (
            var catalog = await Catalog.OpenAsync(
                new DataPaths(paused.DataDir, database),
                TimeProvider.System
            )
        )
        {
            buildId = (
                await catalog.EnqueueAsync(
                    new BuildRequest(
                        new NewBuild(
                            "debian-11-cis",
                            "local",
                            BuildTrigger.Manual,
                            "tester",
                            "lease spec",
                            "sha256:spec"
                        ),
                        null,
                        false
                    ),
                    TimeProvider.System.GetUtcNow()
                )
            )
                .Build
                .Id;
        }

        var workerA = new WorkerProcess(
            paused.ImageforgeProcess("worker", "--config", config, "--urls", "http://127.0.0.1:0")
        );
        var groupA = await workerA.Group;
        try
        {
            var fakePackerA = await paused
                .WaitForFakePackerAsync(CancellationToken.None)
                .WaitAsync(TimeSpan.FromSeconds(60));

            // Act: pause A past its lease; worker B (in this process) takes the build over and runs it to its end.
            ProcessGroup.Signal(groupA, Stop);
            using var owner = new FakePackerBuild(BuildCommandSpecs.FailureTranscript, exitCode: 1);
            await using var workerB = await owner.StartWorkerAsync(
                WorkerConfig.Default with
                {
                    Name = "owner",
                    Lease = Lease,
                },
                database: database
            );
            var ended = await WaitForAsync(
                workerB.Catalog,
                buildId,
                b => b.Status is not (BuildStatus.Running or BuildStatus.Queued)
            );
            var logBefore = await workerB.Catalog.ReadLogAsync(buildId);
            ProcessGroup.Signal(groupA, Continue);
            // A renews every third of its lease: give it several renewals to find out.
            await WaitUntilAsync(() => workerA.Said("lease was taken over"), workerA.Output);
            await Task.Delay(Lease);

            // Assert: B finished it on its second attempt, with B's Packer's error; A's tools are gone, and A wrote
            // nothing after it resumed.
            ended.Status.ShouldBe(BuildStatus.Failed, ended.Message);
            ended.Message!.ShouldContain("exit status: 3");
            ended.Attempts.ShouldBe(2);
            ended.LeaseWorker.ShouldStartWith("owner-");
            FakePackerBuild.GroupGone(fakePackerA).ShouldBeTrue();
            (await workerB.Catalog.GetBuildAsync(buildId)).ShouldBe(ended);
            (await workerB.Catalog.ReadLogAsync(buildId)).ShouldBe(logBefore);
            logBefore
                .Select(l => l.Text)
                .ShouldContain(t =>
                    t.StartsWith("worker paused-", StringComparison.Ordinal)
                    && t.EndsWith(
                        "stopped renewing its lease; queued again (attempt 2 of 3)",
                        StringComparison.Ordinal
                    )
                );
            var workers = await workerB.Catalog.ListWorkersAsync(TimeSpan.FromHours(1));
            workers.Select(w => w.Name).Order().ShouldBe(["owner", "paused"]);
            // The CLI shows the attempt and the worker holding the lease, in text and JSON.
            var shown = await paused.RunAsync(CancellationToken.None, "builds", "show", buildId);
            shown.Out.ShouldContain("attempts     2");
            shown.Out.ShouldContain($"worker       {ended.LeaseWorker}");
            var listed = await paused.RunAsync(CancellationToken.None, "builds", "list");
            listed.Out.ShouldContain($" 2   {ended.LeaseWorker}");
            using var json = JsonDocument.Parse((await paused.ShowBuildAsync(buildId)).Out);
            json.RootElement.GetProperty("attempts").GetInt32().ShouldBe(2);
            json.RootElement.GetProperty("lease_worker").GetString().ShouldBe(ended.LeaseWorker);
        }
        finally
        {
            ProcessGroup.Signal(groupA, Continue);
            ProcessGroup.Signal(groupA, Terminate);
        }

        (await workerA.Exited.WaitAsync(TimeSpan.FromSeconds(60))).ShouldBe(0, workerA.Output());
    }

    private static async Task<BuildRecord> WaitForAsync(
        Catalog catalog,
        string buildId,
        Func<BuildRecord, bool> done
    )
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (true)
        {
            var build = (await catalog.GetBuildAsync(buildId))!;
            if (done(build))
            {
                return build;
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"build {buildId} is still {build.Status}: {build}");
            }

            await Task.Delay(100);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string> said)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
        while (!condition())
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException(
                    $"the resumed worker never said it lost the lease; it said:\n{said()}"
                );
            }

            await Task.Delay(100);
        }
    }
}
