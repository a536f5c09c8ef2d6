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

    /// <summary>A Password (or its synonyms PWD and PSW) keyword in an ADO.NET connection string.</summary>
    [GeneratedRegex(
        @"(^|;)\s*(password|pwd|psw)\s*=",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase
    )]
    public static partial Regex ConnectionStringPassword();

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

/// <summary>
/// The names definitions allow, for input that names an image or a channel outside a definition (the API's bodies):
/// checked before any lookup, so an error never echoes an arbitrary text.
/// </summary>
public static class NameRules
{
    /// <summary>What an image name looks like.</summary>
    public const string ImageName =
        "a name of 2 to 63 lowercase letters, digits and '-', starting with a letter or digit, e.g. debian-11-cis";

    /// <summary>What a channel name looks like.</summary>
    public const string ChannelName =
        "a channel name of 1 to 63 lowercase letters, digits and '-', starting with a letter, e.g. staging";

    /// <summary>True for a name a definition may have.</summary>
    public static bool IsImageName(string value) => Patterns.ImageName().IsMatch(value);

    /// <summary>True for a channel name a definition may list.</summary>
    public static bool IsChannelName(string value) => Patterns.ChannelName().IsMatch(value);
}
