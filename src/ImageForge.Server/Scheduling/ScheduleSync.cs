using System.Globalization;
using ImageForge.Application;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Worker;
using ImageForge.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;

namespace ImageForge.Server.Scheduling;

/// <summary>
/// Keeps one Quartz job and one-shot trigger per scheduled image and buildable target
/// (<c>schedule.&lt;image&gt;.&lt;target&gt;</c>), armed at the instant ImageForge's own cron computes in the
/// definition's time zone (docs/worker.md, "Why Quartz drives ImageForge's own cron"). Re-reads the definitions at
/// start, when a file below the definitions or baselines directory changes (debounced), and every minute. Catches up
/// on instants missed while the worker was down (<see cref="MisfirePolicy"/>), and arms the CVE job.
/// </summary>
public sealed partial class ScheduleSync(
    Catalog catalog,
    Pipeline pipeline,
    WorkerConfig config,
    ISchedulerFactory schedulers,
    ScheduleStoreKind store,
    TimeProvider time,
    ILogger<ScheduleSync> log
) : IHostedService, IDisposable
{
    /// <summary>The Quartz job and trigger of the CVE job.</summary>
    internal const string CveRescanKey = "cve-rescan";

    /// <summary>The Quartz job and trigger that applies scheduled revocations when they are due.</summary>
    internal const string DueRevocationsKey = "due-revocations";

    /// <summary>How often due scheduled revocations are looked for.</summary>
    internal static readonly TimeSpan DueRevocationsInterval = TimeSpan.FromMinutes(1);

    /// <summary>How long after start the CVE job first runs.</summary>
    internal static readonly TimeSpan CveFirstRunDelay = TimeSpan.FromMinutes(1);

    /// <summary>How long file changes are collected before one resync (an editor writes a file in several steps).</summary>
    internal static readonly TimeSpan Debounce = TimeSpan.FromSeconds(1);

    /// <summary>The safety net for changes the file watcher missed (network file systems, inotify limits).</summary>
    internal static readonly TimeSpan Rescan = TimeSpan.FromMinutes(1);

    // Guards _armed and every change to the schedule triggers: resyncs (timer, watcher) and re-arms (jobs) take turns.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, Armed> _armed = new(StringComparer.Ordinal);
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _backgroundLock = new();
    private IScheduler? _scheduler;
    private ITimer? _debounce;
    private ITimer? _rescan;
    private ITimer? _check;
    private Task _background = Task.CompletedTask;

    /// <summary>The Quartz job (and trigger) key of the schedule of <paramref name="image"/> on <paramref name="target"/>.</summary>
    public static JobKey JobKeyOf(string image, string target) => new(KeyOf(image, target));

    /// <summary>The trigger key of the schedule of <paramref name="image"/> on <paramref name="target"/>.</summary>
    public static TriggerKey TriggerKeyOf(string image, string target) => new(KeyOf(image, target));

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _scheduler = await schedulers.GetScheduler(cancellationToken);
        await ResyncAsync(cancellationToken);
        await ArmCveRescanAsync(cancellationToken);
        await ArmDueRevocationsAsync(cancellationToken);
        // The debounce timer exists before the watchers, so no event finds it missing.
        _debounce = time.CreateTimer(
            _ => Resync("definitions changed"),
            null,
            Timeout.InfiniteTimeSpan,
            Timeout.InfiniteTimeSpan
        );
        Watch(pipeline.Host.Paths.Content.Definitions);
        Watch(pipeline.Host.Paths.Content.Baselines);
        _rescan = time.CreateTimer(_ => Resync("periodic rescan"), null, Rescan, Rescan);
        if (store.Clustered)
        {
            // A peer that died in the middle of a firing leaves its trigger spent: every worker looks every third
            // of the lease, so the schedule moves on about a lease after the peer's last check-in.
            var every = config.Lease / 3;
            _check = time.CreateTimer(
                _ => Background(CheckTriggersSafelyAsync),
                null,
                every,
                every
            );
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var watcher in _watchers)
        {
            watcher.EnableRaisingEvents = false;
        }

        if (_debounce is not null)
        {
            await _debounce.DisposeAsync();
        }

        if (_rescan is not null)
        {
            await _rescan.DisposeAsync();
        }

        if (_check is not null)
        {
            await _check.DisposeAsync();
        }

        await _stopping.CancelAsync();
        Task background;
        lock (_backgroundLock)
        {
            background = _background;
        }

        await background.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }

        _debounce?.Dispose();
        _rescan?.Dispose();
        _check?.Dispose();
        _stopping.Dispose();
        _gate.Dispose();
    }

    /// <summary>
    /// Re-reads the definitions and makes the schedule triggers match them: new schedules are armed (after the
    /// misfire policy had its say), changed ones re-armed, removed ones deleted. Idempotent; concurrent calls take
    /// turns.
    /// </summary>
    internal async Task ResyncAsync(CancellationToken cancellationToken = default)
    {
        var scheduler =
            _scheduler ?? throw new InvalidOperationException("ScheduleSync has not started");
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            var set = pipeline.LoadDefinitions();
            var wanted = new Dictionary<string, Armed>(StringComparer.Ordinal);
            foreach (var definition in set.Images)
            {
                if (definition.Schedule is not { } schedule)
                {
                    continue;
                }

                foreach (var target in definition.Targets)
                {
                    if (pipeline.Connected.CanBuild(target))
                    {
                        wanted[KeyOf(definition.Name, target.Provider)] = new Armed(
                            definition.Name,
                            target.Provider,
                            schedule
                        );
                    }
                }
            }

            foreach (var key in _armed.Keys.Where(k => !wanted.ContainsKey(k)).ToList())
            {
                var gone = _armed[key];
                await scheduler.DeleteJob(JobKeyOf(gone.Image, gone.Target), cancellationToken);
                _armed.Remove(key);
                LogRemoved(gone.Image, gone.Target);
            }

            if (store.Clustered)
            {
                // The shared store outlives every worker: a schedule removed while none ran is still there.
                foreach (
                    var key in await scheduler.GetJobKeys(
                        GroupMatcher<JobKey>.GroupEquals(JobKey.DefaultGroup),
                        cancellationToken
                    )
                )
                {
                    if (
                        key.Name.StartsWith(SchedulePrefix, StringComparison.Ordinal)
                        && !wanted.ContainsKey(key.Name)
                        && await scheduler.DeleteJob(key, cancellationToken)
                    )
                    {
                        LogRemovedShared(key.Name);
                    }
                }
            }

            foreach (var (key, want) in wanted)
            {
                if (_armed.TryGetValue(key, out var had))
                {
                    if (had.SameSchedule(want))
                    {
                        await RepairAsync(scheduler, want, now, cancellationToken);
                        continue;
                    }

                    _armed[key] = want;
                    await ArmNextAsync(scheduler, want, now, cancellationToken);
                    continue;
                }

                _armed[key] = want;
                if (store.Clustered && await LiveAsync(scheduler, want, now, cancellationToken))
                {
                    // A peer armed it with this very schedule and will fire it: replacing it would only race.
                    LogAdopted(want.Image, want.Target);
                    continue;
                }

                await CatchUpAsync(scheduler, want, now, cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// After a firing for <paramref name="scheduledFor"/>: arms the schedule's trigger at its next instant after
    /// that (after now when the firing ran late, so it is never armed in the past). Nothing when the schedule was
    /// removed meanwhile.
    /// </summary>
    internal async Task RearmAsync(
        string image,
        string target,
        DateTimeOffset scheduledFor,
        CancellationToken cancellationToken
    )
    {
        var scheduler =
            _scheduler ?? throw new InvalidOperationException("ScheduleSync has not started");
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!_armed.TryGetValue(KeyOf(image, target), out var armed))
            {
                return;
            }

            var now = time.GetUtcNow();
            if (
                store.Clustered
                && armed.Spec.GetNextOccurrence(scheduledFor) is { } next
                && next <= now
            )
            {
                // Instants passed while this firing waited or ran (a peer's recovery, a slow catalog): they
                // coalesce into one firing of the newest, as after a restart (MisfirePolicy).
                await CatchUpAsync(scheduler, armed, now, cancellationToken);
                return;
            }

            await ArmNextAsync(
                scheduler,
                armed,
                scheduledFor > now ? scheduledFor : now,
                cancellationToken
            );
        }
        catch (SchedulerException e)
        {
            // The scheduler is shutting down (nothing to keep), or refused the trigger: the rescan re-arms it.
            LogRearmFailed(image, target, e.Message);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Whether the schedules are in Quartz's clustered store (shared and persistent) rather than in RAM.</summary>
    internal bool Clustered => store.Clustered;

    /// <summary>
    /// Clustered store: every armed schedule whose trigger is gone or spent (its firing's worker died before it
    /// re-armed it) is caught up and armed again. Runs every third of the lease, and in each rescan.
    /// </summary>
    internal async Task CheckTriggersAsync(CancellationToken cancellationToken = default)
    {
        var scheduler =
            _scheduler ?? throw new InvalidOperationException("ScheduleSync has not started");
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            foreach (var armed in _armed.Values.ToList())
            {
                await RepairAsync(scheduler, armed, now, cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    // The trigger is there with a next fire time, in a state a scheduler fires from (blocked: its job runs, or ran on
    // a dead peer that the cluster recovery releases).
    private async Task<bool> LiveAsync(
        IScheduler scheduler,
        Armed schedule,
        DateTimeOffset now,
        CancellationToken cancellationToken
    )
    {
        var key = TriggerKeyOf(schedule.Image, schedule.Target);
        if (
            await scheduler.GetTrigger(key, cancellationToken) is not { } trigger
            || trigger.NextFireTimeUtc is not { } next
            || !string.Equals(
                trigger.JobDataMap.GetString(CronKey),
                schedule.Spec.Cron.Text,
                StringComparison.Ordinal
            )
            || !string.Equals(
                trigger.JobDataMap.GetString(TimeZoneKey),
                schedule.Spec.TimeZone,
                StringComparison.Ordinal
            )
        )
        {
            return false;
        }

        // One far in the past waited out a stop of the whole cluster: the misfire policy decides, not Quartz.
        return next >= now - config.Lease
            && await scheduler.GetTriggerState(key, cancellationToken)
                is TriggerState.Normal
                    or TriggerState.Blocked;
    }

    private async Task RepairAsync(
        IScheduler scheduler,
        Armed schedule,
        DateTimeOffset now,
        CancellationToken cancellationToken
    )
    {
        if (!store.Clustered)
        {
            if (
                await scheduler.GetTrigger(
                    TriggerKeyOf(schedule.Image, schedule.Target),
                    cancellationToken
                )
                is null
            )
            {
                // A firing whose re-arm failed; the rescan puts the schedule back on its next instant.
                await ArmNextAsync(scheduler, schedule, now, cancellationToken);
            }

            return;
        }

        if (await LiveAsync(scheduler, schedule, now - config.Lease, cancellationToken))
        {
            return;
        }

        // Gone or spent. A firing that just ran is re-arming it (its worker holds the job): leave it a moment.
        var last = await catalog.LastFiringAsync(
            schedule.Image,
            schedule.Target,
            cancellationToken
        );
        if (last is not null && now - last.FiredAt < config.Lease / 3)
        {
            return;
        }

        LogRepaired(schedule.Image, schedule.Target);
        await CatchUpAsync(scheduler, schedule, now, cancellationToken);
    }

    private async Task CheckTriggersSafelyAsync()
    {
        try
        {
            await CheckTriggersAsync(_stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception e) when (e is ImageForgeException or SchedulerException or IOException)
        {
            LogCheckFailed(e.Message);
        }
    }

    private async Task CatchUpAsync(
        IScheduler scheduler,
        Armed schedule,
        DateTimeOffset now,
        CancellationToken cancellationToken
    )
    {
        var last = await catalog.LastFiringAsync(
            schedule.Image,
            schedule.Target,
            cancellationToken
        );
        switch (MisfirePolicy.Decide(schedule.Spec, now, last, config.MisfireGrace))
        {
            case MisfireDecision.FireNow fire:
                LogCatchUp(schedule.Image, schedule.Target, fire.Instant);
                await ArmAsync(scheduler, schedule, now, fire.Instant, cancellationToken);
                return;
            case MisfireDecision.RecordMissed missed:
                await catalog.RecordAsync(
                    new ScheduleFiring(
                        schedule.Image,
                        schedule.Target,
                        missed.Instant,
                        now,
                        "misfired",
                        null,
                        missed.Reason
                    ),
                    cancellationToken
                );
                LogMissed(schedule.Image, schedule.Target, missed.Instant, missed.Reason);
                break;
        }

        await ArmNextAsync(scheduler, schedule, now, cancellationToken);
    }

    private async Task ArmNextAsync(
        IScheduler scheduler,
        Armed schedule,
        DateTimeOffset after,
        CancellationToken cancellationToken
    )
    {
        if (schedule.Spec.GetNextOccurrence(after) is { } next)
        {
            await ArmAsync(scheduler, schedule, next, next, cancellationToken);
            return;
        }

        // The loader refuses expressions that never fire; one that stops firing (8-year search) is simply idle.
        await scheduler.DeleteJob(JobKeyOf(schedule.Image, schedule.Target), cancellationToken);
        LogNeverFires(schedule.Image, schedule.Target, schedule.Spec.Cron.Text);
    }

    private async Task ArmAsync(
        IScheduler scheduler,
        Armed schedule,
        DateTimeOffset fireAt,
        DateTimeOffset scheduledFor,
        CancellationToken cancellationToken
    )
    {
        var jobKey = JobKeyOf(schedule.Image, schedule.Target);
        // Durable, so a spent one-shot trigger never takes the job with it between a firing and its re-arm.
        var job = JobBuilder
            .Create<ScheduledBuildJob>()
            .WithIdentity(jobKey)
            .WithDescription($"scheduled builds of {schedule.Image} on {schedule.Target}")
            .UsingJobData(ScheduledBuildJob.ImageKey, schedule.Image)
            .UsingJobData(ScheduledBuildJob.TargetKey, schedule.Target)
            .StoreDurably(true)
            .Build();
        var trigger = TriggerBuilder
            .Create(time)
            .WithIdentity(TriggerKeyOf(schedule.Image, schedule.Target))
            .ForJob(jobKey)
            .WithDescription($"{schedule.Spec.Cron} in {schedule.Spec.TimeZone}")
            .StartAt(fireAt)
            .UsingJobData(
                ScheduledBuildJob.ScheduledForKey,
                scheduledFor.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)
            )
            .UsingJobData(CronKey, schedule.Spec.Cron.Text)
            .UsingJobData(TimeZoneKey, schedule.Spec.TimeZone)
            .Build();
        await scheduler.ScheduleJob(job, trigger, ScheduleJobOptions.Replacing, cancellationToken);
        LogArmed(schedule.Image, schedule.Target, scheduledFor, fireAt);
    }

    private async Task ArmCveRescanAsync(CancellationToken cancellationToken)
    {
        var scheduler =
            _scheduler ?? throw new InvalidOperationException("ScheduleSync has not started");
        if (
            await KeptByClusterAsync(
                scheduler,
                CveRescanKey,
                config.CveRescanInterval,
                cancellationToken
            )
        )
        {
            return;
        }

        var job = JobBuilder
            .Create<CveRescanJob>()
            .WithIdentity(CveRescanKey)
            .WithDescription("re-scan the versions channels point at for fixable advisories")
            .StoreDurably(true)
            .Build();
        var trigger = TriggerBuilder
            .Create(time)
            .WithIdentity(CveRescanKey)
            .ForJob(job)
            .StartAt(time.GetUtcNow() + CveFirstRunDelay)
            .WithSimpleSchedule(s =>
                s.WithInterval(config.CveRescanInterval)
                    .RepeatForever()
                    // A rescan missed while the machine slept runs once at the next interval, not in a burst.
                    .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)
            )
            .Build();
        await scheduler.ScheduleJob(job, trigger, ScheduleJobOptions.Replacing, cancellationToken);
    }

    private async Task ArmDueRevocationsAsync(CancellationToken cancellationToken)
    {
        var scheduler =
            _scheduler ?? throw new InvalidOperationException("ScheduleSync has not started");
        if (
            await KeptByClusterAsync(
                scheduler,
                DueRevocationsKey,
                DueRevocationsInterval,
                cancellationToken
            )
        )
        {
            return;
        }

        var job = JobBuilder
            .Create<DueRevocationsJob>()
            .WithIdentity(DueRevocationsKey)
            .WithDescription("apply scheduled revocations whose time has come")
            .StoreDurably(true)
            .Build();
        var trigger = TriggerBuilder
            .Create(time)
            .WithIdentity(DueRevocationsKey)
            .ForJob(job)
            .StartAt(time.GetUtcNow())
            .WithSimpleSchedule(s =>
                s.WithInterval(DueRevocationsInterval)
                    .RepeatForever()
                    .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)
            )
            .Build();
        await scheduler.ScheduleJob(job, trigger, ScheduleJobOptions.Replacing, cancellationToken);
    }

    // Clustered store: a peer's repeating trigger with the same interval is kept, so a worker's restart neither
    // postpones the cluster's next CVE rescan nor runs the job again.
    private async Task<bool> KeptByClusterAsync(
        IScheduler scheduler,
        string key,
        TimeSpan interval,
        CancellationToken cancellationToken
    ) =>
        store.Clustered
        && await scheduler.GetTrigger(new TriggerKey(key), cancellationToken)
            is ISimpleTrigger { NextFireTimeUtc: not null } trigger
        && trigger.RepeatInterval == interval;

    private void Watch(string directory)
    {
        if (!Directory.Exists(directory))
        {
            LogNotWatched(directory);
            return;
        }

        var watcher = new FileSystemWatcher(directory)
        {
            IncludeSubdirectories = true,
            NotifyFilter =
                NotifyFilters.FileName
                | NotifyFilters.DirectoryName
                | NotifyFilters.LastWrite
                | NotifyFilters.Size,
        };
        watcher.Changed += OnChanged;
        watcher.Created += OnChanged;
        watcher.Deleted += OnChanged;
        watcher.Renamed += OnChanged;
        watcher.Error += (_, e) => LogWatcherError(directory, e.GetException().Message);
        watcher.EnableRaisingEvents = true;
        _watchers.Add(watcher);
    }

    // Every event restarts the debounce timer: a burst of writes gives one resync a second after the last one.
    private void OnChanged(object sender, FileSystemEventArgs e) =>
        _debounce?.Change(Debounce, Timeout.InfiniteTimeSpan);

    private void Resync(string why) => Background(() => ResyncSafelyAsync(why));

    private void Background(Func<Task> work)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        lock (_backgroundLock)
        {
            // Chained, so a slow resync and the next timer tick never pile up unboundedly: each waits for the last.
            _background = _background
                .ContinueWith(
                    _ => work(),
                    CancellationToken.None,
                    TaskContinuationOptions.None,
                    TaskScheduler.Default
                )
                .Unwrap();
        }
    }

    private async Task ResyncSafelyAsync(string why)
    {
        try
        {
            await ResyncAsync(_stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception e)
            when (e
                    is ImageForgeException
                        or SchedulerException
                        or IOException
                        or UnauthorizedAccessException
            )
        {
            LogResyncFailed(why, e.Message);
        }
    }

    private const string SchedulePrefix = "schedule.";

    // Trigger data: the schedule a trigger was armed with, so a worker starting beside its peers can adopt it.
    private const string CronKey = "cron";
    private const string TimeZoneKey = "time_zone";

    private static string KeyOf(string image, string target) => $"{SchedulePrefix}{image}.{target}";

    /// <summary>A schedule as armed: image, target and the schedule it was armed with.</summary>
    private sealed record Armed(string Image, string Target, ScheduleSpec Spec)
    {
        public bool SameSchedule(Armed other) =>
            string.Equals(Spec.Cron.Text, other.Spec.Cron.Text, StringComparison.Ordinal)
            && string.Equals(Spec.TimeZone, other.Spec.TimeZone, StringComparison.Ordinal);
    }

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Schedule of {Image} on {Target} armed for {ScheduledFor:O} (fires at {FireAt:O})"
    )]
    private partial void LogArmed(
        string image,
        string target,
        DateTimeOffset scheduledFor,
        DateTimeOffset fireAt
    );

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Schedule of {Image} on {Target} removed"
    )]
    private partial void LogRemoved(string image, string target);

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Quartz job {Job} removed from the shared store: no definition schedules it any more"
    )]
    private partial void LogRemovedShared(string job);

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Schedule of {Image} on {Target} is armed in the shared store already; left to the cluster"
    )]
    private partial void LogAdopted(string image, string target);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "Schedule of {Image} on {Target} had no live trigger (its worker stopped mid-firing); armed again"
    )]
    private partial void LogRepaired(string image, string target);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "Schedule triggers not checked: {Error}; the next check tries again"
    )]
    private partial void LogCheckFailed(string error);

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Schedule of {Image} on {Target} missed {Instant:O} while the worker was down; firing it once now"
    )]
    private partial void LogCatchUp(string image, string target, DateTimeOffset instant);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "Schedule of {Image} on {Target} misfired at {Instant:O}: {Reason}"
    )]
    private partial void LogMissed(
        string image,
        string target,
        DateTimeOffset instant,
        string reason
    );

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "Schedule of {Image} on {Target} ('{Cron}') never fires again; its job was removed"
    )]
    private partial void LogNeverFires(string image, string target, string cron);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "Schedule of {Image} on {Target} not re-armed: {Error}; the next rescan re-arms it"
    )]
    private partial void LogRearmFailed(string image, string target, string error);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "Schedules not re-read ({Why}): {Error}; the next rescan tries again"
    )]
    private partial void LogResyncFailed(string why, string error);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "{Directory} does not exist: changes there are seen by the periodic rescan only"
    )]
    private partial void LogNotWatched(string directory);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "File watcher on {Directory} failed: {Error}; the periodic rescan still runs"
    )]
    private partial void LogWatcherError(string directory, string error);
}
