using ImageForge.Application;
using ImageForge.Server;
using ImageForge.Server.Api;
using ImageForge.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace ImageForge.TestSupport;

/// <summary>
/// The worker's API services over the repository's content, a spec's catalog and clock, the shipped providers and
/// no mirror resolver, for hosts that specs assemble themselves (the API's test server, the dashboard's worker).
/// The caller adds its build requests and anything of its own.
/// </summary>
public static class ApiOverRepository
{
    public static IServiceCollection AddApiOverRepository(
        this IServiceCollection services,
        Catalog catalog,
        HostPaths paths,
        TimeProvider time,
        IWorkerEvents events
    )
    {
        services.AddImageForgeApi();
        services.AddSingleton(catalog);
        services.AddSingleton(paths);
        services.AddSingleton(time);
        services.AddSingleton(events);
        services.AddSingleton(TestProviders.Shipped);
        services.AddSingleton(
            new Pipeline(
                new PipelineHost(
                    paths,
                    time,
                    _ => null,
                    paths.Data.Root,
                    new Dictionary<string, string>()
                )
                {
                    Resolvers = [],
                },
                TestProviders.Shipped
            )
        );
        // The repository's definitions target AWS, Azure and GCP: /health here must never ask them (the multi-cloud
        // specs check the clouds' part against the fakes).
        services.Configure<ApiHealthOptions>(o => o.CheckClouds = false);
        return services;
    }
}
