using ImageForge.Core.Providers;
using ImageForge.Providers.Aws;
using ImageForge.Providers.Azure;
using ImageForge.Providers.Gcp;
using ImageForge.Providers.Local;
using ImageForge.Server.Scheduling;
using ImageForge.Server.Tests.Worker;
using Quartz;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Scheduling;

/// <summary>ScheduleSync over the real definitions loader and the real Quartz scheduler, on a fake clock.</summary>
public sealed class ScheduleSyncSpecs
{
    private const string Image = "debian-11-cis";

    [Fact]
    public async Task A_schedule_fires_at_the_right_instant_in_its_time_zone_on_a_normal_day()
    {
        await using var worker = await WorkerFixture.CreateAsync(At("2026-01-09T12:00Z"));
        await using var host = await ScheduleHost.Over(worker).StartAsync();

        var trigger = await host.TriggerAsync(Image);

        // 02:00 in Berlin (CET, UTC+1).
        trigger.ShouldNotBeNull();
        trigger.NextFireTimeUtc.ShouldBe(At("2026-01-10T01:00Z"));
        trigger
            .JobDataMap.GetString(ScheduledBuildJob.ScheduledForKey)
            .ShouldBe("2026-01-10T01:00:00.0000000+00:00");
        var job = await (await host.SchedulerAsync()).GetJobDetail(trigger.JobKey);
        job!.Key.Name.ShouldBe("schedule.debian-11-cis.local");
        job.JobDataMap.GetString(ScheduledBuildJob.ImageKey).ShouldBe(Image);
        job.JobDataMap.GetString(ScheduledBuildJob.TargetKey).ShouldBe("local");
    }

    [Fact]
    public async Task A_time_that_does_not_exist_on_the_spring_forward_night_fires_at_the_end_of_the_gap()
    {
        // docs/definitions.md: a time the clocks jump over runs once, at the first instant after the gap. On
        // 2026-03-29 Berlin goes from 02:00 CET straight to 03:00 CEST, so "0 2 * * *" runs at 03:00 CEST = 01:00Z.
        await using var worker = await WorkerFixture.CreateAsync(At("2026-03-28T12:00Z"));
        await using var host = await ScheduleHost.Over(worker).StartAsync();

        var trigger = await host.TriggerAsync(Image);

        trigger!.NextFireTimeUtc.ShouldBe(At("2026-03-29T01:00Z"));
    }

    [Fact]
    public async Task A_new_york_schedule_fires_at_the_new_york_instant()
    {
        await using var worker = await WorkerFixture.CreateAsync(At("2026-01-09T12:00Z"));
        await WriteDefinitionAsync(worker, "debian-11-ny", "0 2 * * *", "America/New_York");
        await using var host = await ScheduleHost.Over(worker).StartAsync();

        var trigger = await host.TriggerAsync("debian-11-ny");

        // 02:00 in New York (EST, UTC-5).
        trigger!.NextFireTimeUtc.ShouldBe(At("2026-01-10T07:00Z"));
    }

    [Fact]
    public async Task Only_targets_the_pipeline_can_build_get_a_job()
    {
        // A gcp module that validates its targets but builds nothing here (as a provider whose paths are validated
        // before they are built): its target gets no job, the local one does.
        await using var worker = await WorkerFixture.CreateAsync(
            At("2026-01-09T12:00Z"),
            providers: new ProviderRegistry([
                new LocalProvider(),
                new AwsProvider(),
                new AzureProvider(),
                new ValidatedOnly(new GcpProvider()),
            ])
        );
        var gcp = worker.ContentFile("templates", "images", "debian-11-cis-gcp.yaml");
        var yaml = await File.ReadAllTextAsync(gcp);
        yaml.ShouldContain("    build: import\n");
        await File.WriteAllTextAsync(
            gcp,
            yaml.Replace("    build: import\n", "    build: native\n", StringComparison.Ordinal)
                + "schedule:\n  cron: \"0 3 * * *\"\n"
        );
        await using var host = await ScheduleHost.Over(worker).StartAsync();

        (await host.TriggerAsync("debian-11-cis-gcp", "gcp")).ShouldBeNull();
        (await host.TriggerAsync(Image)).ShouldNotBeNull();
    }

