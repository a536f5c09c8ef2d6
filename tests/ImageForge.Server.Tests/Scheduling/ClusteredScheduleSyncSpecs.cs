using ImageForge.Server.Scheduling;
using ImageForge.Server.Tests.Worker;
using ImageForge.TestUtils;
using Npgsql;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Scheduling;

/// <summary>
/// ScheduleSync on Quartz's clustered store in a throwaway PostgreSQL (docs/cluster.md, "Schedules"): workers of
/// one catalog started one after another (one Quartz scheduler name per process) share one job and one trigger per
/// schedule, a worker starting beside a live trigger leaves it alone, and a schedule removed from the definitions
/// while no worker ran is removed from the shared store by the next worker to start.
/// </summary>
public sealed class ClusteredScheduleSyncSpecs
{
    private const string Image = "debian-11-cis";
    private const string JobName = "schedule.debian-11-cis.local";

    [Fact(Timeout = 120_000)]
    public async Task Workers_of_one_catalog_keep_one_job_and_trigger_per_schedule_and_remove_one_no_definition_has()
    {
        var server = ThrowawayPostgres.Shared;
        var database = server.ConnectionString(server.CreateDatabase());
        var now = ScheduleSyncSpecs.At("2026-01-09T12:00Z");
        await using var first = await WorkerFixture.CreateAsync(now, database);
        await using var second = await WorkerFixture.CreateAsync(now, database);

        DateTimeOffset? armed;
        DateTimeOffset? cve;
        await using (var a = await ScheduleHost.Over(first, Store(database, "a")).StartAsync())
        {
            armed = (await a.TriggerAsync(Image))!.NextFireTimeUtc;
            cve = await CveNextAsync(a);
            await Task.WhenAll(a.Sync.ResyncAsync(), a.Sync.ResyncAsync());
        }

        armed.ShouldBe(ScheduleSyncSpecs.At("2026-01-10T01:00Z"));
        (await CountAsync(database, "qrtz_job_details")).ShouldBe(1);
        (await CountAsync(database, "qrtz_triggers")).ShouldBe(1);

        // Another worker (its own copy of the same definitions), started 30 s later, finds the live triggers and
        // keeps them: the schedule's instant, and the CVE job's next run (not postponed to a minute after it).
        second.Time.Advance(TimeSpan.FromSeconds(30));
        await using (var b = await ScheduleHost.Over(second, Store(database, "b")).StartAsync())
        {
            await b.Sync.ResyncAsync();
            (await b.TriggerAsync(Image))!.NextFireTimeUtc.ShouldBe(armed);
            (await CveNextAsync(b)).ShouldBe(cve);
        }

        (await CountAsync(database, "qrtz_job_details")).ShouldBe(1);
        (await CountAsync(database, "qrtz_triggers")).ShouldBe(1);

        // The schedule is deleted from the definitions while no worker runs: the next to start removes it.
        var file = first.ContentFile("templates", "images", $"{Image}.yaml");
        await File.WriteAllLinesAsync(
            file,
            (await File.ReadAllLinesAsync(file)).Where(l =>
                !l.StartsWith("schedule:", StringComparison.Ordinal)
                && !l.StartsWith("  cron:", StringComparison.Ordinal)
                && !l.StartsWith("  time_zone:", StringComparison.Ordinal)
            )
        );
        await using (await ScheduleHost.Over(first, Store(database, "c")).StartAsync())
        {
            (await CountAsync(database, "qrtz_job_details")).ShouldBe(0);
            (await CountAsync(database, "qrtz_triggers")).ShouldBe(0);
        }
    }

    private static async Task<DateTimeOffset?> CveNextAsync(ScheduleHost host) =>
        (
            await (await host.SchedulerAsync()).GetTrigger(
                new Quartz.TriggerKey(ScheduleSync.CveRescanKey)
            )
        )?.NextFireTimeUtc;

    [Fact(Timeout = 120_000)]
    public async Task A_worker_whose_lease_is_not_a_multiple_of_three_milliseconds_checks_in_every_whole_millisecond_third()
    {
        var lease = TimeSpan.FromSeconds(2);
        var store = new ClusteredScheduleStore("unused", "a", lease);
        store.CheckinInterval.ShouldBe(TimeSpan.FromMilliseconds(666));
        store.CheckinMisfireThreshold.ShouldBe(TimeSpan.FromMilliseconds(1334));

        // Quartz's store refuses a fraction of a millisecond: with a 2 s lease the node never checked in before.
        var server = ThrowawayPostgres.Shared;
        var database = server.ConnectionString(server.CreateDatabase());
        await using var worker = await WorkerFixture.CreateAsync(
            ScheduleSyncSpecs.At("2026-01-09T12:00Z"),
            database
        );
        await using var host = await ScheduleHost
            .Over(worker, new ClusteredScheduleStore(database, "a", lease))
            .StartAsync();
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT checkin_interval FROM qrtz_scheduler_state WHERE instance_name = 'a'",
            connection
        );
        object? interval = null;
        for (var i = 0; i < 100 && interval is null; i++)
        {
            interval = await command.ExecuteScalarAsync();
            if (interval is null)
            {
                await Task.Delay(100);
            }
        }

        interval.ShouldBe(666L);
    }

    private static ClusteredScheduleStore Store(string database, string instance) =>
        new(database, instance, TimeSpan.FromSeconds(60));

    private static async Task<long> CountAsync(string database, string table)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        var name = table == "qrtz_job_details" ? "job_name" : "trigger_name";
        await using var command = new NpgsqlCommand(
            $"SELECT COUNT(*) FROM {table} WHERE {name} = @Name",
            connection
        );
        command.Parameters.AddWithValue("Name", JobName);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
