using System.Collections.Concurrent;
using System.Diagnostics;
using ImageForge.Application;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Telemetry;
using ImageForge.Core.Worker;
using ImageForge.Server.Telemetry;
using ImageForge.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ImageForge.Server.Queue;

/// <summary>
/// Runs queued builds: claims the oldest one whose provider is under its limit (queue.limits), runs it through the
/// same <see cref="BuildService"/> as the command line, and publishes build.finished (and gate.failed, anomaly.raised: <see cref="BuildEvents"/>). At start it
/// first reaps builds whose owner died. At stop it claims nothing more and cancels running builds cleanly, or lets
/// them finish (<c>shutdown: finish</c>).
/// </summary>
public sealed partial class QueueRunner(
    Catalog catalog,
    Pipeline pipeline,
    WorkerConfig config,
    QueueSignal signal,
    IWorkerEvents events,
    TimeProvider time,
    ILogger<QueueRunner> log,
    ILoggerFactory loggers
) : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _builds = new();

    /// <summary>Builds this runner is running now.</summary>
    public IReadOnlyCollection<string> Running => [.. _running.Keys];

    /// <inheritdoc />
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (
            var build in await StaleBuilds.ReapAsync(
                catalog,
                pipeline.Host.Paths.Data,
                time,
                cancellationToken
            )
        )
        {
            LogInterrupted(build.Id, build.Image);
        }

        await base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            BuildRecord? claimed;
            try
            {
                claimed = await catalog.ClaimNextAsync(
                    config.QueueLimits,
                    Environment.ProcessId,
                    time.GetUtcNow(),
                    stoppingToken
                );
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (CatalogException e)
            {
                LogClaimFailed(e.Message);
                claimed = null;
            }

            if (claimed is not null)
            {
                if (claimed.QueuedAt is { } queuedAt)
                {
                    ImageForgeTelemetry.QueueWait.Record(
                        (claimed.StartedAt - queuedAt).TotalSeconds,
                        new KeyValuePair<string, object?>(
                            ImageForgeTelemetry.Attributes.Target,
                            claimed.Target
                        )
                    );
                }

                _running[claimed.Id] = Task.Run(() => RunOneAsync(claimed), CancellationToken.None);
                continue;
            }

            try
            {
                await signal.WaitAsync(Poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (config.Shutdown == ShutdownMode.Cancel)
        {
            await _builds.CancelAsync();
        }

        LogStopping(_running.Count, config.Shutdown.ToString().ToLowerInvariant());
        try
        {
            await Task.WhenAll(_running.Values).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout ran out: cancel what is left and wait for its clean-up.
            await _builds.CancelAsync();
            await Task.WhenAll(_running.Values);
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _builds.Dispose();
        base.Dispose();
    }

    private async Task RunOneAsync(BuildRecord claimed)
    {
        try
        {
            var service = pipeline.BuildService(
                catalog,
                Pipeline.DefaultBuildTimeout,
                Environment.ProcessId
            );
            PreparedBuild prepared;
            try
            {
                // Checked against the definitions as they are now; the fingerprint is the one computed at queueing.
                prepared = service.PrepareClaimed(claimed, pipeline.Host.Paths.Content);
            }
            catch (InvalidInputException e)
            {
                // The definition changed for the worse after the build was queued.
                await catalog.EndBuildAsync(
                    claimed.Id,
                    BuildStatus.Failed,
                    e.Message,
                    time.GetUtcNow(),
                    CancellationToken.None
                );
                await PublishAsync(
                    (await catalog.GetBuildAsync(claimed.Id, CancellationToken.None))!,
                    null
                );
                return;
            }

            var outcome = await service.RunClaimedAsync(
                prepared,
                new LoggingObserver(log, new BuildLogRecords(loggers)),
                claimed,
                _builds.Token
            );
            // The webhooks' deliveries continue the build's trace.
            using (
                ImageForgeTelemetry.Source.StartActivity(
                    ImageForgeTelemetry.Spans.BuildPublish,
                    ActivityKind.Internal,
                    ImageForgeTelemetry.ParentFrom(outcome.TraceParent)
                )
            )
            {
                await PublishAsync(outcome.Build, outcome.Version);
            }
        }
        catch (Exception e) when (e is ImageForgeException or IOException)
        {
            LogBuildFailed(claimed.Id, e.Message);
        }
        finally
        {
            _running.TryRemove(claimed.Id, out _);
            signal.Notify();
        }
    }

    private Task PublishAsync(BuildRecord build, ImageVersion? version) =>
        BuildEvents.PublishFinishedAsync(events, build, version, CancellationToken.None);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "build {BuildId} of {Image} was interrupted (its process is gone); cleaned up"
    )]
    private partial void LogInterrupted(string buildId, string image);

    [LoggerMessage(Level = LogLevel.Error, Message = "cannot claim a queued build: {Problem}")]
    private partial void LogClaimFailed(string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "build {BuildId} could not be run: {Problem}")]
    private partial void LogBuildFailed(string buildId, string problem);

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "stopping: {Count} running build(s), shutdown mode {Mode}"
    )]
    private partial void LogStopping(int count, string mode);

    // Long work shows progress: stage, step and elapsed time go to the worker's log.
    private sealed partial class LoggingObserver(ILogger log, BuildLogRecords buildLog)
        : IBuildObserver
    {
        private string _build = "";
        private Dictionary<string, object?> _attributes = [];

        public void Started(BuildRecord build)
        {
            _build = build.Id;
            _attributes = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                [ImageForgeTelemetry.Attributes.BuildId] = build.Id,
                [ImageForgeTelemetry.Attributes.Image] = build.Image,
                [ImageForgeTelemetry.Attributes.Target] = build.Target,
                [ImageForgeTelemetry.Attributes.Trigger] = build
                    .Trigger.ToString()
                    .ToLowerInvariant(),
            };
            LogStarted(build.Id, build.Image, build.Target, build.Trigger.ToString());
        }

        // The lines as the catalog stored them (redacted before they reached the build's sink).
        public void Stored(
            IReadOnlyList<(DateTimeOffset Time, string Stream, string Text)> lines
        ) => buildLog.Write(_attributes, lines);

        public void Progress(string stage, string detail, TimeSpan elapsed) =>
            LogProgress(_build, elapsed.TotalSeconds, stage, detail);

        public void Log(string stream, string text)
        {
            if (stream == "error")
            {
                LogError(_build, text);
            }
        }

        [LoggerMessage(
            Level = LogLevel.Information,
            Message = "build {BuildId} of {Image} ({Target}, {Trigger}) started"
        )]
        private partial void LogStarted(
            string buildId,
            string image,
            string target,
            string trigger
        );

        [LoggerMessage(
            Level = LogLevel.Information,
            Message = "build {BuildId} [{Elapsed:0}s] {Stage} {Detail}"
        )]
        private partial void LogProgress(
            string buildId,
            double elapsed,
            string stage,
            string detail
        );

        [LoggerMessage(Level = LogLevel.Warning, Message = "build {BuildId}: {Text}")]
        private partial void LogError(string buildId, string text);
    }
}
