using System.Text.RegularExpressions;

namespace ImageForge.Core.Definitions;

/// <summary>The shapes names and identifiers in definitions and baselines must have.</summary>
internal static partial class Patterns
{
    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{1,62}$", RegexOptions.CultureInvariant)]
    public static partial Regex ImageName();

    [GeneratedRegex(@"^[a-z][a-z0-9-]{0,62}$", RegexOptions.CultureInvariant)]
    public static partial Regex ChannelName();

    [GeneratedRegex(@"^[A-Z_][A-Z0-9_]*$", RegexOptions.CultureInvariant)]
    public static partial Regex EnvironmentVariable();

    /// <summary>Debian policy: lowercase letters, digits, '+', '-', '.'; at least two characters, starting alphanumeric.</summary>
    [GeneratedRegex(@"^[a-z0-9][a-z0-9+.-]+$", RegexOptions.CultureInvariant)]
    public static partial Regex DebianPackage();

    /// <summary>RPM names: letters, digits, '.', '_', '+', '-'; starting alphanumeric.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._+-]*$", RegexOptions.CultureInvariant)]
    public static partial Regex RpmPackage();

    [GeneratedRegex(@"^ami-[0-9a-f]{8,17}$", RegexOptions.CultureInvariant)]
    public static partial Regex AmiId();

    [GeneratedRegex(@"^ami-[0-9A-Za-z]*$", RegexOptions.CultureInvariant)]
    public static partial Regex LooksLikeAmiId();

    /// <summary>AWS image names: 3 to 128 of letters, digits, ( ) [ ] space . / - ' @ _, plus the filter wildcards * and ?.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9()\[\] ./'@_*?-]{3,128}$", RegexOptions.CultureInvariant)]
    public static partial Regex AmiNameFilter();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    public static partial Regex AzureUrnPart();

    [GeneratedRegex(@"^(latest|[0-9]+\.[0-9]+\.[0-9]+)$", RegexOptions.CultureInvariant)]
    public static partial Regex AzureImageVersion();

    /// <summary>GCP resource names (images, families, networks): RFC 1035 labels up to 63 characters.</summary>
    [GeneratedRegex(@"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    public static partial Regex GcpName();

    [GeneratedRegex(@"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$", RegexOptions.CultureInvariant)]
    public static partial Regex AwsRegion();

    [GeneratedRegex(@"^[a-z][a-z0-9]{2,40}$", RegexOptions.CultureInvariant)]
    public static partial Regex AzureRegion();

    [GeneratedRegex(@"^[a-z]+-[a-z]+[0-9]{1,2}$", RegexOptions.CultureInvariant)]
    public static partial Regex GcpRegion();

    [GeneratedRegex(@"^[a-z]+-[a-z]+[0-9]{1,2}-[a-z]$", RegexOptions.CultureInvariant)]
    public static partial Regex GcpZone();

    [GeneratedRegex(@"^[0-9]{12}$", RegexOptions.CultureInvariant)]
    public static partial Regex AwsAccount();

    [GeneratedRegex(@"^([0-9]{12}|amazon|aws-marketplace|self)$", RegexOptions.CultureInvariant)]
    public static partial Regex AwsImageOwner();

    [GeneratedRegex(@"^[a-z][a-z0-9-]*\.[a-z0-9]+$", RegexOptions.CultureInvariant)]
    public static partial Regex AwsInstanceType();

    [GeneratedRegex(@"^subnet-[0-9a-f]{8,17}$", RegexOptions.CultureInvariant)]
    public static partial Regex AwsSubnet();

    [GeneratedRegex(@"^[a-z_][a-z0-9_-]{0,31}$", RegexOptions.CultureInvariant)]
    public static partial Regex UnixUser();

    [GeneratedRegex(@"^[-A-Za-z0-9_.()]{0,89}[-A-Za-z0-9_()]$", RegexOptions.CultureInvariant)]
    public static partial Regex AzureResourceGroup();

    [GeneratedRegex(
        @"^[A-Za-z0-9]([A-Za-z0-9._]{0,78}[A-Za-z0-9])?$",
        RegexOptions.CultureInvariant
    )]
    public static partial Regex AzureGallery();

    [GeneratedRegex(
        @"^[A-Za-z0-9]([A-Za-z0-9._-]{0,78}[A-Za-z0-9])?$",
        RegexOptions.CultureInvariant
    )]
    public static partial Regex AzureImageDefinition();

    [GeneratedRegex(@"^(Standard|Basic)_[A-Za-z0-9_]+$", RegexOptions.CultureInvariant)]
    public static partial Regex AzureVmSize();

    [GeneratedRegex(@"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", RegexOptions.CultureInvariant)]
    public static partial Regex GcpProject();

    [GeneratedRegex(@"^[a-z][a-z0-9-]*$", RegexOptions.CultureInvariant)]
    public static partial Regex GcpMachineType();

    [GeneratedRegex(@"^([1-9][0-9]{0,6})([MG])$", RegexOptions.CultureInvariant)]
    public static partial Regex DiskSize();

    /// <summary>A relative path of plain segments; a segment cannot start with '.', so '..' cannot occur.</summary>
    [GeneratedRegex(
        @"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$",
        RegexOptions.CultureInvariant
    )]
    public static partial Regex RelativeDirectory();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._-]*\.xml$", RegexOptions.CultureInvariant)]
    public static partial Regex DatastreamFile();

    [GeneratedRegex(
        @"^xccdf_[A-Za-z0-9._-]+_profile_[A-Za-z0-9._-]+$",
        RegexOptions.CultureInvariant
    )]
    public static partial Regex XccdfProfile();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._:-]*$", RegexOptions.CultureInvariant)]
    public static partial Regex RuleId();

    [GeneratedRegex(@"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$", RegexOptions.CultureInvariant)]
    public static partial Regex TimeZoneId();

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", RegexOptions.CultureInvariant)]
    public static partial Regex IsoDate();
}
