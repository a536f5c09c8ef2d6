using System.Globalization;
using Azure.Core;
using Azure.ResourceManager.Compute;
using ImageForge.Core.Definitions;

namespace ImageForge.Providers.Azure;

/// <summary>An Azure target's gallery settings, read once from its validated options.</summary>
internal sealed record AzureTarget(
    string SubscriptionId,
    string ResourceGroup,
    string Gallery,
    string ImageDefinition,
    string Publisher,
    string Offer,
    string Sku,
    string StorageAccount,
    string StorageResourceGroup,
    string StorageContainer,
    int ReplicaCount,
    string StorageAccountType,
    TimeSpan ReplicationTimeout,
    string? TenantId,
    string? ClientId,
    IReadOnlyList<string> Regions
)
{
    /// <summary>The settings of a target, or the problems that keep it from importing.</summary>
    public static (AzureTarget? Target, IReadOnlyList<string> Problems) Read(TargetSpec target)
    {
        var missing = AzureRules
            .GalleryOptions.Where(key => target.Option(key) is null)
            .Select(key => $"azure: options.{key} is required to import into a compute gallery")
            .ToList();
        if (target.Regions.Count == 0)
        {
            missing.Add("azure: regions is empty; a gallery version needs at least one region");
        }

        if (missing.Count > 0)
        {
            return (null, missing);
        }

        var resourceGroup = target.Option("resource_group")!;
        return (
            new AzureTarget(
                target.Option("subscription_id")!,
                resourceGroup,
                target.Option("gallery")!,
                target.Option("image_definition")!,
                target.Option("publisher")!,
                target.Option("offer") ?? "debian",
                target.Option("sku") ?? "gen2",
                target.Option("storage_account")!,
                target.Option("storage_resource_group") ?? resourceGroup,
                target.Option("storage_container") ?? "imageforge-vhds",
                Number(target, "replica_count", 1),
                target.Option("storage_account_type") ?? "Standard_LRS",
                TimeSpan.FromMinutes(Number(target, "replication_timeout_minutes", 120)),
                target.Option("tenant_id"),
                target.Option("client_id"),
                target.Regions
            ),
            []
        );
    }

    public ResourceIdentifier GalleryId =>
        GalleryResource.CreateResourceIdentifier(SubscriptionId, ResourceGroup, Gallery);

    public ResourceIdentifier ImageId =>
        GalleryImageResource.CreateResourceIdentifier(
            SubscriptionId,
            ResourceGroup,
            Gallery,
            ImageDefinition
        );

    public ResourceIdentifier VersionId(string name) =>
        GalleryImageVersionResource.CreateResourceIdentifier(
            SubscriptionId,
            ResourceGroup,
            Gallery,
            ImageDefinition,
            name
        );

    public ResourceIdentifier StorageAccountId =>
        new(
            $"/subscriptions/{SubscriptionId}/resourceGroups/{StorageResourceGroup}/providers/Microsoft.Storage/storageAccounts/{StorageAccount}"
        );

    private static int Number(TargetSpec target, string key, int byDefault) =>
        target.Option(key) is { } value
            ? int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture)
            : byDefault;
}
