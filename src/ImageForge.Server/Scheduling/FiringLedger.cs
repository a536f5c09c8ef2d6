using System.Diagnostics;
using ImageForge.Core.Telemetry;
using ImageForge.Core.Worker;

namespace ImageForge.Server.Scheduling;

/// <summary>Records schedule firings in the ledger, and counts each one recorded (skips and misfires included).</summary>
internal static class FiringLedger
{
    /// <summary>
    /// Records <paramref name="firing"/> unless its instant was already handled (false then, and nothing counted).
    /// </summary>
    public static async Task<bool> RecordAsync(
        this IScheduleLedger ledger,
        ScheduleFiring firing,
        CancellationToken cancellationToken
    )
    {
        if (!await ledger.TryRecordFiringAsync(firing, cancellationToken))
        {
            return false;
        }

        Count(firing);
        return true;
    }

    /// <summary>Counts a firing recorded (<c>imageforge.schedule.firings</c>).</summary>
    public static void Count(ScheduleFiring firing) =>
        ImageForgeTelemetry.ScheduleFirings.Add(
            1,
            new TagList
            {
                { ImageForgeTelemetry.Attributes.Image, firing.Image },
                { ImageForgeTelemetry.Attributes.Target, firing.Target },
                { ImageForgeTelemetry.Attributes.Outcome, firing.Outcome },
            }
        );
}
