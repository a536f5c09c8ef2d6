using System.Globalization;
using ImageForge.Application;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Worker;
using ImageForge.Server.Queue;
using ImageForge.Storage;

namespace ImageForge.Server.Scheduling;

/// <summary>
/// What one firing of an image's schedule does: fingerprint the build's inputs as they are now (files and what the
/// target resolves), skip it (recorded, with the reason) when they equal the last successful build's, else queue
/// it. Each image, target and instant is handled once, even across restarts (<see cref="IScheduleLedger"/>).
/// </summary>
public sealed class ScheduledBuilds(
    Catalog catalog,
    Pipeline pipeline,
    QueueSignal signal,
    TimeProvider time
)
{
    /// <summary>The requester recorded on scheduled builds.</summary>
    public const string Requester = "schedule";

    /// <summary>
    /// Handles the firing for <paramref name="scheduledFor"/>. <paramref name="force"/> builds even when nothing
    /// changed. Returns the recorded firing, or null when this instant had already been handled.
    /// </summary>
    public async Task<ScheduleFiring?> FireAsync(
        string image,
        string target,
        DateTimeOffset scheduledFor,
        bool force,
        CancellationToken cancellationToken
    )
    {
        var now = time.GetUtcNow();
        var at = scheduledFor.UtcDateTime.ToString(
            "yyyy-MM-dd HH:mm'Z'",
            CultureInfo.InvariantCulture
        );
        PreparedBuild prepared;
        try
        {
            prepared = await pipeline.PrepareForQueueAsync(
                catalog,
                new BuildCommand(
                    image,
                    target,
                    BuildTrigger.Schedule,
                    Requester,
                    force ? $"schedule {at}, forced" : $"schedule {at}"
                ),
                cancellationToken
            );
        }
        catch (InvalidInputException e)
        {
            var invalid = new ScheduleFiring(
                image,
                target,
                scheduledFor,
                now,
                "invalid",
                null,
                e.Message
            );
            return await catalog.RecordAsync(invalid, cancellationToken) ? invalid : null;
        }

        var build = BuildRequests.NewBuildOf(prepared);
        var last = await catalog.LastSucceededAsync(image, target, cancellationToken);
        if (!force && last is not null && last.Fingerprint == prepared.Fingerprint)
        {
            var reason =
                $"inputs unchanged since build {last.Id}"
                + (last.Version is null ? "" : $" ({image}@{last.Version})")
                + $": definition, baseline, templates, hardening, base image and package versions on the mirror "
                + $"all hash to {prepared.Fingerprint}";
            var skip = new ScheduleFiring(
                image,
                target,
                scheduledFor,
                now,
                "skipped",
                null,
                reason
            );
            if (!await catalog.RecordAsync(skip, cancellationToken))
            {
                return null;
            }

            var skipped = await catalog.RecordSkippedAsync(build, reason, now, cancellationToken);
            await catalog.AttachFiringBuildAsync(
                image,
                target,
                scheduledFor,
                skipped.Id,
                cancellationToken
            );
            return skip with { BuildId = skipped.Id };
        }

        var why =
            force ? "forced"
            : last is null ? "no successful build yet"
            : $"inputs changed since build {last.Id}";
        // Recorded and queued in one transaction, keyed by the instant: a double firing (a clustered store's rare
        // one, or a run-now racing the schedule) queues one build, and a worker dying mid-firing leaves both or
        // neither.
        var firing = new ScheduleFiring(image, target, scheduledFor, now, "queued", null, why);
        var queued = await catalog.RecordFiringAndEnqueueAsync(
            firing,
            new BuildRequest(
                build with
                {
                    Reason = $"{build.Reason}: {why}",
                },
                $"schedule:{image}:{target}:{scheduledFor.UtcTicks}",
                Coalesce: true
            ),
            now,
            cancellationToken
        );
        if (queued is null)
        {
            return null;
        }

        FiringLedger.Count(firing);
        signal.Notify();
        return firing with { BuildId = queued.Build.Id };
    }
}
