using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using ImageForge.Server.Scheduling;
using ImageForge.Server.Tests.Worker;
using Quartz;
using Shouldly;
using Xunit;
using static ImageForge.Server.Tests.Scheduling.ScheduleSyncSpecs;

namespace ImageForge.Server.Tests.Scheduling;

/// <summary>
/// Firings through the real Quartz scheduler into the real <c>ScheduledBuilds</c> over a temp catalog: the
/// firing is recorded in the ledger and a build queued (no runner: nothing builds it).
/// </summary>
public sealed class ScheduledFiringSpecs
{
    private const string Image = "debian-11-cis";

    // 02:00 Europe/Berlin in winter.
    private static readonly DateTimeOffset LastNight = At("2026-01-09T01:00Z");
    private static readonly DateTimeOffset Tonight = At("2026-01-10T01:00Z");

    [Fact]
    public async Task An_instant_missed_within_the_grace_really_fires_once_at_start_and_queues_a_build()
    {
        // The worker recorded last night, was down at tonight's 02:00 and starts two hours later.
        using var counter = new FiringCounter();
        await using var worker = await WorkerFixture.CreateAsync(Tonight.AddHours(2));
        await worker.Catalog.TryRecordFiringAsync(
            new ScheduleFiring(
                Image,
                "local",
                LastNight,
                LastNight,
                "skipped",
                null,
                "inputs unchanged"
            )
        );
        await using var host = await ScheduleHost.Over(worker).StartAsync();

        var last = await ScheduleHost.EventuallyAsync(
            () => worker.Catalog.LastFiringAsync(Image, "local"),
            f => f?.ScheduledFor == Tonight
        );

        last!.ScheduledFor.ShouldBe(Tonight);
        last.Outcome.ShouldBe("queued");
        last.FiredAt.ShouldBe(Tonight.AddHours(2));
        // The ledger row is written before the build is queued: wait for the build, which names its instant.
        var queued = await ScheduleHost.EventuallyAsync(
            () => worker.Catalog.ListQueuedAsync(),
            q => q.Count > 0
        );
        var build = queued.ShouldHaveSingleItem();
        build.Reason.ShouldBe("schedule 2026-01-10 01:00Z: no successful build yet");
        build.Requester.ShouldBe("schedule");
        build.Trigger.ShouldBe(BuildTrigger.Schedule);
        build.Image.ShouldBe(Image);
        counter.Firings.ShouldContain((Image, "local", "queued", 1));
        // Once the firing is over (so Quartz has completed the spent one-shot trigger), the job has re-armed it for
        // tomorrow's instant, not another one tonight.
        var scheduler = await host.SchedulerAsync();
        var running = await ScheduleHost.EventuallyAsync(
            async () =>
                (
                    await scheduler.QueryFireInstances(
                        new FireInstanceQuery { Job = ScheduleSync.JobKeyOf(Image, "local") }
                    )
                )
                    .Items
                    .Count,
            n => n == 0
        );
        running.ShouldBe(0);
        var next = await host.TriggerAsync(Image);
        next!.NextFireTimeUtc.ShouldBe(Tonight.AddDays(1));
        next.JobDataMap.GetString(ScheduledBuildJob.ScheduledForKey)
            .ShouldBe("2026-01-11T01:00:00.0000000+00:00");
    }

    [Fact]
    public async Task An_instant_missed_beyond_the_grace_is_recorded_as_misfired_and_not_built()
    {
        using var counter = new FiringCounter();
        await using var worker = await WorkerFixture.CreateAsync(Tonight.AddHours(11));
        await worker.Catalog.TryRecordFiringAsync(
            new ScheduleFiring(
                Image,
                "local",
                LastNight,
                LastNight,
                "skipped",
                null,
                "inputs unchanged"
            )
        );
        await using var host = await ScheduleHost.Over(worker).StartAsync();

        var last = await worker.Catalog.LastFiringAsync(Image, "local");

        last!.ScheduledFor.ShouldBe(Tonight);
        last.Outcome.ShouldBe("misfired");
        last.Reason.ShouldContain("schedules.misfire_grace");
        (await worker.Catalog.ListQueuedAsync()).ShouldBeEmpty();
        (await host.TriggerAsync(Image))!.NextFireTimeUtc.ShouldBe(Tonight.AddDays(1));
        counter.Firings.ShouldContain((Image, "local", "misfired", 1));
    }

    [Fact]
    public async Task A_first_start_never_catches_up()
    {
        await using var worker = await WorkerFixture.CreateAsync(Tonight.AddHours(2));
        await using var host = await ScheduleHost.Over(worker).StartAsync();

        (await host.TriggerAsync(Image))!.NextFireTimeUtc.ShouldBe(Tonight.AddDays(1));
        (await worker.Catalog.LastFiringAsync(Image, "local")).ShouldBeNull();
        (await worker.Catalog.ListQueuedAsync()).ShouldBeEmpty();
    }
}
