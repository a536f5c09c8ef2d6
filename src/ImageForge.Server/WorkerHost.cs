using ImageForge.Application;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Providers;
using ImageForge.Core.Worker;
using ImageForge.Server.Api;
using ImageForge.Server.Queue;
using ImageForge.Server.Scheduling;
using ImageForge.Server.Telemetry;
using ImageForge.Server.Webhooks;
using ImageForge.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ImageForge.Server;

/// <summary>
/// How to start a worker: the host's paths, clock and environment, the providers the launching host registered, the
/// worker.yaml settings and ASP.NET Core's arguments (--urls).
/// </summary>
public sealed record WorkerOptions(
    PipelineHost Pipeline,
    ProviderRegistry Providers,
    WorkerConfig Config,
    string[] HostArguments
)
{
    /// <summary>More parts the launching host adds to the worker (the dashboard), registered, used and mapped after the API.</summary>
    public IReadOnlyList<IWorkerExtension> Extensions { get; init; } = [];
}

/// <summary>A part of the worker outside this project (the dashboard under <c>/ui/</c>): its services, middleware and endpoints.</summary>
public interface IWorkerExtension
{
    /// <summary>Registers the part's services (after the API's).</summary>
    void AddServices(IServiceCollection services, WorkerOptions options);

    /// <summary>Adds its middleware after the API's (routing, authentication and authorization are in place).</summary>
    void Use(IApplicationBuilder app);

    /// <summary>Maps its endpoints.</summary>
    void Map(IEndpointRouteBuilder endpoints);
}

/// <summary>
/// The worker: one Generic Host (ASP.NET Core) with the build queue runner, the Quartz schedules and CVE job, the
/// webhook dispatcher and the HTTP API, over the catalog of one data directory. Only one worker may own a data
/// directory at a time (<c>worker.lock</c>).
/// </summary>
public sealed class WorkerHost : IAsyncDisposable
{
    /// <summary>The lock file's name in the data directory.</summary>
    public const string LockFileName = "worker.lock";

    private readonly FileStream _lock;

    private WorkerHost(WebApplication app, Catalog catalog, FileStream lockFile)
    {
        App = app;
        Catalog = catalog;
        _lock = lockFile;
    }

    /// <summary>The web application (host, services, endpoints).</summary>
    public WebApplication App { get; }

    /// <summary>The catalog the worker owns.</summary>
    public Catalog Catalog { get; }

    /// <summary>Builds the worker without starting it.</summary>
    /// <exception cref="InvalidInputException">Another worker owns the data directory.</exception>
    public static async Task<WorkerHost> CreateAsync(
        WorkerOptions options,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(options);
        var paths = options.Pipeline.Paths;
        Directory.CreateDirectory(paths.Data.Root);
        var lockPath = Path.Combine(paths.Data.Root, LockFileName);
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(
                lockPath,
                FileMode.OpenOrCreate,
                FileAccess.ReadWrite,
                FileShare.None
            );
        }
        catch (IOException)
        {
            throw new InvalidInputException(
                $"another imageforge worker owns this data directory ({lockPath} is locked); stop it, or start "
                    + "this one with another --data-dir"
            );
        }

        Catalog? catalog = null;
        try
        {
            catalog = await Catalog.OpenAsync(paths.Data, options.Pipeline.Time, cancellationToken);
            var builder = WebApplication.CreateBuilder(
                new WebApplicationOptions
                {
                    Args = options.HostArguments,
                    ContentRootPath = paths.Data.Root,
                }
            );
            // Progress and problems of the worker's own parts; ASP.NET Core's per-request lines and Quartz's start-up
            // chatter only when asked (e.g. Logging__LogLevel__Microsoft.AspNetCore=Information).
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.Logging.AddFilter("Quartz", LogLevel.Warning);
            builder.AddWorkerTelemetry(options.Pipeline.Variable);
            builder.Services.Configure<HostOptions>(h =>
                h.ShutdownTimeout = options.Config.ShutdownTimeout
            );
            AddWorker(builder.Services, options, catalog);
            var app = builder.Build();
            app.UseImageForgeApi();
            foreach (var extension in options.Extensions)
            {
                extension.Use(app);
            }

            app.MapImageForgeApi();
            foreach (var extension in options.Extensions)
            {
                extension.Map(app);
            }

            app.MapWorkerTelemetry();
            return new WorkerHost(app, catalog, lockFile);
        }
        catch
        {
            if (catalog is not null)
            {
                await catalog.DisposeAsync();
            }

            await lockFile.DisposeAsync();
            throw;
        }
    }

    /// <summary>Registers every part of the worker (the API tests register the same, with fakes where they need).</summary>
    public static void AddWorker(
        IServiceCollection services,
        WorkerOptions options,
        Catalog catalog
    )
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options.Pipeline.Time);
        services.AddSingleton(options.Config);
        services.AddSingleton(options.Pipeline.Paths);
        services.AddSingleton(options.Providers);
        services.AddSingleton(
            new Pipeline(options.Pipeline, options.Providers)
            {
                Imports = ImportSlots.PerProvider(options.Config.QueueLimits),
            }
        );
        services.AddSingleton(catalog);
        services.AddSingleton<IWebhookLog>(catalog);
        services.AddSingleton<IWorkerRegistry>(catalog);
        var identity = WorkerIdentity.New(options.Config);
        services.AddSingleton(identity);
        services.AddSingleton<QueueSignal>();
        services.AddSingleton<IBuildRequests, BuildRequests>();
        services.AddSingleton<ScheduledBuilds>();
        services.AddSingleton<CveRescan>();
        services.AddSingleton<CatalogHealthMonitor>();
        services.AddSingleton<QueueRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<QueueRunner>());
        services.AddWebhooks(options.Config.Webhooks);
        // On a PostgreSQL catalog the workers share Quartz's clustered store there; on SQLite each keeps its RAM store.
        services.AddImageForgeSchedules(
            options.Pipeline.Paths.Data.Database is { Length: > 0 } database
                ? new ClusteredScheduleStore(database, identity.Id, options.Config.Lease)
                : null
        );
        services.AddImageForgeApi();
        foreach (var extension in options.Extensions)
        {
            extension.AddServices(services, options);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Catalog.DisposeAsync();
        await _lock.DisposeAsync();
    }
}
