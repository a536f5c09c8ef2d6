using System.Globalization;
using ImageForge.Application;
using ImageForge.Application.Operations;
using ImageForge.Core.Errors;
using ImageForge.Core.Worker;
using ImageForge.Storage;
using Microsoft.Extensions.Logging;
using Quartz;

namespace ImageForge.Server.Scheduling;

/// <summary>
/// One firing of an image's schedule (Quartz job <c>schedule.&lt;image&gt;.&lt;target&gt;</c>): hands the instant to
/// <see cref="ScheduledBuilds"/>, then re-arms the one-shot trigger at the schedule's next instant.
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class ScheduledBuildJob(
    ScheduleSync sync,
    ScheduledBuilds builds,
    Catalog catalog,
    WorkerConfig config,
    TimeProvider time,
    ILogger<ScheduledBuildJob> log
) : IJob
{
    /// <summary>Job data key: the image definition's name.</summary>
    public const string ImageKey = "image";

    /// <summary>Job data key: the target (provider).</summary>
    public const string TargetKey = "target";

    /// <summary>Job data key: the schedule's instant this firing is for (round-trip "O" format).</summary>
    public const string ScheduledForKey = "scheduled_for";

    /// <inheritdoc />
    public async ValueTask Execute(
        IJobExecutionContext context,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(context);
        var data = context.MergedJobDataMap;
        var image = data.GetString(ImageKey) ?? "";
        var target = data.GetString(TargetKey) ?? "";
        var scheduledFor = DateTimeOffset.Parse(
            data.GetString(ScheduledForKey) ?? "",
            CultureInfo.InvariantCulture,
            DateTimeStyles.RoundtripKind
        );
        try
        {
            await FireAsync(context, image, target, scheduledFor, cancellationToken);
        }
        finally
        {
            // Re-armed even when the firing failed: one bad night must not stop the schedule. At shutdown the RAM
            // store is about to be dropped, so there is nothing to re-arm; the clustered store stays, and a peer
            // fires the next instant.
            if (sync.Clustered)
            {
                await sync.RearmAsync(image, target, scheduledFor, CancellationToken.None);
            }
            else if (!cancellationToken.IsCancellationRequested)
            {
                await sync.RearmAsync(image, target, scheduledFor, cancellationToken);
            }
        }
    }

    private async Task FireAsync(
        IJobExecutionContext context,
        string image,
        string target,
        DateTimeOffset scheduledFor,
        CancellationToken cancellationToken
    )
    {
        var now = time.GetUtcNow();
        // How late Quartz fired the trigger (the machine slept, the scheduler was busy): past the grace the instant
        // is recorded as misfired, as after a restart, rather than building at an unexpected time of day.
        var late = now - (context.ScheduledFireTimeUtc ?? now);
        try
        {
            if (config.MisfireGrace > TimeSpan.Zero && late > config.MisfireGrace)
            {
                var reason = string.Create(
                    CultureInfo.InvariantCulture,
                    $"fired {late.TotalHours:0.#} h late (the worker was suspended or busy), beyond "
                        + $"schedules.misfire_grace ({config.MisfireGrace.TotalHours:0.#} h); not built"
                );
                await catalog.RecordAsync(
                    new ScheduleFiring(image, target, scheduledFor, now, "misfired", null, reason),
                    cancellationToken
                );
                LogMisfired(image, target, scheduledFor, reason);
                return;
            }

            var firing = await builds.FireAsync(
                image,
                target,
                scheduledFor,
                force: false,
                cancellationToken
            );
            if (firing is null)
            {
                LogAlreadyHandled(image, target, scheduledFor);
            }
            else
            {
                LogFired(
                    image,
                    target,
                    scheduledFor,
                    firing.Outcome,
                    firing.BuildId,
                    firing.Reason
                );
            }
        }
        catch (ImageForgeException e)
        {
            LogFailed(image, target, scheduledFor, e.Message);
        }
    }

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Schedule of {Image} on {Target} for {ScheduledFor:O}: {Outcome} (build {BuildId}): {Reason}"
    )]
    private partial void LogFired(
        string image,
        string target,
        DateTimeOffset scheduledFor,
        string outcome,
        string? buildId,
        string reason
    );

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Schedule of {Image} on {Target} for {ScheduledFor:O} was already handled"
    )]
    private partial void LogAlreadyHandled(
        string image,
        string target,
        DateTimeOffset scheduledFor
    );

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "Schedule of {Image} on {Target} for {ScheduledFor:O} misfired: {Reason}"
    )]
    private partial void LogMisfired(
        string image,
        string target,
        DateTimeOffset scheduledFor,
        string reason
    );

    [LoggerMessage(
        Level = LogLevel.Error,
        Message = "Schedule of {Image} on {Target} for {ScheduledFor:O} failed: {Error}"
    )]
    private partial void LogFailed(
        string image,
        string target,
        DateTimeOffset scheduledFor,
        string error
    );
}

