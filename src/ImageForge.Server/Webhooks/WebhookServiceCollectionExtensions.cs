using ImageForge.Core.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace ImageForge.Server.Webhooks;

/// <summary>Registers webhooks in the worker's host.</summary>
public static class WebhookServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IWorkerEvents"/> (records deliveries) and the background dispatcher (sends them), for the
    /// endpoints of <paramref name="settings"/>. Needs an <see cref="IWebhookLog"/> registered (the catalog);
    /// uses the registered <see cref="TimeProvider"/>, or the system clock. Secrets are read from the process
    /// environment.
    /// </summary>
    public static IServiceCollection AddWebhooks(
        this IServiceCollection services,
        WebhookSettings settings
    )
    {
        ArgumentNullException.ThrowIfNull(settings);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IWorkerEvents>(sp => new WebhookPublisher(
            sp.GetRequiredService<IWebhookLog>(),
            settings,
            sp.GetRequiredService<TimeProvider>()
        ));
        services.AddHostedService(sp => new WebhookDispatcher(
            sp.GetRequiredService<IWebhookLog>(),
            settings,
            sp.GetRequiredService<TimeProvider>(),
            Environment.GetEnvironmentVariable,
            sp.GetRequiredService<ILogger<WebhookDispatcher>>(),
            claimant: Claimant(sp)
        ));
        return services;
    }

    // The worker's registered id once its queue runner has registered (docs/cluster.md); this process before that,
    // or in a host without a queue runner.
    private static Func<string> Claimant(IServiceProvider services)
    {
        var process = $"{Environment.MachineName}/{Environment.ProcessId}";
        var runner = services.GetService<Queue.QueueRunner>();
        return () => runner?.WorkerId ?? process;
    }
}
