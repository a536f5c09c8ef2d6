using System.Globalization;
using System.Text.RegularExpressions;
using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;

namespace ImageForge.Providers.Local;

/// <summary>What a local target accepts: a Debian suite, no regions, the mirror and disk options, mirror_auth.</summary>
internal static partial class LocalRules
{
    public static ProviderRules Create() =>
        new()
        {
            Name = LocalProvider.ProviderName,
            HasRegions = false,
            BaseImageExpectation =
                "a Debian suite: " + string.Join(" or ", OsCatalog.DebianSuiteNames),
            CheckBaseImage = (baseImage, os) =>
            {
                var release = OsCatalog.DebianReleaseOf(baseImage);
                if (release is null)
                {
                    return ProviderRules.UnknownMessage(
                        "Debian suite",
                        baseImage,
                        OsCatalog.DebianSuiteNames
                    );
                }
                if (os is null)
                {
                    return null;
                }
                if (os.Family != "debian")
                {
                    return $"the local target builds Debian images only, but os.family is '{os.Family}'; use a cloud target or os.family debian";
                }
                return release == os.Release
                    ? null
                    : $"'{baseImage}' is Debian {release} but os.release is '{os.Release}'; use '{os.DebianSuite}' or change os.release to {release}";
            },
            Options =
            [
                OptionRule.Url("mirror", "http://deb.debian.org/debian"),
                OptionRule.Url("security_mirror", "http://deb.debian.org/debian-security"),
                OptionRule.Boolean("security_updates", true),
                new OptionRule("disk_size", CheckDiskSize, _ => "1G"),
                OptionRule.OneOf("variant", ["minbase", "standard"], "minbase"),
            ],
            SecretVariables = ["mirror_auth"],
        };

    private static OptionValue CheckDiskSize(string value)
    {
        const string Expectation = "a size in M or G, e.g. 1G or 1536M, from 256M to 2048G";
        var match = DiskSize().Match(value);
        if (!match.Success)
        {
            return OptionValue.Refused($"expected {Expectation}, found '{value}'");
        }
        var mebibytes = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        if (match.Groups[2].Value == "G")
        {
            mebibytes *= 1024;
        }
        return mebibytes is >= 256 and <= 2048L * 1024
            ? OptionValue.Ok(value)
            : OptionValue.Refused($"expected {Expectation}, found '{value}'");
    }

    [GeneratedRegex(@"^([1-9][0-9]{0,6})([MG])$", RegexOptions.CultureInvariant)]
    private static partial Regex DiskSize();
}
