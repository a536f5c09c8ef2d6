using ImageForge.Core.Providers;
using ImageForge.Providers.Aws;
using ImageForge.Providers.Azure;
using ImageForge.Providers.Gcp;
using ImageForge.Providers.Local;
using Microsoft.Extensions.DependencyInjection;

namespace ImageForge.Cli;

/// <summary>
/// The composition root of the <c>imageforge</c> command: the providers this tool ships, registered once through
/// their modules' <c>AddXProvider()</c>. The command line builds its pipeline over them after parsing (the data and
/// content directories come from the arguments), and <c>imageforge worker</c> hands the same registry to the worker
/// host.
/// </summary>
internal static class CliComposition
{
    /// <summary>Registers every provider module the tool ships.</summary>
    public static IServiceCollection AddShippedProviders(this IServiceCollection services) =>
        services.AddLocalProvider().AddAwsProvider().AddAzureProvider().AddGcpProvider();

    /// <summary>The registry of the shipped providers.</summary>
    public static ProviderRegistry Providers()
    {
        using var services = new ServiceCollection().AddShippedProviders().BuildServiceProvider();
        return services.GetRequiredService<ProviderRegistry>();
    }
}
