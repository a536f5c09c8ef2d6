using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace ImageForge.Core.Scheduling;

/// <summary>
/// A classic five-field cron expression (minute hour day-of-month month day-of-week) or a macro (@hourly, @daily,
/// @midnight, @weekly, @monthly, @yearly, @annually), evaluated in a time zone.
/// </summary>
/// <remarks>
/// <para>Each field takes <c>*</c>, numbers, ranges <c>a-b</c>, steps (<c>*/n</c>, <c>a-b/n</c>, <c>a/n</c> meaning
/// a to the field's maximum) and comma lists of those. Months and weekdays also take three-letter English names
/// (jan..dec, sun..sat, any case); weekday 0 and 7 are both Sunday.</para>
/// <para>When both day fields are restricted, a day matches if either matches (classic cron). A day field counts as
/// unrestricted when it starts with <c>*</c> (so <c>*/2</c> is combined with the other day field by AND, as in
/// Vixie cron).</para>
/// <para>Daylight saving time: a local time that does not exist (the clock jumps forward over it) runs at the first
/// instant after the gap, once, however many scheduled times fell into the gap; a local time that occurs twice (the
/// clock falls back) runs once, at its first occurrence.</para>
/// </remarks>
public sealed class CronExpression
{
    /// <summary>How far ahead the search for the next occurrence goes; enough to always reach a 29 February.</summary>
    private const int SearchYears = 8;

    private static readonly CronField Minute = new("minute", 0, 59, null);
    private static readonly CronField Hour = new("hour", 0, 23, null);
    private static readonly CronField DayOfMonth = new("day-of-month", 1, 31, null);
    private static readonly CronField Month = new(
        "month",
        1,
        12,
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    );
    private static readonly CronField DayOfWeek = new(
        "day-of-week",
        0,
        7,
        ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    );

    private static readonly Dictionary<string, string> Macros = new(
        StringComparer.OrdinalIgnoreCase
    )
    {
        ["@hourly"] = "0 * * * *",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@weekly"] = "0 0 * * 0",
        ["@monthly"] = "0 0 1 * *",
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
    };

    /// <summary>
    /// The macro of a schedule that fires at every whole second, for the cluster's schedule proof only
    /// (tests/ImageForge.Cli.Tests/ClusterScheduleSpecs.cs): accepted only while the process has
    /// <see cref="EverySecondVariable"/> set to 1, so no definition in use can schedule builds every second.
    /// </summary>
    public const string EverySecondMacro = "@every_second";

    /// <summary>The environment variable that admits <see cref="EverySecondMacro"/> (tests only).</summary>
    public const string EverySecondVariable = "IMAGEFORGE_TEST_EVERY_SECOND";

    private readonly ulong _minutes;
    private readonly ulong _hours;
    private readonly ulong _daysOfMonth;
    private readonly ulong _months;
    private readonly ulong _daysOfWeek;
    private readonly bool _bothDayFieldsRestricted;
    private readonly bool _everySecond;

    private CronExpression(
        string text,
        ulong[] fields,
        bool bothDayFieldsRestricted,
        bool everySecond = false
    )
    {
        _everySecond = everySecond;
        Text = text;
        _minutes = fields[0];
        _hours = fields[1];
        _daysOfMonth = fields[2];
        _months = fields[3];
        _daysOfWeek = fields[4];
        _bothDayFieldsRestricted = bothDayFieldsRestricted;
    }

    /// <summary>The expression as written (surrounding white space removed).</summary>
    public string Text { get; }

    /// <summary>
    /// Parses <paramref name="text"/>. On failure <paramref name="error"/> says which field is wrong and what it
    /// accepts, e.g. "day-of-month: 32 is out of range 1-31".
    /// </summary>
    public static bool TryParse(
        string? text,
        [NotNullWhen(true)] out CronExpression? cron,
        [NotNullWhen(false)] out string? error
    )
    {
        cron = null;
        var trimmed = text?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            error = "expected a cron expression such as '0 2 * * *', found nothing";
            return false;
        }
        var expanded = trimmed;
        if (
            string.Equals(trimmed, EverySecondMacro, StringComparison.Ordinal)
            && Environment.GetEnvironmentVariable(EverySecondVariable) == "1"
        )
        {
            cron = new CronExpression(trimmed, new ulong[5], false, everySecond: true);
            error = null;
            return true;
        }

