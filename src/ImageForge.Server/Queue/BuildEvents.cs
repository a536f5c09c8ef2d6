using ImageForge.Core.Anomalies;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;

namespace ImageForge.Server.Queue;

/// <summary>
/// What the worker publishes when a build ends: build.finished always, gate.failed when the gates rejected the
/// version, and anomaly.raised once when the version has new high or critical anomalies (raised: neither inherited
/// nor suppressed by an expected change; the ones a restricted channel needs acknowledged).
/// </summary>
internal static class BuildEvents
{
    public static async Task PublishFinishedAsync(
        IWorkerEvents events,
        BuildRecord build,
        ImageVersion? version,
        CancellationToken cancellationToken
    )
    {
        var data = new
        {
            build_id = build.Id,
            image = build.Image,
            target = build.Target,
            trigger = build.Trigger.ToString().ToLowerInvariant(),
            requester = build.Requester,
            reason = build.Reason,
            status = build.Status.ToString().ToLowerInvariant(),
            message = build.Message,
            version = version?.Version,
            version_status = version?.Status,
        };
        await events.PublishAsync(WorkerEventTypes.BuildFinished, data, cancellationToken);
        if (version is { Status: VersionStatus.Rejected })
        {
            await events.PublishAsync(WorkerEventTypes.GateFailed, data, cancellationToken);
        }

        if (version is null)
        {
            return;
        }

        var serious = AnomalyAcknowledgements.NeedingAcknowledgement(version);
        if (serious.Count > 0)
        {
            await events.PublishAsync(
                WorkerEventTypes.AnomalyRaised,
                new
                {
                    image = version.Image,
                    version = version.Version,
                    build_id = build.Id,
                    target = build.Target,
                    anomalies = serious
                        .Select(a => new
                        {
                            id = a.Id,
                            signal = a.Signal,
                            severity = AnomalySeverities.Name(a.Severity),
                            explanation = a.Explanation,
                        })
                        .ToArray(),
                },
                cancellationToken
            );
        }
    }
}
