using System.Text.Json;
using Azure.Core;
using Azure.ResourceManager.Compute;
using ImageForge.Core.Admission;
using ImageForge.Core.Errors;
using ImageForge.Core.Providers;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ImageForge.Providers.Azure;

/// <summary>
/// The Azure provider module: the build's fixed VHD imported into an Azure Compute Gallery as one image version
/// replicated to every region of the target, promoted, end-of-lifed and deleted there (docs/azure.md).
/// </summary>
public sealed class AzureProvider : ProviderModule
{
    /// <summary>The name definitions give this provider.</summary>
    public const string ProviderName = "azure";

    private readonly AzureConnection _connection;

    /// <summary>The provider as production uses it: the public cloud with the default credential chain.</summary>
    public AzureProvider()
        : this(new AzureConnection()) { }

    /// <summary>The provider reaching Azure as <paramref name="connection"/> says (the tests' fakes).</summary>
    public AzureProvider(AzureConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
    }

    /// <inheritdoc />
    public override ProviderRules Rules { get; } = AzureRules.Create();

    /// <summary>A gallery image version is named <c>Major.Minor.Patch</c> from the version (see docs/azure.md).</summary>
    public override string NameInProvider(string image, string version) =>
        GalleryVersionName.For(version);

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

    /// <summary>
    /// An Azure image id is a gallery image version's resource id
    /// (<c>/subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/galleries/X/images/D/versions/V</c>).
    /// </summary>
    public override Task<ArtifactQuery> ResolveImageIdAsync(
        string imageId,
        string workingDirectory,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(imageId);
        ResourceIdentifier id;
        try
        {
            id = new ResourceIdentifier(imageId.Trim());
            if (
                !string.Equals(
                    id.ResourceType.ToString(),
                    GalleryImageVersionResource.ResourceType.ToString(),
                    StringComparison.OrdinalIgnoreCase
                )
            )
            {
                throw new FormatException(id.ResourceType.ToString());
            }
        }
        catch (FormatException)
        {
            throw new InvalidInputException(
                $"'{imageId}' is not a gallery image version id; expected "
                    + "/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/galleries/<gallery>/images/<definition>/versions/<version>"
            );
        }

        var canonical = GalleryImageVersionResource.CreateResourceIdentifier(
            id.SubscriptionId,
            id.ResourceGroupName,
            id.Parent!.Parent!.Name,
            id.Parent.Name,
            id.Name
        );
        return Task.FromResult(new ArtifactQuery(canonical.ToString(), null));
    }

    /// <inheritdoc />
    public override ProviderServices Connect(ProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var clients = new AzureClients(_connection);
        var packer = new PackerClient(new ProcessRunner(context.Time), context.PackerExecutable);
        return new ProviderServices(
            new AzureNativeBuilder(
                new VmTemplateRunner(packer, context.ToolEnvironment),
                PackerInvocation.DefaultGracePeriod
            ),
            null,
            new AzureGallery(clients, context.Time)
        )
        {
            Importer = new AzureImporter(clients, context.Time),
            Access = new AzureAccess(clients, context.Variable),
        };
    }
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
