using ImageForge.Core.Worker;
using ImageForge.Server.Scheduling;
using ImageForge.Server.Tests.Worker;
using ImageForge.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Quartz;

namespace ImageForge.Server.Tests.Scheduling;

/// <summary>
/// A generic host with the real Quartz scheduler and <see cref="ScheduleSync"/> (registered by
/// <see cref="SchedulingServices.AddImageForgeSchedules"/>) over a <see cref="WorkerFixture"/>: a copy of the
/// repository's content, a fresh catalog and the fixture's fake clock, which Quartz runs on too.
/// </summary>
internal sealed class ScheduleHost : IAsyncDisposable
{
    /// <summary>How long a spec waits for something the scheduler or the file watcher does in the background.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly IHost _host;

    private ScheduleHost(WorkerFixture worker, IHost host)
    {
        Worker = worker;
        _host = host;
    }

    public WorkerFixture Worker { get; }

    public ScheduleSync Sync => _host.Services.GetRequiredService<ScheduleSync>();

    public static WorkerConfig Config { get; } = WorkerConfig.Default;

    /// <summary>Builds the host over <paramref name="worker"/>; <see cref="StartAsync"/> starts it.</summary>
    public static ScheduleHost Over(WorkerFixture worker, ClusteredScheduleStore? clustered = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddLogging();
        builder.Services.AddSingleton<TimeProvider>(worker.Time);
        builder.Services.AddSingleton<Catalog>(worker.Catalog);
        builder.Services.AddSingleton(worker.Pipeline);
        builder.Services.AddSingleton(worker.Signal);
        builder.Services.AddSingleton(Config);
        builder.Services.AddSingleton(sp => new ScheduledBuilds(
            worker.Catalog,
            worker.Pipeline,
            worker.Signal,
            worker.Time
        ));
        builder.Services.AddSingleton(sp => new CveRescan(
            worker.Catalog,
            worker.Pipeline,
            worker.Signal,
            worker.Time
        ));
        builder.Services.AddImageForgeSchedules(clustered);
        return new ScheduleHost(worker, builder.Build());
    }

    public async Task<ScheduleHost> StartAsync()
    {
        await _host.StartAsync();
        return this;
    }

    public async Task<IScheduler> SchedulerAsync() =>
        await _host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();

    /// <summary>The trigger of the schedule of <paramref name="image"/> on local, or null.</summary>
    public async Task<ITrigger?> TriggerAsync(string image, string target = "local") =>
        await (await SchedulerAsync()).GetTrigger(ScheduleSync.TriggerKeyOf(image, target));

    /// <summary>Polls <paramref name="read"/> until <paramref name="done"/> holds or <see cref="Patience"/> runs out.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = TimeProvider.System.GetUtcNow() + Patience;
        while (true)
        {
            var value = await read();
            if (done(value) || TimeProvider.System.GetUtcNow() > deadline)
            {
                return value;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(Patience);
        await _host.StopAsync(stop.Token);
        _host.Dispose();
    }
}
