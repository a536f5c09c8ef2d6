using System.Diagnostics;
using ImageForge.Application;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Telemetry;
using ImageForge.Core.Worker;
using ImageForge.Storage;

namespace ImageForge.Server.Queue;

/// <summary>
/// Queues builds for the <see cref="QueueRunner"/>: checks the request against the definitions first (bad input is
/// refused before anything is written), fingerprints it with what the target resolves now, and wakes the runner.
/// </summary>
public sealed class BuildRequests(
    Catalog catalog,
    Pipeline pipeline,
    QueueSignal signal,
    TimeProvider time
) : IBuildRequests
{
    /// <inheritdoc />
    public async Task<QueuedBuild> QueueAsync(
        BuildSubmission submission,
        CancellationToken cancellationToken
    )
    {
        var prepared = await pipeline.PrepareForQueueAsync(
            catalog,
            new BuildCommand(
                submission.Image,
                submission.Target,
                submission.Trigger,
                submission.Requester,
                submission.Reason
            ),
            cancellationToken
        );
        var queued = await catalog.EnqueueAsync(
            new BuildRequest(
                NewBuildOf(prepared) with
                {
                    // The API request's span (or the schedule's): the build's span continues its trace.
                    TraceParent = ImageForgeTelemetry.TraceParentOf(Activity.Current),
                },
                submission.IdempotencyKey,
                Coalesce: submission.Trigger != BuildTrigger.Cve
            ),
            time.GetUtcNow(),
            cancellationToken
        );
        signal.Notify();
        await catalog.AppendAsync(
            new AuditEntry
            {
                Action = "build-queue",
                Actor = submission.Requester,
                Role = submission.Role,
                Time = time.GetUtcNow(),
                Image = queued.Build.Image,
                Reason = submission.Reason,
                Details = queued.Joined
                    ? $"joined build {queued.Build.Id} ({queued.Build.Target})"
                    : $"queued build {queued.Build.Id} ({queued.Build.Target}, {submission.Trigger.ToString().ToLowerInvariant()})",
            },
            CancellationToken.None
        );
        return queued;
    }

    /// <inheritdoc />
    public async Task<bool> CancelAsync(
        string buildId,
        string actor,
        string role,
        CancellationToken cancellationToken
    )
    {
        var build = await catalog.GetBuildAsync(buildId, cancellationToken);
        var cancelled = build?.Status switch
        {
            BuildStatus.Queued => await catalog.CancelQueuedAsync(
                buildId,
                $"cancelled by {actor} before it started",
                time.GetUtcNow(),
                cancellationToken
            ),
            BuildStatus.Running => await catalog.RequestCancelAsync(buildId, cancellationToken),
            _ => false,
        };
        if (cancelled)
        {
            await catalog.AppendAsync(
                new AuditEntry
                {
                    Action = "build-cancel",
                    Actor = actor,
                    Role = role,
                    Time = time.GetUtcNow(),
                    Image = build!.Image,
                    Details = $"build {build.Id} ({build.Status.ToString().ToLowerInvariant()})",
                },
                CancellationToken.None
            );
        }

        return cancelled;
    }

    /// <summary>
    /// The build row values of a prepared build: its targets as the command line records them (the disk's target,
    /// then every import), so the runner builds and imports what was asked, and whether it requires KVM (a claim
    /// never reads definitions). Every enqueue path (API, schedules, CVE rebuilds) queues through this.
    /// </summary>
    public static NewBuild NewBuildOf(PreparedBuild prepared) =>
        new(
            prepared.Definition.Name,
            prepared.Targets,
            prepared.Command.Trigger,
            prepared.Command.Requester,
            prepared.Command.Reason,
            prepared.Fingerprint
        )
        {
            RequiresKvm = prepared.RequiresKvm,
        };
}

/// <summary>Wakes the queue runner when a build was queued (it also looks every few seconds on its own).</summary>
public sealed class QueueSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    /// <summary>Tells the runner there may be work.</summary>
    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: the runner will look once for all of them.
        }
    }

    /// <summary>Waits for a signal or the timeout.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _signal.WaitAsync(timeout, cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _signal.Dispose();
}
