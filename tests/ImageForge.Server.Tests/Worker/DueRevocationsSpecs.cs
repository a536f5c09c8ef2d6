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
        var version = await BuiltAndScheduledForRevocationAsync(worker);

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

    [Fact(Timeout = 120_000)]
    public async Task Two_workers_applying_due_revocations_at_once_revoke_once_with_one_audit_event_and_one_event()
    {
        await using var worker = await WorkerFixture.CreateAsync(Now);
        var version = await BuiltAndScheduledForRevocationAsync(worker);

        // Two workers' jobs (each its own catalog session), started together once the revocation is due.
        worker.Time.Set(Now.AddHours(2).AddMinutes(1));
        var events = new RecordingWorkerEvents();
        using var start = new ManualResetEventSlim();
        var jobs = Enumerable
            .Range(0, 2)
            .Select(_ =>
                Task.Run(async () =>
                {
                    start.Wait();
                    await new DueRevocationsJob(
                        worker.Pipeline,
                        events,
                        NullLogger<DueRevocationsJob>.Instance
                    ).Execute(null!, default);
                })
            )
            .ToList();
        start.Set();
        await Task.WhenAll(jobs);

        (await worker.Catalog.GetVersionAsync(version.Image, version.Version))!.Status.ShouldBe(
            VersionStatus.Revoked
        );
        events.Published.ShouldHaveSingleItem().Type.ShouldBe(WorkerEventTypes.Revoked);
        (await worker.Catalog.ReadAuditAsync(version.Image))
            .Count(e => e.Entry.Action == "revoke")
            .ShouldBe(1);
    }

    // A version built, with its revocation scheduled two hours from now.
    private static async Task<ImageVersion> BuiltAndScheduledForRevocationAsync(
        WorkerFixture worker
    )
    {
        var schedules = new ScheduledBuilds(
            worker.Catalog,
            worker.Pipeline,
            worker.Signal,
            worker.Time
        );
        await schedules.FireAsync("debian-11-cis", "local", Now, true, default);
        var version = await worker.CompleteNextQueuedAsync();
        await using var session = await PromotionSession.OpenAsync(worker.Pipeline, null, default);
        var scheduled = await session.Services.Revocations.RevokeAsync(
            version.Image,
            version.Version,
            "CVE-2026-1234 in the kernel",
            Now.AddHours(2),
            new Actor("rita", Role.ReleaseManager)
        );
        scheduled.Record.ShouldBeNull();
        return version;
    }
}
