using ImageForge.Application;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Quartz;

namespace ImageForge.Server.Scheduling;

/// <summary>Registers the worker's schedules and CVE job in its host.</summary>
public static class SchedulingServices
{
    /// <summary>
    /// Adds Quartz (RAM job store, hosted, waiting for running jobs at shutdown), the scheduled-build and CVE jobs and
    /// <see cref="ScheduleSync"/>. Needs, registered by the host: <c>Catalog</c>, <see cref="Pipeline"/>,
    /// <see cref="ScheduledBuilds"/>, <see cref="CveRescan"/>, <c>WorkerConfig</c>, <see cref="TimeProvider"/> and
    /// logging. Quartz runs on the registered <see cref="TimeProvider"/>.
    /// </summary>
    public static IServiceCollection AddImageForgeSchedules(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        // The clock given as an instance is handed to Quartz explicitly; one registered through a factory is found
        // by Quartz in the container (its documented fallback), so either way scheduler and jobs share one clock.
        var clock =
            services
                .LastOrDefault(d => d.ServiceType == typeof(TimeProvider) && !d.IsKeyedService)
                ?.ImplementationInstance as TimeProvider;
        services.AddQuartz(q =>
        {
            if (clock is not null)
            {
                q.UseTimeProvider(clock);
            }
        });
        services.AddTransient<ScheduledBuildJob>();
        services.AddTransient<CveRescanJob>();
        services.AddTransient<DueRevocationsJob>();
        services.AddSingleton<ScheduleSync>();
        // Registered before Quartz's hosted service, so it stops after it: running firings finish (and re-arm)
        // before the sync stops watching.
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ScheduleSync>());
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return services;
    }
}
