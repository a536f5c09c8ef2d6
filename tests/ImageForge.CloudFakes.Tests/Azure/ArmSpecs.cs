using Azure;
using Azure.Core;
using Azure.ResourceManager;
using Azure.ResourceManager.Compute;
using Azure.ResourceManager.Compute.Models;
using ImageForge.CloudFakes.Azure;

namespace ImageForge.CloudFakes.Tests.Azure;

/// <summary>What the ARM specs share: the gallery the fake starts with and the SDK's request models.</summary>
internal static class ArmSpecs
{
    public const string ResourceGroup = "imageforge-images";

    public static GalleryResource GalleryOf(
        ArmFake arm,
        Action<ArmClientOptions>? configure = null
    ) => arm.CreateClient(configure).GetGalleryResource(new ResourceIdentifier(AddGallery(arm)));

    /// <summary>Creates the image definition debian-12 in the gallery and waits for it.</summary>
    public static async Task<GalleryImageResource> CreateImageAsync(ArmFake arm) =>
        (
            await GalleryOf(arm)
                .GetGalleryImages()
                .CreateOrUpdateAsync(WaitUntil.Completed, "debian-12", ImageDefinition())
        ).Value;

    public static string AddGallery(ArmFake arm) =>
        arm.State.AddGallery(
            ArmFake.DefaultSubscriptionId,
            ResourceGroup,
            "imageforge",
            "westeurope"
        );

    public static GalleryImageData ImageDefinition() =>
        new(AzureLocation.WestEurope)
        {
            OSType = SupportedOperatingSystemType.Linux,
            OSState = OperatingSystemStateType.Generalized,
            HyperVGeneration = HyperVGeneration.V2,
            Identifier = new GalleryImageIdentifier("imageforge", "debian", "12"),
        };

    public static GalleryImageVersionData VersionFrom(Uri vhd, params string[] regions)
    {
        var version = WithRegions(regions);
        version.StorageProfile = new GalleryImageVersionStorageProfile
        {
            OSDiskImage = new GalleryOSDiskImage
            {
                Source = new GalleryDiskImageSource
                {
                    Uri = vhd,
                    StorageAccountId = new ResourceIdentifier(
                        Azurite.StorageAccountId(ArmFake.DefaultSubscriptionId, ResourceGroup)
                    ),
                },
            },
        };
        return version;
    }

    public static GalleryImageVersionData VersionFromManagedImage(params string[] regions)
    {
        var version = WithRegions(regions);
        version.StorageProfile = new GalleryImageVersionStorageProfile
        {
            // Not Source: the 1.2.0 SDK silently drops a plain GalleryArtifactVersionSource (the fake refused it).
            GallerySource = new GalleryArtifactVersionFullSource
            {
                Id = new ResourceIdentifier(
                    $"/subscriptions/{ArmFake.DefaultSubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.Compute/images/debian-12"
                ),
            },
        };
        return version;
    }

    private static GalleryImageVersionData WithRegions(string[] regions)
    {
        var version = new GalleryImageVersionData(AzureLocation.WestEurope)
        {
            PublishingProfile = new GalleryImageVersionPublishingProfile
            {
                IsExcludedFromLatest = true,
            },
        };
        foreach (var region in regions)
        {
            version.PublishingProfile.TargetRegions.Add(
                new TargetRegion(region)
                {
                    RegionalReplicaCount = 1,
                    StorageAccountType = ImageStorageAccountType.StandardLrs,
                }
            );
        }

        return version;
    }

    public static async Task<ArmFake> StartWithGalleryAsync(ArmFakeOptions? options = null)
    {
        var arm = await ArmFake.StartAsync(options);
        AddGallery(arm);
        return arm;
    }
}
