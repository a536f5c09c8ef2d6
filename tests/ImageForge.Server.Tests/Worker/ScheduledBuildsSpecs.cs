using ImageForge.Core.Builds;
using ImageForge.Server.Scheduling;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Worker;

public sealed class ScheduledBuildsSpecs
{
    private const string Image = "debian-11-cis";

    // debian-11-cis runs at 02:00 Europe/Berlin: 01:00Z in winter.
    private static readonly DateTimeOffset FirstNight = new(2026, 1, 10, 1, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task An_unchanged_second_firing_is_skipped_with_its_reason_and_a_changed_hardening_script_builds_again()
    {
        await using var worker = await WorkerFixture.CreateAsync(FirstNight);
        var schedules = new ScheduledBuilds(
            worker.Catalog,
            worker.Pipeline,
            worker.Signal,
            worker.Time
        );

        var first = await schedules.FireAsync(Image, "local", FirstNight, false, default);
        first!.Outcome.ShouldBe("queued");
        first.Reason.ShouldBe("no successful build yet");
        var built = await worker.CompleteNextQueuedAsync();

        var secondNight = FirstNight.AddDays(1);
        worker.Time.Set(secondNight);
        var second = await schedules.FireAsync(Image, "local", secondNight, false, default);

        second!.Outcome.ShouldBe("skipped");
        second.Reason.ShouldContain($"inputs unchanged since build {built.BuildId}");
        var skipped = await worker.Catalog.GetBuildAsync(second.BuildId!);
        skipped!.Status.ShouldBe(BuildStatus.Skipped);
        skipped.Trigger.ShouldBe(BuildTrigger.Schedule);
        skipped.Message.ShouldBe(second.Reason);
        // The ledger names the build of each firing (GET /api/schedules shows it as last_firing.build_id).
        (await worker.Catalog.LastFiringAsync(Image, "local"))!.BuildId.ShouldBe(second.BuildId);
        (await worker.Catalog.ListQueuedAsync()).ShouldBeEmpty();

        // One hardening script changes: the next night builds.
        var script = Directory
            .EnumerateFiles(
                worker.ContentFile("hardening", "cis", "debian-11"),
                "*.sh",
                SearchOption.AllDirectories
            )
            .Order(StringComparer.Ordinal)
            .First();
        await File.AppendAllTextAsync(script, "\n# tightened\n");
        var thirdNight = secondNight.AddDays(1);
        worker.Time.Set(thirdNight);
        var third = await schedules.FireAsync(Image, "local", thirdNight, false, default);

        third!.Outcome.ShouldBe("queued");
        third.Reason.ShouldBe($"inputs changed since build {built.BuildId}");
        var queued = await worker.Catalog.ListQueuedAsync();
        queued.Select(b => b.Id).ShouldBe([third.BuildId!]);
        queued[0].Fingerprint.ShouldNotBe(skipped.Fingerprint);
        (await worker.Catalog.LastFiringAsync(Image, "local"))!.BuildId.ShouldBe(third.BuildId);
    }

    [Fact]
    public async Task The_same_instant_is_handled_once_and_force_builds_even_when_nothing_changed()
    {
        await using var worker = await WorkerFixture.CreateAsync(FirstNight);
        var schedules = new ScheduledBuilds(
            worker.Catalog,
            worker.Pipeline,
            worker.Signal,
            worker.Time
        );
        (await schedules.FireAsync(Image, "local", FirstNight, false, default)).ShouldNotBeNull();
        (await schedules.FireAsync(Image, "local", FirstNight, false, default)).ShouldBeNull();
        await worker.CompleteNextQueuedAsync();

        var forced = await schedules.FireAsync(
            Image,
            "local",
            FirstNight.AddHours(3),
            true,
            default
        );

        forced!.Outcome.ShouldBe("queued");
        forced.Reason.ShouldBe("forced");
        (await worker.Catalog.ListQueuedAsync()).Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_definition_that_became_invalid_is_recorded_not_queued()
    {
        await using var worker = await WorkerFixture.CreateAsync(FirstNight);
        var schedules = new ScheduledBuilds(
            worker.Catalog,
            worker.Pipeline,
            worker.Signal,
            worker.Time
        );

        var firing = await schedules.FireAsync(
            "no-such-image",
            "local",
            FirstNight,
            false,
            default
        );

        firing!.Outcome.ShouldBe("invalid");
        firing.Reason.ShouldContain("no valid image definition named 'no-such-image'");
        (await worker.Catalog.ListQueuedAsync()).ShouldBeEmpty();
    }
}
