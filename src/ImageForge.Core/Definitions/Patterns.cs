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