/// <summary>
/// The CVE job (Quartz job <c>cve-rescan</c>, every <c>cve_rescan.interval</c>): re-scans the versions channels point
/// at and queues one patch build per new advisory set (<see cref="CveRescan"/>).
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class CveRescanJob(CveRescan rescan, ILogger<CveRescanJob> log) : IJob
{
    /// <inheritdoc />
    public async ValueTask Execute(
        IJobExecutionContext context,
        CancellationToken cancellationToken
    )
    {
        IReadOnlyList<CveRescanResult> results;
        try
        {
            results = await rescan.RunAsync(cancellationToken);
        }
        catch (ImageForgeException e)
        {
            // The next interval tries again; the job stays scheduled.
            LogFailed(e.Message);
            return;
        }

        var queued = 0;
        foreach (var result in results)
        {
            var advisories = string.Join(", ", result.Advisories);
            if (result.Queued is { } build)
            {
                queued++;
                LogQueued(result.Image, result.Version, build.Id, advisories);
            }
            else if (result.Problem is { } problem)
            {
                LogCannotBuild(result.Image, result.Version, advisories, problem);
            }
            else
            {
                LogAlreadyQueued(result.Image, result.Version, advisories);
            }
        }

        LogDone(results.Count, queued);
    }

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "CVE rescan queued build {BuildId} of {Image} ({Version} has fixable {Advisories})"
    )]
    private partial void LogQueued(string image, string version, string buildId, string advisories);

    [LoggerMessage(
        Level = LogLevel.Debug,
        Message = "CVE rescan: {Image} ({Version}) already had its build for {Advisories}"
    )]
    private partial void LogAlreadyQueued(string image, string version, string advisories);

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "CVE rescan done: {Images} image(s) with fixable advisories, {Queued} build(s) queued"
    )]
    private partial void LogDone(int images, int queued);

    [LoggerMessage(
        Level = LogLevel.Error,
        Message = "CVE rescan: {Image} ({Version}) has fixable {Advisories} but cannot be built now: {Problem}"
    )]
    private partial void LogCannotBuild(
        string image,
        string version,
        string advisories,
        string problem
    );

    [LoggerMessage(Level = LogLevel.Error, Message = "CVE rescan failed: {Error}")]
    private partial void LogFailed(string error);
}

/// <summary>
/// Applies scheduled revocations when their time comes (Quartz job <c>due-revocations</c>, every minute), so
/// <c>revoke --at</c> takes effect on time on a machine with a worker, and publishes each as a <c>revoked</c> event.
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class DueRevocationsJob(
    Pipeline pipeline,
    IWorkerEvents events,
    ILogger<DueRevocationsJob> log
) : IJob
{
    /// <inheritdoc />
    public async ValueTask Execute(
        IJobExecutionContext context,
        CancellationToken cancellationToken
    )
    {
        try
        {
            // Opening a promotion session applies what is due and reports each revocation here.
            await using var session = await PromotionSession.OpenAsync(
                pipeline,
                async (applied, ct) =>
                {
                    if (applied.Scheduled is not { } due || applied.Record is null)
                    {
                        return;
                    }

                    LogApplied(due.Image, due.Version, due.EffectiveAt);
                    await events.PublishAsync(
                        WorkerEventTypes.Revoked,
                        PromotionEvents.Revoked(
                            PromotionOperations.Revocation(
                                due.Image,
                                due.Version,
                                due.Reason,
                                applied
                            ),
                            due.Actor,
                            due.Role
                        ),
                        CancellationToken.None
                    );
                },
                cancellationToken
            );
        }
        catch (ImageForgeException e)
        {
            LogFailed(e.Message);
        }
    }

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Scheduled revocation of {Image}@{Version} (due {EffectiveAt:O}) applied"
    )]
    private partial void LogApplied(string image, string version, DateTimeOffset effectiveAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Applying due revocations failed: {Error}")]
    private partial void LogFailed(string error);
}
