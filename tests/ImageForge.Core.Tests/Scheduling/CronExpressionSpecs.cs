using System.Globalization;
using ImageForge.Core.Scheduling;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Scheduling;

public sealed class CronExpressionSpecs
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById(
        "Europe/Berlin"
    );

    private static DateTimeOffset At(string iso) =>
        DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);

    [Theory]
    // Plain times, strictly after the given instant.
    [InlineData("0 2 * * *", "2025-01-01T00:00:00Z", "2025-01-01T02:00:00Z")]
    [InlineData("0 2 * * *", "2025-01-01T02:00:00Z", "2025-01-02T02:00:00Z")]
    [InlineData("0 2 * * *", "2025-01-01T01:59:59Z", "2025-01-01T02:00:00Z")]
    [InlineData("* * * * *", "2025-01-01T10:07:30Z", "2025-01-01T10:08:00Z")]
    [InlineData("59 23 31 12 *", "2025-06-01T00:00:00Z", "2025-12-31T23:59:00Z")]
    // Steps.
    [InlineData("*/15 * * * *", "2025-01-01T10:07:00Z", "2025-01-01T10:15:00Z")]
    [InlineData("*/15 * * * *", "2025-01-01T10:45:00Z", "2025-01-01T11:00:00Z")]
    [InlineData("0 9-17/4 * * *", "2025-01-01T10:00:00Z", "2025-01-01T13:00:00Z")]
    [InlineData("5/20 * * * *", "2025-01-01T10:06:00Z", "2025-01-01T10:25:00Z")]
    [InlineData("5/20 * * * *", "2025-01-01T10:45:00Z", "2025-01-01T11:05:00Z")]
    // Lists and ranges.
    [InlineData("30 4 1,15 * *", "2025-01-02T00:00:00Z", "2025-01-15T04:30:00Z")]
    [InlineData("0 8,12-13 * * *", "2025-01-01T12:00:00Z", "2025-01-01T13:00:00Z")]
    // Names, in any case.
    [InlineData("0 0 * * mon-fri", "2025-01-04T00:00:00Z", "2025-01-06T00:00:00Z")]
    [InlineData("0 0 1 JAN,Jul *", "2025-01-02T00:00:00Z", "2025-07-01T00:00:00Z")]
    [InlineData("0 0 * * Sat", "2025-01-01T00:00:00Z", "2025-01-04T00:00:00Z")]
    [InlineData("0 0 1 feb-mar/1 *", "2025-02-02T00:00:00Z", "2025-03-01T00:00:00Z")]
    // Sunday is 0 and 7.
    [InlineData("0 0 * * 0", "2025-01-01T00:00:00Z", "2025-01-05T00:00:00Z")]
    [InlineData("0 0 * * 7", "2025-01-01T00:00:00Z", "2025-01-05T00:00:00Z")]
    [InlineData("0 0 * * 5-7", "2025-01-04T12:00:00Z", "2025-01-05T00:00:00Z")]
    // Both day fields restricted: either matches (13th or a Friday).
    [InlineData("0 0 13 * fri", "2025-01-01T00:00:00Z", "2025-01-03T00:00:00Z")]
    [InlineData("0 0 13 * fri", "2025-01-10T00:00:00Z", "2025-01-13T00:00:00Z")]
    // A day field starting with '*' is unrestricted: both must match (an odd day that is a Monday).
    [InlineData("0 0 */2 * mon", "2025-01-01T00:00:00Z", "2025-01-13T00:00:00Z")]
    // Months of different lengths and leap years.
    [InlineData("0 12 31 * *", "2025-04-01T00:00:00Z", "2025-05-31T12:00:00Z")]
    [InlineData("0 0 29 2 *", "2025-03-01T00:00:00Z", "2028-02-29T00:00:00Z")]
    [InlineData("0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z")]
    // Macros.
    [InlineData("@hourly", "2025-01-01T10:30:00Z", "2025-01-01T11:00:00Z")]
    [InlineData("@daily", "2025-01-01T10:30:00Z", "2025-01-02T00:00:00Z")]
    [InlineData("@midnight", "2025-01-01T10:30:00Z", "2025-01-02T00:00:00Z")]
    [InlineData("@weekly", "2025-01-01T10:30:00Z", "2025-01-05T00:00:00Z")]
    [InlineData("@monthly", "2025-01-01T10:30:00Z", "2025-02-01T00:00:00Z")]
    [InlineData("@yearly", "2025-01-01T10:30:00Z", "2026-01-01T00:00:00Z")]
    [InlineData("@ANNUALLY", "2025-01-01T10:30:00Z", "2026-01-01T00:00:00Z")]
    public void The_next_occurrence_in_utc_is_the_first_matching_minute_after_the_given_instant(
        string expression,
        string after,
        string expected
    )
    {
        // Arrange
        var cron = CronExpression.Parse(expression);

        // Act
        var next = cron.GetNextOccurrence(At(after), TimeZoneInfo.Utc);

        // Assert
        next.ShouldBe(At(expected));
        next!.Value.Offset.ShouldBe(TimeSpan.Zero);
    }

    [Theory]
    // Winter (CET, +01:00) and summer (CEST, +02:00).
    [InlineData("0 2 * * *", "2025-01-10T12:00:00Z", "2025-01-11T02:00:00+01:00")]
    [InlineData("0 2 * * *", "2025-06-30T12:00:00Z", "2025-07-01T02:00:00+02:00")]
    // Spring forward, 2025-03-30: 02:00 CET becomes 03:00 CEST. 02:xx does not exist and runs at 03:00 CEST.
    [InlineData("0 2 * * *", "2025-03-29T12:00:00Z", "2025-03-30T03:00:00+02:00")]
    [InlineData("30 2 * * *", "2025-03-29T23:00:00Z", "2025-03-30T03:00:00+02:00")]
    [InlineData("30 2 * * *", "2025-03-30T01:00:00Z", "2025-03-31T02:30:00+02:00")]
    [InlineData("0 3 * * *", "2025-03-29T12:00:00Z", "2025-03-30T03:00:00+02:00")]
    [InlineData("59 1 * * *", "2025-03-29T12:00:00Z", "2025-03-30T01:59:00+01:00")]
    // Every half hour: the times in the gap collapse into one run at 03:00, then 03:30 follows.
    [InlineData("*/30 * * * *", "2025-03-30T00:30:00Z", "2025-03-30T03:00:00+02:00")]
    [InlineData("*/30 * * * *", "2025-03-30T01:00:00Z", "2025-03-30T03:30:00+02:00")]
    // Fall back, 2025-10-26: 03:00 CEST becomes 02:00 CET; 02:xx happens twice and runs once, the first time.
    [InlineData("30 2 * * *", "2025-10-25T23:00:00Z", "2025-10-26T02:30:00+02:00")]
    [InlineData("30 2 * * *", "2025-10-26T00:30:00Z", "2025-10-27T02:30:00+01:00")]
    [InlineData("30 2 * * *", "2025-10-26T01:10:00Z", "2025-10-27T02:30:00+01:00")]
    [InlineData("0 3 * * *", "2025-10-25T23:00:00Z", "2025-10-26T03:00:00+01:00")]
    // Hourly: 02:00 CEST runs, the repeated 02:00 CET does not, then 03:00 CET.
    [InlineData("0 * * * *", "2025-10-25T23:30:00Z", "2025-10-26T02:00:00+02:00")]
    [InlineData("0 * * * *", "2025-10-26T00:00:00Z", "2025-10-26T03:00:00+01:00")]
    public void The_next_occurrence_in_berlin_follows_daylight_saving_time(
        string expression,
        string after,
        string expected
    )
    {
        // Arrange
        var cron = CronExpression.Parse(expression);

        // Act
        var next = cron.GetNextOccurrence(At(after), Berlin);

        // Assert
        next.ShouldNotBeNull();
        next.Value.ShouldBe(At(expected));
        next.Value.Offset.ShouldBe(At(expected).Offset);
    }

    [Fact]
    public void A_daily_job_runs_exactly_once_on_each_day_around_both_switches()
    {
        // Arrange
        var cron = CronExpression.Parse("30 2 * * *");
        var runs = new List<DateTimeOffset>();
        var after = At("2025-03-28T00:00:00Z");

        // Act
        for (var i = 0; i < 4; i++)
        {
            after = cron.GetNextOccurrence(after, Berlin)!.Value;
            runs.Add(after);
        }
        var fall = new List<DateTimeOffset>();
        after = At("2025-10-24T00:00:00Z");
        for (var i = 0; i < 4; i++)
        {
            after = cron.GetNextOccurrence(after, Berlin)!.Value;
            fall.Add(after);
        }

        // Assert
        runs.ShouldBe([
            At("2025-03-28T02:30:00+01:00"),
            At("2025-03-29T02:30:00+01:00"),
            At("2025-03-30T03:00:00+02:00"),
            At("2025-03-31T02:30:00+02:00"),
        ]);
        fall.ShouldBe([
            At("2025-10-24T02:30:00+02:00"),
            At("2025-10-25T02:30:00+02:00"),
            At("2025-10-26T02:30:00+02:00"),
            At("2025-10-27T02:30:00+01:00"),
        ]);
    }

    [Theory]
    [InlineData("0 0 30 2 *")]
    [InlineData("0 0 31 4,6,9,11 *")]
    public void An_expression_that_can_never_fire_has_no_next_occurrence(string expression)
    {
        // Arrange
        var cron = CronExpression.Parse(expression);

        // Act
        var next = cron.GetNextOccurrence(At("2025-01-01T00:00:00Z"), Berlin);

        // Assert
        next.ShouldBeNull();
    }

    [Theory]
    [InlineData("", "expected a cron expression such as '0 2 * * *', found nothing")]
    [InlineData("   ", "found nothing")]
    [InlineData("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week)")]
    [InlineData("* * * * * *", "found 6")]
    [InlineData("60 * * * *", "minute: 60 is out of range 0-59")]
    [InlineData("* 24 * * *", "hour: 24 is out of range 0-23")]
    [InlineData("* * 0 * *", "day-of-month: 0 is out of range 1-31")]
    [InlineData("* * 32 * *", "day-of-month: 32 is out of range 1-31")]
    [InlineData("* * * 13 *", "month: 13 is out of range 1-12")]
    [InlineData("* * * * 8", "day-of-week: 8 is out of range 0-7 (0 and 7 are Sunday)")]
    [InlineData("* * * foo *", "month: 'foo' is not a number from 1 to 12 or a name jan-dec")]
    [InlineData(
        "* * * * funday",
        "day-of-week: 'funday' is not a number from 0 to 7 (0 and 7 are Sunday) or a name sun-sat"
    )]
    [InlineData("* * mon * *", "day-of-month: 'mon' is not a number from 1 to 31")]
    [InlineData("* * L * *", "day-of-month: 'L' is not a number from 1 to 31")]
    [InlineData("* * * * mon#2", "day-of-week: 'mon#2' is not a number")]
    [InlineData("5-1 * * * *", "minute: range '5-1' goes backwards")]
    [InlineData("* * * * fri-mon", "day-of-week: range 'fri-mon' goes backwards")]
    [InlineData("*/0 * * * *", "minute: step '0' in '*/0' is not a number from 1 to 59")]
    [InlineData("* */24 * * *", "hour: step '24' in '*/24' is not a number from 1 to 23")]
    [InlineData("*/x * * * *", "minute: step 'x'")]
    [InlineData("1,,2 * * * *", "minute: empty item in '1,,2'")]
    [InlineData("-1 * * * *", "minute: '' is not a number from 0 to 59")]
    // The cluster schedule proof's macro exists only in a process that has IMAGEFORGE_TEST_EVERY_SECOND=1.
    [InlineData(
        "@every_second",
        "unknown macro '@every_second'; expected one of: @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually"
    )]
    [InlineData(
        "@reboot",
        "unknown macro '@reboot'; expected one of: @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually"
    )]
    public void An_invalid_expression_is_refused_with_the_field_and_what_it_accepts(
        string expression,
        string expected
    )
    {
        // Act
        var parsed = CronExpression.TryParse(expression, out var cron, out var error);

        // Assert
        parsed.ShouldBeFalse();
        cron.ShouldBeNull();
        error.ShouldNotBeNull().ShouldContain(expected);
    }

    [Fact]
    public void Parse_throws_a_format_exception_with_the_reason()
    {
        // Act
        var thrown = Should.Throw<FormatException>(() => CronExpression.Parse("61 * * * *"));

        // Assert
        thrown.Message.ShouldBe("minute: 61 is out of range 0-59");
    }

    [Fact]
    public void The_text_is_kept_as_written_without_surrounding_space()
    {
        // Act
        var parsed = CronExpression.TryParse("  0 2 * * MON  ", out var cron, out var error);

        // Assert
        parsed.ShouldBeTrue();
        error.ShouldBeNull();
        cron!.Text.ShouldBe("0 2 * * MON");
        cron.ToString().ShouldBe("0 2 * * MON");
    }

    [Fact]
    public void The_result_carries_the_offset_of_the_zone_at_that_time()
    {
        // Arrange
        var cron = CronExpression.Parse("0 12 * * *");

        // Act
        var next = cron.GetNextOccurrence(At("2025-07-01T00:00:00Z"), Berlin);

        // Assert
        next!.Value.Offset.ShouldBe(TimeSpan.FromHours(2));
        next.Value.UtcDateTime.ShouldBe(new DateTime(2025, 7, 1, 10, 0, 0, DateTimeKind.Utc));
    }
}