    [Fact]
    public async Task Editing_the_cron_re_arms_the_trigger_without_a_restart_and_deleting_the_schedule_removes_the_job()
    {
        await using var worker = await WorkerFixture.CreateAsync(At("2026-01-09T12:00Z"));
        await using var host = await ScheduleHost.Over(worker).StartAsync();
        (await host.TriggerAsync(Image))!.NextFireTimeUtc.ShouldBe(At("2026-01-10T01:00Z"));
        var file = worker.ContentFile("templates", "images", "debian-11-cis.yaml");
        var yaml = await File.ReadAllTextAsync(file);

        await File.WriteAllTextAsync(
            file,
            yaml.Replace("cron: \"0 2 * * *\"", "cron: \"30 4 * * *\"", StringComparison.Ordinal)
        );

        // 04:30 in Berlin = 03:30Z.
        var rearmed = await ScheduleHost.EventuallyAsync(
            () => host.TriggerAsync(Image),
            t => t?.NextFireTimeUtc == At("2026-01-10T03:30Z")
        );
        rearmed!.NextFireTimeUtc.ShouldBe(At("2026-01-10T03:30Z"));

        var withoutSchedule = string.Join(
            '\n',
            (await File.ReadAllLinesAsync(file)).Where(l =>
                !l.StartsWith("schedule:", StringComparison.Ordinal)
                && !l.StartsWith("  cron:", StringComparison.Ordinal)
                && !l.StartsWith("  time_zone:", StringComparison.Ordinal)
            )
        );
        await File.WriteAllTextAsync(file, withoutSchedule + "\n");

        var scheduler = await host.SchedulerAsync();
        var exists = await ScheduleHost.EventuallyAsync(
            async () => await scheduler.Exists(ScheduleSync.JobKeyOf(Image, "local")),
            e => !e
        );
        exists.ShouldBeFalse();
        (await host.TriggerAsync(Image)).ShouldBeNull();
    }

    [Fact]
    public async Task A_resync_with_nothing_changed_leaves_the_trigger_alone()
    {
        await using var worker = await WorkerFixture.CreateAsync(At("2026-01-09T12:00Z"));
        await using var host = await ScheduleHost.Over(worker).StartAsync();
        var before = await host.TriggerAsync(Image);

        await Task.WhenAll(
            host.Sync.ResyncAsync(),
            host.Sync.ResyncAsync(),
            host.Sync.ResyncAsync()
        );

        var after = await host.TriggerAsync(Image);
        after!.NextFireTimeUtc.ShouldBe(before!.NextFireTimeUtc);
        after
            .JobDataMap.GetString(ScheduledBuildJob.ScheduledForKey)
            .ShouldBe(before.JobDataMap.GetString(ScheduledBuildJob.ScheduledForKey));
    }

    [Fact]
    public async Task The_cve_job_repeats_every_rescan_interval_from_shortly_after_start()
    {
        await using var worker = await WorkerFixture.CreateAsync(At("2026-01-09T12:00Z"));
        await using var host = await ScheduleHost.Over(worker).StartAsync();

        var trigger = await (await host.SchedulerAsync()).GetTrigger(
            new TriggerKey(ScheduleSync.CveRescanKey)
        );

        trigger!.NextFireTimeUtc.ShouldBe(At("2026-01-09T12:01Z"));
        trigger
            .GetFireTimeAfter(trigger.NextFireTimeUtc)
            .ShouldBe(At("2026-01-09T12:01Z") + ScheduleHost.Config.CveRescanInterval);
    }

    internal static DateTimeOffset At(string utc) =>
        DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture);

    internal static async Task WriteDefinitionAsync(
        WorkerFixture worker,
        string name,
        string cron,
        string zone
    )
    {
        var yaml = await File.ReadAllTextAsync(
            worker.ContentFile("templates", "images", "debian-11-cis.yaml")
        );
        yaml = yaml.Replace("name: debian-11-cis", $"name: {name}", StringComparison.Ordinal)
            .Replace("cron: \"0 2 * * *\"", $"cron: \"{cron}\"", StringComparison.Ordinal)
            .Replace("time_zone: Europe/Berlin", $"time_zone: {zone}", StringComparison.Ordinal);
        await File.WriteAllTextAsync(
            worker.ContentFile("templates", "images", $"{name}.yaml"),
            yaml
        );
    }
}

/// <summary>A provider module's rules without anything that acts: its targets validate and nothing builds them.</summary>
internal sealed class ValidatedOnly(ProviderModule module) : ProviderModule
{
    public override ProviderRules Rules => module.Rules;
}