        if (trimmed.StartsWith('@'))
        {
            if (!Macros.TryGetValue(trimmed, out var macro))
            {
                error =
                    $"unknown macro '{trimmed}'; expected one of: {string.Join(", ", Macros.Keys)} (or five fields)";
                return false;
            }
            expanded = macro;
        }
        var parts = expanded.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 5)
        {
            error =
                $"expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, found {parts.Length} in '{trimmed}'";
            return false;
        }
        CronField[] specs = [Minute, Hour, DayOfMonth, Month, DayOfWeek];
        var masks = new ulong[5];
        for (var i = 0; i < 5; i++)
        {
            if (!specs[i].TryParse(parts[i], out masks[i], out error))
            {
                return false;
            }
        }
        // Sunday is 0 and 7: fold 7 onto 0.
        if ((masks[4] & (1UL << 7)) != 0)
        {
            masks[4] = (masks[4] & ~(1UL << 7)) | 1UL;
        }
        var bothRestricted = !parts[2].StartsWith('*') && !parts[4].StartsWith('*');
        cron = new CronExpression(trimmed, masks, bothRestricted);
        error = null;
        return true;
    }

    /// <summary>Parses <paramref name="text"/> or throws <see cref="FormatException"/> with the reason.</summary>
    public static CronExpression Parse(string text) =>
        TryParse(text, out var cron, out var error) ? cron : throw new FormatException(error);

    /// <summary>
    /// The first time strictly after <paramref name="after"/> at which the expression fires, read in
    /// <paramref name="zone"/>, with the zone's offset at that time; null when it does not fire within the next
    /// eight years (for instance 30 February).
    /// </summary>
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset after, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        if (_everySecond)
        {
            var ticks = after.UtcTicks;
            return TimeZoneInfo.ConvertTime(
                new DateTimeOffset(
                    ticks - (ticks % TimeSpan.TicksPerSecond),
                    TimeSpan.Zero
                ).AddSeconds(1),
                zone
            );
        }

        var local = TimeZoneInfo.ConvertTime(after, zone).DateTime;
        var start = new DateTime(
            local.Year,
            local.Month,
            local.Day,
            local.Hour,
            local.Minute,
            0,
            DateTimeKind.Unspecified
        ).AddMinutes(1);
        var lastYear = Math.Min(start.Year + SearchYears, DateTime.MaxValue.Year - 1);
        for (var year = start.Year; year <= lastYear; year++)
        {
            for (var month = year == start.Year ? start.Month : 1; month <= 12; month++)
            {
                if (!Has(_months, month))
                {
                    continue;
                }
                var firstDay = year == start.Year && month == start.Month ? start.Day : 1;
                for (var day = firstDay; day <= DateTime.DaysInMonth(year, month); day++)
                {
                    var date = new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Unspecified);
                    if (!DayMatches(date))
                    {
                        continue;
                    }
                    var found = FirstOnDay(date, start, after, zone);
                    if (found is not null)
                    {
                        return found;
                    }
                }
            }
        }
        return null;
    }

    /// <summary>The expression as written.</summary>
    public override string ToString() => Text;

    private DateTimeOffset? FirstOnDay(
        DateTime date,
        DateTime start,
        DateTimeOffset after,
        TimeZoneInfo zone
    )
    {
        var startDay = date == start.Date;
        for (var hour = startDay ? start.Hour : 0; hour < 24; hour++)
        {
            if (!Has(_hours, hour))
            {
                continue;
            }
            var startHour = startDay && hour == start.Hour;
            for (var minute = startHour ? start.Minute : 0; minute < 60; minute++)
            {
                if (!Has(_minutes, minute))
                {
                    continue;
                }
                var instant = Resolve(date.AddHours(hour).AddMinutes(minute), zone);
                // The second pass through a repeated hour resolves to instants already passed: skipped, so it fires once.
                if (instant > after)
                {
                    return instant;
                }
            }
        }
        return null;
    }

    private bool DayMatches(DateTime date)
    {
        var dayOfMonth = Has(_daysOfMonth, date.Day);
        var dayOfWeek = Has(_daysOfWeek, (int)date.DayOfWeek);
        return _bothDayFieldsRestricted ? dayOfMonth || dayOfWeek : dayOfMonth && dayOfWeek;
    }

    /// <summary>The instant of a local wall-clock time: after the gap if it does not exist, the first if it is repeated.</summary>
    private static DateTimeOffset Resolve(DateTime local, TimeZoneInfo zone)
    {
        if (zone.IsInvalidTime(local))
        {
            var end = local;
            // Gaps are whole minutes and at most a few hours; the bound only guards against a broken zone database.
            for (var i = 0; i < 48 * 60 && zone.IsInvalidTime(end); i++)
            {
                end = end.AddMinutes(1);
            }
            return new DateTimeOffset(end, zone.GetUtcOffset(end));
        }
        if (zone.IsAmbiguousTime(local))
        {
            return new DateTimeOffset(local, zone.GetAmbiguousTimeOffsets(local).Max());
        }
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    private static bool Has(ulong mask, int value) => (mask & (1UL << value)) != 0;

    /// <summary>One field of the expression: its name, range and (for months and weekdays) names.</summary>
    private sealed class CronField(string name, int min, int max, string[]? names)
    {
        public bool TryParse(string text, out ulong mask, [NotNullWhen(false)] out string? error)
        {
            mask = 0;
            foreach (var item in text.Split(','))
            {
                if (item.Length == 0)
                {
                    error = $"{name}: empty item in '{text}'; separate values with single commas";
                    return false;
                }
                if (!TryParseItem(item, ref mask, out error))
                {
                    return false;
                }
            }
            error = null;
            return true;
        }

        private bool TryParseItem(
            string item,
            ref ulong mask,
            [NotNullWhen(false)] out string? error
        )
        {
            var slash = item.IndexOf('/', StringComparison.Ordinal);
            var rangeText = slash < 0 ? item : item[..slash];
            var step = 1;
            if (slash >= 0)
            {
                var stepText = item[(slash + 1)..];
                if (
                    !int.TryParse(
                        stepText,
                        NumberStyles.None,
                        CultureInfo.InvariantCulture,
                        out step
                    )
                    || step < 1
                    || step > max - min
                )
                {
                    error =
                        $"{name}: step '{stepText}' in '{item}' is not a number from 1 to {max - min}";
                    return false;
                }
            }
            int from;
            int to;
            if (rangeText == "*")
            {
                (from, to) = (min, max);
            }
            else
            {
                var dash = rangeText.IndexOf('-', StringComparison.Ordinal);
                if (dash < 0)
                {
                    if (!TryValue(rangeText, out from, out error))
                    {
                        return false;
                    }
                    // a/n runs from a to the end of the field; a alone is just a.
                    to = slash >= 0 ? max : from;
                }
                else
                {
                    if (
                        !TryValue(rangeText[..dash], out from, out error)
                        || !TryValue(rangeText[(dash + 1)..], out to, out error)
                    )
                    {
                        return false;
                    }
                    if (from > to)
                    {
                        error =
                            $"{name}: range '{rangeText}' goes backwards; write the smaller value first (ranges do not wrap around)";
                        return false;
                    }
                }
            }
            for (var value = from; value <= to; value += step)
            {
                mask |= 1UL << value;
            }
            error = null;
            return true;
        }

        private bool TryValue(string text, out int value, [NotNullWhen(false)] out string? error)
        {
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
            {
                if (value < min || value > max)
                {
                    error = $"{name}: {value} is out of range {min}-{max}{SundayNote}";
                    return false;
                }
                error = null;
                return true;
            }
            if (names is not null)
            {
                var index = Array.FindIndex(
                    names,
                    n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase)
                );
                if (index >= 0)
                {
                    value = index + min;
                    error = null;
                    return true;
                }
            }
            error = names is null
                ? $"{name}: '{text}' is not a number from {min} to {max}"
                : $"{name}: '{text}' is not a number from {min} to {max}{SundayNote} or a name {names[0]}-{names[^1]}";
            return false;
        }

        private string SundayNote => max == 7 ? " (0 and 7 are Sunday)" : "";
    }
}
