using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using ImageForge.Server;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// The worker's runner with fakepacker (hanging, children ignoring SIGTERM, a mount below the work directory):
/// stopping the worker with shutdown: cancel cancels the running build cleanly; with shutdown: finish it waits for it.
/// </summary>
public sealed class WorkerShutdownSpecs
{
    [Fact(Timeout = 90_000)]
    public async Task Stopping_the_worker_cancels_its_running_build_and_leaves_no_process_or_mount()
    {
        using var build = new FakePackerBuild(
            "1795329432,,ui,say,==> null.local: Running local shell script\n"
        ).Hanging();
        await using var worker = await build.StartWorkerAsync(
            WorkerConfig.Default with
            {
                Shutdown = ShutdownMode.Cancel,
                // Nothing listens there: the delivery stays pending, which is all this spec reads.
                Webhooks = new WebhookSettings(
                    3,
                    [
                        new WebhookEndpoint(
                            new Uri("http://127.0.0.1:9/hook"),
                            [WorkerEventTypes.BuildFinished],
                            "IMAGEFORGE_TEST_WEBHOOK_SECRET"
                        ),
                    ]
                ),
            }
        );
        var requests = (IBuildRequests)worker.App.Services.GetService(typeof(IBuildRequests))!;

        var queued = await requests.QueueAsync(
            new BuildSubmission("debian-11-cis", null, BuildTrigger.Manual, "tester", "spec", null),
            CancellationToken.None
        );
        var fakePacker = await build.WaitForFakePackerAsync(CancellationToken.None);
        (await worker.Catalog.GetBuildAsync(queued.Build.Id))!.Status.ShouldBe(BuildStatus.Running);
        await worker.App.StopAsync();

        var ended = (await worker.Catalog.GetBuildAsync(queued.Build.Id))!;
        ended.Status.ShouldBe(BuildStatus.Cancelled);
        FakePackerBuild.GroupGone(fakePacker).ShouldBeTrue();
        MountTable.MountsBelow(build.DataDir).ShouldBeEmpty();
        Directory.Exists(build.WorkDir).ShouldBeFalse();
        // The runner told the webhooks how the build ended.
        var delivery = (await worker.Catalog.ListAsync(10)).ShouldHaveSingleItem();
        delivery.EventType.ShouldBe(WorkerEventTypes.BuildFinished);
        delivery.Payload.ShouldContain($"\"build_id\":\"{queued.Build.Id}\"");
        delivery.Payload.ShouldContain("\"status\":\"cancelled\"");
    }

    [Fact(Timeout = 90_000)]
    public async Task With_shutdown_finish_stopping_the_worker_waits_for_the_running_build_to_end_on_its_own()
    {
        // Packer takes about 3 s (eight lines, 400 ms apart) and then fails with its own error.
        using var build = new FakePackerBuild(
            string.Concat(
                Enumerable.Range(1, 7).Select(i => $"1795329432,,ui,say,==> null.local: step {i}\n")
            )
                + "1795329434,,ui,error,Build 'null.local' errored: Script exited with non-zero exit status: 3\n",
            exitCode: 1
        );
        build.Environment["FAKEPACKER_LINE_DELAY_MS"] = "400";
        await using var worker = await build.StartWorkerAsync(
            WorkerConfig.Default with
            {
                Shutdown = ShutdownMode.Finish,
            }
        );
        var requests = (IBuildRequests)worker.App.Services.GetService(typeof(IBuildRequests))!;
        var queued = await requests.QueueAsync(
            new BuildSubmission("debian-11-cis", null, BuildTrigger.Manual, "tester", "spec", null),
            CancellationToken.None
        );
        while ((await worker.Catalog.GetBuildAsync(queued.Build.Id))!.ToolProcessGroup is null)
        {
            await Task.Delay(50);
        }

        await worker.App.StopAsync();

        var ended = (await worker.Catalog.GetBuildAsync(queued.Build.Id))!;
        ended.Status.ShouldBe(BuildStatus.Failed, ended.Message);
        ended.Message!.ShouldContain("exit status: 3");
    }
}
