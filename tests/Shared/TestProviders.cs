using ImageForge.Core.Providers;
using ImageForge.Providers.Aws;
using ImageForge.Providers.Azure;
using ImageForge.Providers.Gcp;
using ImageForge.Providers.Local;

namespace ImageForge.TestSupport;

/// <summary>Provider registries for specs that parse definitions or build the pipeline without the CLI.</summary>
public static class TestProviders
{
    /// <summary>The providers the imageforge tool ships, in its order.</summary>
    public static ProviderRegistry Shipped { get; } =
        new([new LocalProvider(), new AwsProvider(), new AzureProvider(), new GcpProvider()]);

    /// <summary>Their names.</summary>
    public static IReadOnlyList<string> Names => Shipped.Names;
}
