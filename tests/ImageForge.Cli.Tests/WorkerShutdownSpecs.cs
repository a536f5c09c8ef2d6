using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Worker;
using ImageForge.Server;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// The worker's runner with fakepacker (hanging, children ignoring SIGTERM, a mount below the work directory):
/// stopping the worker with shutdown: cancel cancels the running build cleanly.
/// </summary>
public sealed class WorkerShutdownSpecs
{
    [Fact(Timeout = 90_000)]
    public async Task Stopping_the_worker_cancels_its_running_build_and_leaves_no_process_or_mount()
    {
        using var build = new FakePackerBuild(
            "1795329432,,ui,say,==> null.local: Running local shell script\n"
        ).Hanging();
        var host = new PipelineHost(
            new WorkerPaths(ContentPaths.UnderRoot(RepoPaths.Root), new DataPaths(build.DataDir)),
            TimeProvider.System,
            name =>
                build.Environment.TryGetValue(name, out var value)
                    ? value
                    : Environment.GetEnvironmentVariable(name),
            RepoPaths.Root,
            build.Environment
        )
        {
            Resolvers = [],
        };
        await using var worker = await WorkerHost.CreateAsync(
            new WorkerOptions(
                host,
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
                },
                ["--urls", "http://127.0.0.1:0"]
            ),
            CancellationToken.None
        );
        await worker.App.StartAsync();
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
}
