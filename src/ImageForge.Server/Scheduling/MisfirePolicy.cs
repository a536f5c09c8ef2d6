using System.Globalization;
using ImageForge.Core.Definitions;
using ImageForge.Core.Worker;

namespace ImageForge.Server.Scheduling;

/// <summary>What to do, at start, about the instants of a schedule that passed while the worker was not running.</summary>
internal abstract record MisfireDecision
{
    private MisfireDecision() { }

    /// <summary>Nothing to catch up: the schedule waits for its next instant.</summary>
    public static MisfireDecision None { get; } = new NoMisfire();

    /// <summary>Fire once, now, for <see cref="Instant"/> (every missed instant up to it coalesces into this one).</summary>
    /// <param name="Instant">The newest missed instant; the firing is recorded for it.</param>
    public sealed record FireNow(DateTimeOffset Instant) : MisfireDecision;

    /// <summary>The newest missed instant is older than the grace: record it as misfired with the reason, do not build.</summary>
    /// <param name="Instant">The newest missed instant.</param>
    /// <param name="Reason">Why it was not fired, for the ledger.</param>
    public sealed record RecordMissed(DateTimeOffset Instant, string Reason) : MisfireDecision;

    private sealed record NoMisfire : MisfireDecision;
}

/// <summary>
/// The misfire rules of docs/worker.md ("Misfires"): Quartz's RAM store forgets everything at a restart, so missed
/// instants are found from the schedule ledger. Pure: the caller supplies the clock and the last recorded firing.
/// </summary>
internal static class MisfirePolicy
{
    /// <summary>
    /// How far before the grace the search for the newest missed instant looks (beyond the last recorded firing it
    /// never looks). Long enough to see the missed instant of a daily, weekly or monthly schedule; a rarer one missed
    /// longer ago simply waits for its next instant.
    /// </summary>
    internal static readonly TimeSpan LookBack = TimeSpan.FromDays(31);

    /// <summary>
    /// Decides what to do about <paramref name="schedule"/> at <paramref name="now"/>, given the newest firing the
    /// ledger holds for the image and target (<paramref name="lastRecorded"/>, null when none ever was).
    /// </summary>
    public static MisfireDecision Decide(
        ScheduleSpec schedule,
        DateTimeOffset now,
        ScheduleFiring? lastRecorded,
        TimeSpan grace
    )
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (lastRecorded is null)
        {
            // A new schedule starts at its next instant: it never catches up on a past it was not part of.
            return MisfireDecision.None;
        }

        var floor = now - (grace > TimeSpan.Zero ? grace : TimeSpan.Zero) - LookBack;
        var from = lastRecorded.ScheduledFor > floor ? lastRecorded.ScheduledFor : floor;
        var newest = NewestAtOrBefore(schedule, from, now);
        if (newest is not { } instant || instant <= lastRecorded.ScheduledFor)
        {
            return MisfireDecision.None;
        }

        var age = now - instant;
        if (grace > TimeSpan.Zero && age <= grace)
        {
            return new MisfireDecision.FireNow(instant);
        }

        return new MisfireDecision.RecordMissed(
            instant,
            $"the worker was not running at {Format(instant)} ({schedule.Cron} in {schedule.TimeZone}); "
                + $"{Describe(age)} late is beyond schedules.misfire_grace ({Describe(grace)}), "
                + "so it was not built and the schedule waits for its next instant"
        );
    }

    /// <summary>
    /// The newest instant of the schedule in (<paramref name="from"/>, <paramref name="now"/>], or null. Searches
    /// backwards from now in windows that double (1 min, 2 min, 4 min, ... down to <paramref name="from"/>), so it
    /// takes a few dozen steps whatever the gap, and never more than the window holds.
    /// </summary>
    internal static DateTimeOffset? NewestAtOrBefore(
        ScheduleSpec schedule,
        DateTimeOffset from,
        DateTimeOffset now
    )
    {
        if (from >= now)
        {
            return null;
        }

        var window = TimeSpan.FromMinutes(1);
        while (true)
        {
            var start = now - window > from ? now - window : from;
            if (schedule.GetNextOccurrence(start) is { } first && first <= now)
            {
                // The newest instant lies in [first, now]; this window is at most twice as long as needed, so
                // stepping forward through it is short.
                var newest = first;
                while (schedule.GetNextOccurrence(newest) is { } next && next <= now)
                {
                    newest = next;
                }

                return newest;
            }

            if (start == from)
            {
                return null;
            }

            window += window;
        }
    }

    private static string Format(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);

    private static string Describe(TimeSpan span) =>
        span.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0.#} h")
            : string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0} min");
}
