using ImageForge.Application.Operations;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;
using ImageForge.Server.Scheduling;
using ImageForge.Server.Tests.Api;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Worker;

public sealed class DueRevocationsSpecs
{
    private static readonly DateTimeOffset Now = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_scheduled_revocation_takes_effect_when_its_time_comes_and_is_published()
    {
        await using var worker = await WorkerFixture.CreateAsync(Now);
        var schedules = new ScheduledBuilds(
            worker.Catalog,
            worker.Pipeline,
            worker.Signal,
            worker.Time
        );
        await schedules.FireAsync("debian-11-cis", "local", Now, true, default);
        var version = await worker.CompleteNextQueuedAsync();
        await using (var session = await PromotionSession.OpenAsync(worker.Pipeline, null, default))
        {
            var scheduled = await session.Services.Revocations.RevokeAsync(
                version.Image,
                version.Version,
                "CVE-2026-1234 in the kernel",
                Now.AddHours(2),
                new Actor("rita", Role.ReleaseManager)
            );
            scheduled.Record.ShouldBeNull();
        }

        var events = new RecordingWorkerEvents();
        var job = new DueRevocationsJob(
            worker.Pipeline,
            events,
            NullLogger<DueRevocationsJob>.Instance
        );

        // Not yet due: nothing happens.
        worker.Time.Set(Now.AddHours(1));
        await job.Execute(null!, default);
        (await worker.Catalog.GetVersionAsync(version.Image, version.Version))!.Status.ShouldBe(
            VersionStatus.Built
        );
        events.Published.ShouldBeEmpty();

        // Due: revoked, and published once with who scheduled it.
        worker.Time.Set(Now.AddHours(2).AddMinutes(1));
        await job.Execute(null!, default);
        await job.Execute(null!, default);

        (await worker.Catalog.GetVersionAsync(version.Image, version.Version))!.Status.ShouldBe(
            VersionStatus.Revoked
        );
        var (type, _) = events.Published.ShouldHaveSingleItem();
        type.ShouldBe(WorkerEventTypes.Revoked);
    }
}
