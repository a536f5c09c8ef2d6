using System.Text.RegularExpressions;
using ImageForge.Core.Providers;

namespace ImageForge.Providers.Gcp;

/// <summary>What a GCP target accepts: base image, regions, options with their defaults, secrets.</summary>
internal static partial class GcpRules
{
    public static ProviderRules Create() =>
        new()
        {
            Name = GcpProvider.ProviderName,
            HasRegions = true,
            RegionPattern = GcpRegion(),
            RegionExample = "europe-west1",
            BaseImageExpectation = "an image family such as debian-11, or an image name",
            CheckBaseImage = (baseImage, _) =>
                GcpName().IsMatch(baseImage)
                    ? null
                    : $"expected an image family or image name (lowercase letters, digits and '-', starting with a letter, up to 63 characters), e.g. debian-11, found '{baseImage}'",
            Options =
            [
                OptionRule.Matching(
                    "project_id",
                    GcpProject(),
                    "a project id (6 to 30 lowercase letters, digits and '-', starting with a letter)"
                ),
                OptionRule.Matching("zone", GcpZone(), "a zone such as europe-west1-b"),
                OptionRule.Matching(
                    "machine_type",
                    GcpMachineType(),
                    "a machine type such as e2-medium",
                    _ => "e2-medium"
                ),
                OptionRule.Matching("network", GcpName(), "a VPC network name", _ => "default"),
                OptionRule.Matching(
                    "source_image_project_id",
                    GcpProject(),
                    "the project that publishes the base image, e.g. debian-cloud",
                    os =>
                        os?.Family switch
                        {
                            "debian" => "debian-cloud",
                            "ubuntu" => "ubuntu-os-cloud",
                            "rhel" => "rhel-cloud",
                            _ => null,
                        }
                ),
                OptionRule.OneOf("base_image_kind", ["family", "image"], "family"),
            ],
            SecretVariables = [],
            NoSecretsNote =
                "it uses Application Default Credentials, e.g. GOOGLE_APPLICATION_CREDENTIALS",
        };

    [GeneratedRegex(@"^[a-z][a-z0-9-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex GcpMachineType();

    /// <summary>GCP resource names (images, families, networks): RFC 1035 labels up to 63 characters.</summary>
    [GeneratedRegex(@"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex GcpName();

    [GeneratedRegex(@"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex GcpProject();

    [GeneratedRegex(@"^[a-z]+-[a-z]+[0-9]{1,2}$", RegexOptions.CultureInvariant)]
    private static partial Regex GcpRegion();

    [GeneratedRegex(@"^[a-z]+-[a-z]+[0-9]{1,2}-[a-z]$", RegexOptions.CultureInvariant)]
    private static partial Regex GcpZone();
}
