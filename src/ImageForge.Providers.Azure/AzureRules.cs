using System.Text.RegularExpressions;
using ImageForge.Core.Providers;

namespace ImageForge.Providers.Azure;

/// <summary>What an Azure target accepts: base image, regions, options with their defaults, secrets.</summary>
internal static partial class AzureRules
{
    public static ProviderRules Create() =>
        new()
        {
            Name = AzureProvider.ProviderName,
            HasRegions = true,
            RegionPattern = AzureRegion(),
            RegionExample = "westeurope",
            BaseImageExpectation =
                "a marketplace image URN publisher:offer:sku:version, e.g. Debian:debian-11:11-gen2:latest",
            CheckBaseImage = (baseImage, _) =>
            {
                var parts = baseImage.Split(':');
                var valid =
                    parts.Length == 4
                    && parts.Take(3).All(p => AzureUrnPart().IsMatch(p))
                    && AzureImageVersion().IsMatch(parts[3]);
                return valid
                    ? null
                    : $"expected a marketplace image URN publisher:offer:sku:version (version 'latest' or like 0.20240101.1598), e.g. Debian:debian-11:11-gen2:latest, found '{baseImage}'";
            },
            Options =
            [
                OptionRule.Uuid("subscription_id"),
                OptionRule.Uuid("tenant_id"),
                OptionRule.Uuid("client_id"),
                OptionRule.Matching(
                    "resource_group",
                    AzureResourceGroup(),
                    "a resource group name (1 to 90 of letters, digits, - _ . ( ), not ending with '.')"
                ),
                OptionRule.Matching(
                    "gallery",
                    AzureGallery(),
                    "a compute gallery name (letters, digits, '.', '_'; up to 80 characters)"
                ),
                OptionRule.Matching(
                    "image_definition",
                    AzureImageDefinition(),
                    "a gallery image definition name (letters, digits, '.', '_', '-'; up to 80 characters)"
                ),
                OptionRule.Matching(
                    "vm_size",
                    AzureVmSize(),
                    "a VM size such as Standard_B2s",
                    _ => "Standard_B2s"
                ),
            ],
            SecretVariables = ["client_secret"],
        };

    [GeneratedRegex(
        @"^[A-Za-z0-9]([A-Za-z0-9._]{0,78}[A-Za-z0-9])?$",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex AzureGallery();

    [GeneratedRegex(
        @"^[A-Za-z0-9]([A-Za-z0-9._-]{0,78}[A-Za-z0-9])?$",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex AzureImageDefinition();

    [GeneratedRegex(@"^(latest|[0-9]+\.[0-9]+\.[0-9]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex AzureImageVersion();

    [GeneratedRegex(@"^[a-z][a-z0-9]{2,40}$", RegexOptions.CultureInvariant)]
    private static partial Regex AzureRegion();

    [GeneratedRegex(@"^[-A-Za-z0-9_.()]{0,89}[-A-Za-z0-9_()]$", RegexOptions.CultureInvariant)]
    private static partial Regex AzureResourceGroup();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex AzureUrnPart();

    [GeneratedRegex(@"^(Standard|Basic)_[A-Za-z0-9_]+$", RegexOptions.CultureInvariant)]
    private static partial Regex AzureVmSize();
}
