using System.Globalization;
using System.Text.RegularExpressions;
using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;

namespace ImageForge.Providers.Azure;

/// <summary>What an Azure target accepts: base image, regions, options with their defaults, secrets.</summary>
internal static partial class AzureRules
{
    /// <summary>
    /// The options a gallery import cannot do without (no default can be guessed for them). Checked before a build
    /// starts (<see cref="AzureImporter.Preflight"/>), not by validation: validation drops an invalid value, and a
    /// "required" problem would then repeat the refusal.
    /// </summary>
    public static readonly IReadOnlyList<string> GalleryOptions =
    [
        "subscription_id",
        "resource_group",
        "gallery",
        "image_definition",
        "publisher",
        "storage_account",
    ];

    /// <summary>
    /// The public cloud's region names (<c>az account list-locations --query "[].name"</c>). A list rather than a
    /// pattern: a misspelt region (<c>westeu</c>) is caught here, not an hour into a build by ARM.
    /// </summary>
    public static readonly IReadOnlyList<string> Regions =
    [
        "australiacentral",
        "australiacentral2",
        "australiaeast",
        "australiasoutheast",
        "austriaeast",
        "belgiumcentral",
        "brazilsouth",
        "brazilsoutheast",
        "canadacentral",
        "canadaeast",
        "centralindia",
        "centralus",
        "chilecentral",
        "eastasia",
        "eastus",
        "eastus2",
        "francecentral",
        "francesouth",
        "germanynorth",
        "germanywestcentral",
        "indonesiacentral",
        "israelcentral",
        "italynorth",
        "japaneast",
        "japanwest",
        "jioindiacentral",
        "jioindiawest",
        "koreacentral",
        "koreasouth",
        "malaysiawest",
        "mexicocentral",
        "newzealandnorth",
        "northcentralus",
        "northeurope",
        "norwayeast",
        "norwaywest",
        "polandcentral",
        "qatarcentral",
        "southafricanorth",
        "southafricawest",
        "southcentralus",
        "southeastasia",
        "southindia",
        "spaincentral",
        "swedencentral",
        "swedensouth",
        "switzerlandnorth",
        "switzerlandwest",
        "uaecentral",
        "uaenorth",
        "uksouth",
        "ukwest",
        "westcentralus",
        "westeurope",
        "westindia",
        "westus",
        "westus2",
        "westus3",
    ];

    public static ProviderRules Create() =>
        new()
        {
            Name = AzureProvider.ProviderName,
            HasRegions = true,
            RegionPattern = new Regex(
                $"^({string.Join("|", Regions)})$",
                RegexOptions.CultureInvariant
            ),
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
            BuildModes = [BuildMode.Import, BuildMode.Native],
            // waagent is in Debian main from bullseye on (checked on the build machines' mirror).
            GuestAgent = GuestAgents.Debian(
                new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["bullseye"] = "waagent",
                    ["bookworm"] = "waagent",
                },
                (os, suite) =>
                    $"waagent is not known for Debian {os.Release} ({suite}); remove guest_agent"
            ),
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
                    "publisher",
                    AzureIdentifier(),
                    "an image definition publisher (letters, digits, '.', '_', '-'; up to 128 characters)"
                ),
                OptionRule.Matching(
                    "offer",
                    AzureIdentifier(),
                    "an image definition offer (letters, digits, '.', '_', '-'; up to 64 characters)",
                    os => os?.Family
                ),
                OptionRule.Matching(
                    "sku",
                    AzureIdentifier(),
                    "an image definition sku (letters, digits, '.', '_', '-'; up to 64 characters)",
                    os => os is null ? null : $"{os.Release}-gen2"
                ),
                OptionRule.Matching(
                    "storage_account",
                    AzureStorageAccount(),
                    "a storage account name (3 to 24 lowercase letters and digits)"
                ),
                OptionRule.Matching(
                    "storage_resource_group",
                    AzureResourceGroup(),
                    "the resource group of the storage account (default: resource_group)"
                ),
                OptionRule.Matching(
                    "storage_container",
                    AzureContainer(),
                    "a blob container name (3 to 63 lowercase letters, digits and single '-')",
                    _ => "imageforge-vhds"
                ),
                Integer("replica_count", 1, 100, 1),
                OptionRule.OneOf(
                    "storage_account_type",
                    ["Standard_LRS", "Standard_ZRS", "Premium_LRS"],
                    "Standard_LRS"
                ),
                Integer("replication_timeout_minutes", 1, 1440, 120),
                OptionRule.Matching(
                    "vm_size",
                    AzureVmSize(),
                    "a VM size such as Standard_B2s",
                    _ => "Standard_B2s"
                ),
            ],
            ChannelOptions = [OptionRule.Boolean("latest", false)],
            SecretVariables = ["client_secret"],
        };

    private static OptionRule Integer(string key, int min, int max, int byDefault) =>
        new(
            key,
            value =>
                int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                && n >= min
                && n <= max
                    ? OptionValue.Ok(n.ToString(CultureInfo.InvariantCulture))
                    : OptionValue.Refused(
                        $"expected a whole number from {min} to {max}, found '{value}'"
                    ),
            _ => byDefault.ToString(CultureInfo.InvariantCulture)
        );

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

    [GeneratedRegex(
        @"^[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex AzureIdentifier();

    [GeneratedRegex(@"^[a-z0-9]{3,24}$", RegexOptions.CultureInvariant)]
    private static partial Regex AzureStorageAccount();

    [GeneratedRegex(@"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex AzureContainer();

    [GeneratedRegex(@"^(latest|[0-9]+\.[0-9]+\.[0-9]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex AzureImageVersion();

    [GeneratedRegex(@"^[-A-Za-z0-9_.()]{0,89}[-A-Za-z0-9_()]$", RegexOptions.CultureInvariant)]
    private static partial Regex AzureResourceGroup();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex AzureUrnPart();

    [GeneratedRegex(@"^(Standard|Basic)_[A-Za-z0-9_]+$", RegexOptions.CultureInvariant)]
    private static partial Regex AzureVmSize();
}
