using System.Collections.Concurrent;
using System.Diagnostics;
using ImageForge.Application;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Providers;
using ImageForge.Core.Telemetry;
using ImageForge.Core.Worker;
using ImageForge.Server.Telemetry;
using ImageForge.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ImageForge.Server.Queue;

/// <summary>
/// Runs queued builds: claims the oldest one whose provider is under its limit (queue.limits) under a lease, runs it
/// through the same <see cref="BuildService"/> as the command line, and publishes build.finished (and gate.failed,
/// anomaly.raised: <see cref="BuildEvents"/>). It registers as a worker of the catalog and, every third of the lease,
/// heartbeats, renews the lease of each build it runs (a build whose lease was taken over is stopped: its writes are
/// refused anyway) and takes over builds whose lease ran out (docs/cluster.md). At start it first reaps builds whose
/// process died on this machine (a worker's are taken over, a command line's ended as interrupted). At stop it claims nothing more and cancels running builds cleanly, or lets them finish
/// (<c>shutdown: finish</c>).
/// </summary>
public sealed partial class QueueRunner(
    Catalog catalog,
    Pipeline pipeline,
    WorkerConfig config,
    QueueSignal signal,
    IWorkerEvents events,
    TimeProvider time,
    ILogger<QueueRunner> log,
    ILoggerFactory loggers,
    CatalogHealthMonitor health,
    WorkerIdentity identity
) : BackgroundService
{
    // The longest a claimer with a free slot waits before it looks at the queue again when nothing woke it (a build
    // queued or ended here wakes it at once; one queued again by another worker's reaper does not).
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, RunningBuild> _running = new(
        StringComparer.Ordinal
    );
    private readonly CancellationTokenSource _builds = new();
    private readonly CancellationTokenSource _stopKeepAlive = new();
    private Task _keepAlive = Task.CompletedTask;
    private Task _probeKvm = Task.CompletedTask;
    private Task _reaper = Task.CompletedTask;
    private Claimant? _claimant;

    // Whether KVM runs a guest here: false until the boot test's probe said it does (read by the claim loop).
    private volatile bool _kvm;

    /// <summary>Builds this runner is running now.</summary>
    public IReadOnlyCollection<string> Running => [.. _running.Keys];

    /// <summary>This worker as the catalog knows it (<c>imageforge workers</c>); null before it started.</summary>
    public string? WorkerId => _claimant?.Worker;

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

        var name = config.Name ?? Environment.MachineName;
        // The providers it takes: those it builds, narrowed by queue.providers.
        var takes = new SortedSet<string>(
            pipeline.BuildableProviders.Where(p =>
                config.Providers?.Contains(p, StringComparer.Ordinal) != false
            ),
            StringComparer.Ordinal
        );
        // KVM is what the boot test's own probe says (docs/cluster.md, "Requiring KVM"). Probing can take the probe
        // guest's 5 s after a reboot, so it answers in the background: until then this worker has no KVM.
        var kvmProbe = pipeline.Connected.KvmProbe;
        var worker = await catalog.RegisterWorkerAsync(
            identity.Id,
            name,
            Environment.ProcessId,
            new WorkerCapabilities([.. takes], false)
            {
                KvmReason = kvmProbe is null ? KvmAnswer.NotProbed.Reason : "not probed yet",
            },
            config.Lease,
            cancellationToken
        );
        _claimant = new Claimant(worker.Id, Environment.ProcessId, config.Lease)
        {
            Providers = takes,
        };
        LogRegistered(worker.Id, catalog.Location, config.Lease.TotalSeconds);
        if (kvmProbe is not null)
        {
            _probeKvm = ProbeKvmAsync(kvmProbe, worker.Id, [.. takes], _stopKeepAlive.Token);
        }

        // A dead predecessor's builds (their leases just ended above) are taken over before anything is claimed.
        await ReapExpiredAsync();
        await base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var claimant = _claimant!;
        _keepAlive = KeepAliveAsync(claimant);
        _reaper = ReapEveryQuarterLeaseAsync(stoppingToken);
        // A quarter of the lease, at most 2 s: a build another worker's reaper queued again waits at most this long
        // for a free slot here.
        var poll = config.Lease / 4 < MaxPoll ? config.Lease / 4 : MaxPoll;
        while (!stoppingToken.IsCancellationRequested)
        {
            BuildRecord? claimed;
            try
            {
                claimed =
                    _running.Count >= (config.Capacity ?? int.MaxValue)
                        ? null
                        : await catalog.ClaimNextAsync(
                            config.QueueLimits,
                            claimant with
                            {
                                Kvm = _kvm,
                            },
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

                var cancel = CancellationTokenSource.CreateLinkedTokenSource(_builds.Token);
                _running[claimed.Id] = new RunningBuild(
                    claimed.Lease,
                    cancel,
                    Task.Run(() => RunOneAsync(claimed, cancel), CancellationToken.None)
                );
                continue;
            }

            try
            {
                await signal.WaitAsync(poll, stoppingToken);
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
            await Task.WhenAll(_running.Values.Select(r => r.Task)).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout ran out: cancel what is left and wait for its clean-up.
            await _builds.CancelAsync();
            await Task.WhenAll(_running.Values.Select(r => r.Task));
        }

        await _reaper;
        await _stopKeepAlive.CancelAsync();
        await _keepAlive;
        await _probeKvm;
        if (_claimant is { } claimant)
        {
            try
            {
                await catalog.WorkerStoppedAsync(claimant.Worker, CancellationToken.None);
            }
            catch (CatalogException e)
            {
                LogKeepAliveFailed(e.Message);
            }
        }
    }

    // Every third of the lease: the worker's heartbeat and its builds' leases (the reaper has its own loop). The
    // running builds keep their leases while the worker shuts down; the loop ends when they have all ended.
    private async Task KeepAliveAsync(Claimant claimant)
    {
        using var timer = new PeriodicTimer(claimant.Lease / 3, time);
        while (true)
        {
            try
            {
                if (!await timer.WaitForNextTickAsync(_stopKeepAlive.Token))
                {
                    return;
                }

                var started = time.GetTimestamp();
                try
                {
                    await catalog.HeartbeatAsync(claimant.Worker, CancellationToken.None);
                }
                finally
                {
                    health.Record(time.GetUtcNow(), time.GetElapsedTime(started), null);
                }

                foreach (var (id, build) in _running)
                {
                    // A build that ended since the loop began is not running any more: nothing to renew or stop.
                    if (
                        !await catalog.RenewLeaseAsync(
                            build.Lease,
                            claimant.Lease,
                            CancellationToken.None
                        )
                        && _running.TryGetValue(id, out var still)
                        && ReferenceEquals(still, build)
                    )
                    {
                        LogLeaseLost(id);
                        await CancelAsync(build);
                    }
                }
            }
            catch (OperationCanceledException) when (_stopKeepAlive.IsCancellationRequested)
            {
                return;
            }
            catch (CatalogException e)
            {
                // The database is unreachable: a lease not renewed now may be renewed at the next tick.
                health.Record(time.GetUtcNow(), TimeSpan.Zero, e.Message);
                LogKeepAliveFailed(e.Message);
            }
            catch (Exception e) when (e is ImageForgeException or IOException)
            {
                // Publishing a takeover's end failed: the loop goes on, or the worker's leases would lapse.
                LogKeepAliveFailed(e.Message);
            }
        }
    }

    // Every quarter of the lease until the worker stops claiming: the builds of workers gone silent are taken over,
    // so a lease that ran out waits at most a quarter of the lease for a reaper (docs/cluster.md).
    private async Task ReapEveryQuarterLeaseAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(config.Lease / 4, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await ReapExpiredAsync();
                }
                catch (CatalogException e)
                {
                    // The database is unreachable: the next tick tries again.
                    LogKeepAliveFailed(e.Message);
                }
                catch (Exception e) when (e is ImageForgeException or IOException)
                {
                    // Publishing a takeover's end failed: the loop goes on.
                    LogKeepAliveFailed(e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: no more takeovers by this worker.
        }
    }

    // Runs the boot test's KVM probe once and records its answer as this worker's kvm capability.
    private async Task ProbeKvmAsync(
        IKvmProbe probe,
        string workerId,
        IReadOnlyList<string> providers,
        CancellationToken stop
    )
    {
        try
        {
            // Off the start-up path: the probe runs while the worker claims its first builds.
            await Task.Yield();
            var answer = await probe.ProbeAsync(pipeline.Host.Paths.Content, stop);
            _kvm = answer.Works;
            await catalog.UpdateCapabilitiesAsync(
                workerId,
                new WorkerCapabilities(providers, answer.Works) { KvmReason = answer.Reason },
                CancellationToken.None
            );
            LogKvm(answer.Works ? "yes" : $"no ({answer.Reason})");
            if (answer.Works)
            {
                signal.Notify();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped before the probe answered: the worker never had KVM.
        }
        catch (Exception e) when (e is CatalogException or IOException)
        {
            LogKeepAliveFailed(e.Message);
        }
    }

    private static async Task CancelAsync(RunningBuild build)
    {
        try
        {
            await build.Cancel.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // It ended between the check and now.
        }
    }

    private async Task ReapExpiredAsync()
    {
        var audit = new BuildAudit(catalog, catalog, time, pipeline.Providers);
        var reaped = await catalog.ReapExpiredLeasesAsync(
            config.MaxAttempts,
            time.GetUtcNow(),
            b => audit.Ended(b, b.Status, b.Message ?? ""),
            CancellationToken.None
        );
        foreach (var lease in reaped)
        {
            LogTakenOver(lease.Build.Id, lease.Became.ToString().ToLowerInvariant(), lease.Message);
            // What the silent worker left on this machine in this boot (its tool, mounts, work directory) is ended
            // here; elsewhere its own machine does that (its attempt has its own directories).
            if (HostIdentity.Locate(lease.Build.OwnerHost) == OwnerPlace.ThisBoot)
            {
                try
                {
                    await StaleBuilds.CleanUpAsync(
                        pipeline.Host.Paths.Data,
                        lease.Build,
                        CancellationToken.None
                    );
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // What is left stays for the next clean-up; the takeover itself is recorded.
                    LogCleanUpFailed(lease.Build.Id, e.Message);
                }
            }

            if (lease.Became != BuildStatus.Queued)
            {
                // No worker ran it to its end: the reaper audited its end as it took it over; it is published here.
                var ended = (await catalog.GetBuildAsync(lease.Build.Id, CancellationToken.None))!;
                await PublishAsync(ended, null);
            }
        }

        if (reaped.Count > 0)
        {
            signal.Notify();
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _builds.Dispose();
        _stopKeepAlive.Dispose();
        base.Dispose();
    }

    private async Task RunOneAsync(BuildRecord claimed, CancellationTokenSource cancel)
    {
        // Every write the build makes goes through its lease: once taken over, nothing more is recorded.
        await using var leased = catalog.WithLease(claimed.Lease);
        try
        {
            var service = pipeline.BuildService(
                leased,
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
                await leased.EndBuildAsync(
                    claimed.Id,
                    BuildStatus.Failed,
                    e.Message,
                    time.GetUtcNow(),
                    new BuildAudit(catalog, catalog, time, pipeline.Providers).Ended(
                        claimed,
                        BuildStatus.Failed,
                        e.Message
                    ),
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
                cancel.Token
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
        catch (LeaseLostException e)
        {
            await cancel.CancelAsync();
            LogLeaseLostWrite(claimed.Id, e.Message);
        }
        catch (Exception e) when (e is ImageForgeException or IOException)
        {
            // A write the database cut short may be a takeover seen late: a worker paused inside a write transaction
            // has its session ended (the catalog's idle-in-transaction limit) so others can take its builds over.
            if (await TakenOverAsync(claimed) is { } lost)
            {
                await cancel.CancelAsync();
                LogLeaseLostWrite(claimed.Id, lost.Message);
            }
            else
            {
                LogBuildFailed(claimed.Id, e.Message);
            }
        }
        finally
        {
            _running.TryRemove(claimed.Id, out _);
            cancel.Dispose();
            signal.Notify();
        }
    }

    /// <summary>The lease lost, when the build's lease epoch moved on from the claimed one; null when held or unknown.</summary>
    private async Task<LeaseLostException?> TakenOverAsync(BuildRecord claimed)
    {
        try
        {
            var now = await catalog.GetBuildAsync(claimed.Id, CancellationToken.None);
            return now?.LeaseEpoch == claimed.LeaseEpoch
                ? null
                : new LeaseLostException(claimed.Lease, now?.LeaseEpoch);
        }
        catch (CatalogException)
        {
            return null;
        }
    }

    private sealed record RunningBuild(BuildLease Lease, CancellationTokenSource Cancel, Task Task);

    private Task PublishAsync(BuildRecord build, ImageVersion? version) =>
        BuildEvents.PublishFinishedAsync(events, build, version, CancellationToken.None);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "build {BuildId} of {Image} was interrupted (its process is gone); cleaned up"
    )]
    private partial void LogInterrupted(string buildId, string image);

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "registered as worker {WorkerId} of catalog {Catalog} (lease {Lease:0}s)"
    )]
    private partial void LogRegistered(string workerId, string catalog, double lease);

    [LoggerMessage(Level = LogLevel.Information, Message = "kvm {Answer}")]
    private partial void LogKvm(string answer);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "build {BuildId}: its lease was taken over (this worker was silent too long); stopping it"
    )]
    private partial void LogLeaseLost(string buildId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "build {BuildId} stopped: {Problem}")]
    private partial void LogLeaseLostWrite(string buildId, string problem);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "build {BuildId} taken over ({Became}): {Why}"
    )]
    private partial void LogTakenOver(string buildId, string became, string why);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "build {BuildId}: what its silent worker left could not all be removed: {Problem}"
    )]
    private partial void LogCleanUpFailed(string buildId, string problem);

    [LoggerMessage(
        Level = LogLevel.Error,
        Message = "cannot heartbeat, renew leases or take over expired ones: {Problem}"
    )]
    private partial void LogKeepAliveFailed(string problem);

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
