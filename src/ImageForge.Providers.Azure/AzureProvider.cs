using System.Text.Json;
using ImageForge.Core.Admission;
using ImageForge.Core.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ImageForge.Providers.Azure;

/// <summary>The Azure provider module: gallery image versions in an Azure Compute Gallery (definitions validated; building and distribution arrive with the Azure provider).</summary>
public sealed class AzureProvider : ProviderModule
{
    /// <summary>The name definitions give this provider.</summary>
    public const string ProviderName = "azure";

    /// <inheritdoc />
    public override ProviderRules Rules { get; } = AzureRules.Create();

    /// <inheritdoc />
    public override IEnumerable<string> TerraformImageIds(
        string resourceType,
        JsonElement values
    ) =>
        resourceType
            is "azurerm_linux_virtual_machine"
                or "azurerm_windows_virtual_machine"
                or "azurerm_linux_virtual_machine_scale_set"
                or "azurerm_windows_virtual_machine_scale_set"
            ? TerraformValues.Strings(values, "source_image_id")
            : [];
}

/// <summary>Registers the Azure provider.</summary>
public static class AzureProviderServiceCollectionExtensions
{
    /// <summary>Adds the Azure provider.</summary>
    public static IServiceCollection AddAzureProvider(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ProviderModule, AzureProvider>());
        services.TryAddSingleton<ProviderRegistry>();
        return services;
    }
}
