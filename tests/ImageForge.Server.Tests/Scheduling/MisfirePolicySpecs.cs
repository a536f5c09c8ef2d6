using System.Diagnostics;
using ImageForge.Core.Definitions;
using ImageForge.Core.Scheduling;
using ImageForge.Core.Worker;
using ImageForge.Server.Scheduling;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Scheduling;

public sealed class MisfirePolicySpecs
{
    private static readonly TimeSpan Grace = TimeSpan.FromHours(6);

    // 02:00 Europe/Berlin: 01:00Z in winter.
    private static readonly ScheduleSpec Nightly = new(
        CronExpression.Parse("0 2 * * *"),
        "Europe/Berlin"
    );

    private static readonly DateTimeOffset Tonight = new(2026, 1, 10, 1, 0, 0, TimeSpan.Zero);

    private static ScheduleFiring Recorded(DateTimeOffset instant) =>
        new("web", "local", instant, instant, "queued", "b1", "no successful build yet");

    [Fact]
    public void A_schedule_with_no_recorded_firing_never_catches_up()
    {
        MisfirePolicy
            .Decide(Nightly, Tonight.AddHours(2), lastRecorded: null, Grace)
            .ShouldBe(MisfireDecision.None);
    }

    [Fact]
    public void Nothing_is_caught_up_when_the_newest_instant_was_already_recorded()
    {
        MisfirePolicy
            .Decide(Nightly, Tonight.AddHours(2), Recorded(Tonight), Grace)
            .ShouldBe(MisfireDecision.None);
    }

    [Fact]
    public void Nothing_is_caught_up_when_no_instant_passed_since_the_last_firing()
    {
        // Recorded yesterday night; tonight's instant has not come yet.
        MisfirePolicy
            .Decide(Nightly, Tonight.AddHours(-3), Recorded(Tonight.AddDays(-1)), Grace)
            .ShouldBe(MisfireDecision.None);
    }

    [Fact]
    public void A_missed_instant_within_the_grace_fires_once_now()
    {
        MisfirePolicy
            .Decide(Nightly, Tonight.AddHours(2), Recorded(Tonight.AddDays(-1)), Grace)
            .ShouldBe(new MisfireDecision.FireNow(Tonight));
    }

    [Fact]
    public void An_instant_exactly_as_old_as_the_grace_still_fires()
    {
        MisfirePolicy
            .Decide(Nightly, Tonight + Grace, Recorded(Tonight.AddDays(-1)), Grace)
            .ShouldBe(new MisfireDecision.FireNow(Tonight));
    }

    [Fact]
    public void Several_missed_instants_coalesce_into_one_firing_for_the_newest()
    {
        var hourly = new ScheduleSpec(CronExpression.Parse("0 * * * *"), "UTC");
        var now = new DateTimeOffset(2026, 1, 10, 9, 20, 0, TimeSpan.Zero);

        // 06:00 was recorded; 07:00, 08:00 and 09:00 passed while the worker was down.
        var decision = MisfirePolicy.Decide(
            hourly,
            now,
            Recorded(new DateTimeOffset(2026, 1, 10, 6, 0, 0, TimeSpan.Zero)),
            Grace
        );

        decision.ShouldBe(
            new MisfireDecision.FireNow(new DateTimeOffset(2026, 1, 10, 9, 0, 0, TimeSpan.Zero))
        );
    }

    [Fact]
    public void An_instant_older_than_the_grace_is_recorded_as_missed_with_the_reason()
    {
        var decision = MisfirePolicy.Decide(
            Nightly,
            Tonight.AddHours(11),
            Recorded(Tonight.AddDays(-1)),
            Grace
        );

        var missed = decision.ShouldBeOfType<MisfireDecision.RecordMissed>();
        missed.Instant.ShouldBe(Tonight);
        missed.Reason.ShouldContain("2026-01-10 01:00Z");
        missed.Reason.ShouldContain("11 h late");
        missed.Reason.ShouldContain("schedules.misfire_grace (6 h)");
    }

    [Fact]
    public void A_grace_of_zero_never_catches_up()
    {
        MisfirePolicy
            .Decide(Nightly, Tonight.AddMinutes(5), Recorded(Tonight.AddDays(-1)), TimeSpan.Zero)
            .ShouldBeOfType<MisfireDecision.RecordMissed>()
            .Instant.ShouldBe(Tonight);
    }

    [Fact]
    public void Only_the_newest_of_many_missed_days_is_considered()
    {
        // Down for a week: the six nights before last night are not caught up, and last night is too old.
        var decision = MisfirePolicy.Decide(
            Nightly,
            Tonight.AddHours(10),
            Recorded(Tonight.AddDays(-7)),
            Grace
        );

        decision.ShouldBeOfType<MisfireDecision.RecordMissed>().Instant.ShouldBe(Tonight);
    }

    [Fact]
    public void The_search_is_bounded_however_long_ago_the_last_firing_was()
    {
        // Every minute, last recorded ten years ago: stepping from there would take millions of steps.
        var everyMinute = new ScheduleSpec(CronExpression.Parse("* * * * *"), "UTC");
        var now = new DateTimeOffset(2026, 1, 10, 9, 20, 30, TimeSpan.Zero);
        var watch = Stopwatch.StartNew();

        var decision = MisfirePolicy.Decide(everyMinute, now, Recorded(now.AddYears(-10)), Grace);

        watch.Stop();
        decision.ShouldBe(
            new MisfireDecision.FireNow(new DateTimeOffset(2026, 1, 10, 9, 20, 0, TimeSpan.Zero))
        );
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void An_instant_beyond_the_look_back_is_not_searched_for()
    {
        // A yearly schedule whose last instant is months ago: it waits for its next one.
        var yearly = new ScheduleSpec(CronExpression.Parse("@yearly"), "UTC");
        var now = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

        MisfirePolicy
            .Decide(
                yearly,
                now,
                Recorded(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero)),
                Grace
            )
            .ShouldBe(MisfireDecision.None);
    }

    [Fact]
    public void The_newest_instant_is_found_across_a_daylight_saving_switch()
    {
        // 2026-03-29 02:00 does not exist in Berlin: that night's instant is 03:00 CEST = 01:00Z.
        var after = new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero);

        MisfirePolicy
            .Decide(Nightly, after.AddHours(1), Recorded(after.AddDays(-1)), Grace)
            .ShouldBe(new MisfireDecision.FireNow(after));
    }
}
