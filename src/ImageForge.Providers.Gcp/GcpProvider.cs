using System.Text.Json;
using ImageForge.Core.Admission;
using ImageForge.Core.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ImageForge.Providers.Gcp;

/// <summary>The GCP provider module: Compute Engine images (definitions validated; building and distribution arrive with the GCP provider).</summary>
public sealed class GcpProvider : ProviderModule
{
    /// <summary>The name definitions give this provider.</summary>
    public const string ProviderName = "gcp";

    /// <inheritdoc />
    public override ProviderRules Rules { get; } = GcpRules.Create();

    /// <inheritdoc />
    public override IEnumerable<string> TerraformImageIds(
        string resourceType,
        JsonElement values
    ) =>
        resourceType switch
        {
            "google_compute_instance" => TerraformValues.Nested(
                values,
                "boot_disk",
                "initialize_params",
                "image"
            ),
            "google_compute_instance_template" => TerraformValues.Nested(
                values,
                "disk",
                "source_image"
            ),
            _ => [],
        };
}

/// <summary>Registers the GCP provider.</summary>
public static class GcpProviderServiceCollectionExtensions
{
    /// <summary>Adds the GCP provider.</summary>
    public static IServiceCollection AddGcpProvider(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ProviderModule, GcpProvider>());
        services.TryAddSingleton<ProviderRegistry>();
        return services;
    }
}
