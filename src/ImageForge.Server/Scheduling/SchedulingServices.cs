using ImageForge.Application;
using ImageForge.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Quartz;

namespace ImageForge.Server.Scheduling;

/// <summary>
/// Where Quartz keeps the schedules of a worker whose catalog is PostgreSQL: Quartz's clustered ADO.NET job store in
/// the same database (tables <c>qrtz_*</c>, migration <c>Schema/postgres/0005_quartz.sql</c>), shared by every worker
/// of the catalog, so each trigger fires on one of them (docs/cluster.md, "Schedules").
/// </summary>
/// <param name="ConnectionString">The catalog's Npgsql connection string.</param>
/// <param name="InstanceId">This worker's registered identity (<c>imageforge workers</c>), its Quartz instance id.</param>
/// <param name="Lease">The worker's <c>queue.lease</c>: check-ins every third of it, a silent node written off after it.</param>
public sealed record ClusteredScheduleStore(
    string ConnectionString,
    string InstanceId,
    TimeSpan Lease
)
{
    /// <summary>The Quartz scheduler name every worker of a catalog shares (<c>qrtz_*.sched_name</c>).</summary>
    public const string SchedulerName = "imageforge";

    /// <summary>The table prefix of Quartz's tables (PostgreSQL folds it to <c>qrtz_</c>).</summary>
    public const string TablePrefix = "QRTZ_";

    /// <summary>
    /// How often this worker's scheduler checks in: a third of the lease, as the worker's heartbeat, in whole
    /// milliseconds (Quartz's clustered store refuses a fraction of one: a 2 s lease's third is 666 ms).
    /// </summary>
    public TimeSpan CheckinInterval =>
        TimeSpan.FromMilliseconds(Math.Floor(Lease.TotalMilliseconds / 3));

    /// <summary>
    /// How long past a missed check-in the others wait before recovering this node's triggers: the rest of the lease,
    /// so a killed worker's schedules move on about one lease after its last check-in, as its builds do.
    /// </summary>
    public TimeSpan CheckinMisfireThreshold =>
        TimeSpan.FromMilliseconds(Math.Ceiling(Lease.TotalMilliseconds)) - CheckinInterval;
}

/// <summary>Registers the worker's schedules and CVE job in its host.</summary>
public static class SchedulingServices
{
    /// <summary>
    /// Adds Quartz (hosted, waiting for running jobs at shutdown), the scheduled-build and CVE jobs and
    /// <see cref="ScheduleSync"/>. The job store is Quartz's RAM store, or with <paramref name="clustered"/> (a
    /// PostgreSQL catalog) its clustered ADO.NET store on that database with System.Text.Json job data. Needs,
    /// registered by the host: <c>Catalog</c>, <see cref="Pipeline"/>, <see cref="ScheduledBuilds"/>,
    /// <see cref="CveRescan"/>, <c>WorkerConfig</c>, <see cref="TimeProvider"/> and logging. Quartz runs on the
    /// registered <see cref="TimeProvider"/>.
    /// </summary>
    public static IServiceCollection AddImageForgeSchedules(
        this IServiceCollection services,
        ClusteredScheduleStore? clustered = null
    )
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

            if (clustered is not null)
            {
                q.ConfigureScheduler(o =>
                {
                    o.InstanceName = ClusteredScheduleStore.SchedulerName;
                    o.InstanceId = clustered.InstanceId;
                });
                q.UsePersistentStore(store =>
                {
                    // With the catalog's session settings: a SIGSTOPped worker's open transaction must not hold
                    // Quartz's trigger lock past its lease.
                    store.UsePostgres(
                        Catalog.WithCatalogSessionSettings(clustered.ConnectionString)
                    );
                    store.UseSystemTextJsonSerializer();
                    store.UseClustering(c =>
                    {
                        c.CheckinInterval = clustered.CheckinInterval;
                        c.CheckinMisfireThreshold = clustered.CheckinMisfireThreshold;
                    });
                    // The catalog's migrations own the tables: Quartz only checks they are there.
                    store.ConfigureStore(o =>
                    {
                        o.TablePrefix = ClusteredScheduleStore.TablePrefix;
                        o.SchemaProvisioning = SchemaProvisioning.Validate;
                    });
                });
            }
        });
        services.AddSingleton(new ScheduleStoreKind(clustered is not null));
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

/// <summary>Whether the schedules live in Quartz's clustered store (shared, outliving this worker) or in its RAM store.</summary>
public sealed record ScheduleStoreKind(bool Clustered);
