using System.Text.RegularExpressions;
using ImageForge.Core.Definitions;
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
                new OptionRule("bucket", CheckBucket),
                OptionRule.OneOf("storage_location", StorageLocations),
                OptionRule.Matching(
                    "credentials_variable",
                    EnvironmentVariable(),
                    "the name of the environment variable that holds the service-account key file's path, e.g. GOOGLE_APPLICATION_CREDENTIALS"
                ),
            ],
            // Import by default (the disk the local target builds); native is the googlecompute Packer builder.
            // Native comes first until the local provider declares that it builds disks: with import first, a
            // definition with only a gcp target would be refused for want of a disk-building target.
            BuildModes = [BuildMode.Native, BuildMode.Import],
            // google-guest-agent is in Debian from bookworm; neither bullseye nor bullseye-backports has it (checked
            // on the build machines' mirror; bullseye-backports has google-compute-engine-oslogin only).
            GuestAgent = GuestAgents.Debian(
                new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["bookworm"] = "google-guest-agent",
                },
                (os, suite) =>
                    $"google-guest-agent is not in Debian {os.Release} ({suite} main or {suite}-backports; Debian ships "
                    + "it from 12, bookworm): build the image on Debian 12 (os.release \"12\", the local target's "
                    + "base_image bookworm), or remove guest_agent (cloud-init provisions GCE instances from the disk's "
                    + $"GCE datasource; OS Login's google-compute-engine-oslogin is only in {suite}-backports, which the "
                    + "build does not use)"
            ),
            ChannelOptions =
            [
                OptionRule.Matching(
                    "family",
                    GcpName(),
                    "an image family (lowercase letters, digits and '-', starting with a letter, up to 63 characters)"
                ),
            ],
            SecretVariables = [],
            NoSecretsNote =
                "it uses Application Default Credentials, e.g. GOOGLE_APPLICATION_CREDENTIALS",
        };

    /// <summary>
    /// Cloud Storage locations an image may be stored in (storageLocations): multi-regions, dual-regions and regions
    /// as Google lists them.
    /// </summary>
    public static readonly IReadOnlyList<string> StorageLocations =
    [
        "asia",
        "eu",
        "us",
        "asia1",
        "eur4",
        "eur5",
        "eur7",
        "eur8",
        "nam4",
        "africa-south1",
        "asia-east1",
        "asia-east2",
        "asia-northeast1",
        "asia-northeast2",
        "asia-northeast3",
        "asia-south1",
        "asia-south2",
        "asia-southeast1",
        "asia-southeast2",
        "australia-southeast1",
        "australia-southeast2",
        "europe-central2",
        "europe-north1",
        "europe-north2",
        "europe-southwest1",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west6",
        "europe-west8",
        "europe-west9",
        "europe-west10",
        "europe-west12",
        "me-central1",
        "me-central2",
        "me-west1",
        "northamerica-northeast1",
        "northamerica-northeast2",
        "northamerica-south1",
        "southamerica-east1",
        "southamerica-west1",
        "us-central1",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-south1",
        "us-west1",
        "us-west2",
        "us-west3",
        "us-west4",
    ];

    // Cloud Storage bucket names: 3-63 characters of lowercase letters, digits, '-', '_' and '.', starting and ending
    // with a letter or digit, no "goog" prefix, no "..", not an IP address (dotted names up to 222 are not taken here).
    private static OptionValue CheckBucket(string value)
    {
        const string expectation =
            "a Cloud Storage bucket name (3 to 63 lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit)";
        if (!BucketName().IsMatch(value) || value.Contains("..", StringComparison.Ordinal))
        {
            return OptionValue.Refused($"expected {expectation}, found '{value}'");
        }

        if (
            value.StartsWith("goog", StringComparison.Ordinal)
            || value.Contains("google", StringComparison.Ordinal)
        )
        {
            return OptionValue.Refused(
                $"a bucket name may not start with 'goog' nor contain 'google', found '{value}'"
            );
        }

        return System.Net.IPAddress.TryParse(value, out _)
            ? OptionValue.Refused($"a bucket name may not be an IP address, found '{value}'")
            : OptionValue.Ok(value);
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex BucketName();

    [GeneratedRegex(@"^[A-Z_][A-Z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentVariable();

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
