using System.Globalization;
using System.Text.RegularExpressions;
using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;

namespace ImageForge.Providers.Local;

/// <summary>What a local target accepts: a Debian suite, no regions, the mirror and disk options, mirror_auth.</summary>
internal static partial class LocalRules
{
    // Before Create: static initializers run in text order.
    // The local disk's layouts and the smallest disk_size each takes (docs/local-target.md, "Disk layouts"): single is
    // the ESP and a root filesystem; cis adds /tmp, /var, /var/log, /var/log/audit and /home (1 GiB of them with the
    // ESP) and leaves the root filesystem the rest.
    private static readonly Dictionary<string, int> DiskLayoutMinimum = new(StringComparer.Ordinal)
    {
        ["single"] = 1024,
        ["cis"] = 2048,
    };

    private static readonly string[] DiskFormats = ["raw", "vhd", "tar-gz"];

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
                OptionRule.OneOf("disk_layout", [.. DiskLayoutMinimum.Keys], "single"),
                new OptionRule(
                    "disk_formats",
                    CheckDiskFormats,
                    _ => string.Join(',', DiskFormats)
                ),
                OptionRule.Boolean("boot_test", true),
                new OptionRule("boot_test_timeout", CheckBootTestTimeout, _ => "300"),
                // required: the boot test boots under KVM or fails; only a worker whose KVM probe passed claims the
                // build. auto: KVM where IMAGEFORGE_BOOT_TEST_KVM=1 asks for it and the probe passes, else emulation.
                OptionRule.OneOf(
                    "boot_test_kvm",
                    [BootTestKvmAuto, BootTestKvmRequired],
                    BootTestKvmAuto
                ),
            ],
            CrossCheck = (_, options) =>
                CheckDiskFitsLayout(options).Concat(CheckKvmHasABootTest(options)),
            // The GPT/UEFI disk (disk.raw, disk.vhd, disk.tar.gz) every cloud target with build: import takes.
            BuildsDisks = true,
            SecretVariables = ["mirror_auth"],
        };

    /// <summary>boot_test_kvm: the boot test may fall back to software emulation.</summary>
    public const string BootTestKvmAuto = "auto";

    /// <summary>boot_test_kvm: the boot test boots under KVM or fails.</summary>
    public const string BootTestKvmRequired = "required";

    /// <summary>Whether a target's boot test must run under KVM (its options checked and defaulted).</summary>
    public static bool RequiresKvm(IReadOnlyDictionary<string, string> options) =>
        options.GetValueOrDefault("boot_test") == "true"
        && options.GetValueOrDefault("boot_test_kvm") == BootTestKvmRequired;

    private static IEnumerable<(string Field, string Message)> CheckKvmHasABootTest(
        IReadOnlyDictionary<string, string> options
    ) =>
        options.GetValueOrDefault("boot_test_kvm") == BootTestKvmRequired
        && options.GetValueOrDefault("boot_test") == "false"
            ?
            [
                (
                    "options.boot_test_kvm",
                    "boot_test_kvm: required asks for a boot under KVM, but boot_test is false (no boot test runs); remove boot_test_kvm or set boot_test: true"
                ),
            ]
            : [];

    private static IEnumerable<(string Field, string Message)> CheckDiskFitsLayout(
        IReadOnlyDictionary<string, string> options
    )
    {
        if (
            !options.TryGetValue("disk_layout", out var layout)
            || !DiskLayoutMinimum.TryGetValue(layout, out var minimum)
            || !options.TryGetValue("disk_size", out var size)
            || DiskSizeMebibytes(size) is not { } mebibytes
            || mebibytes >= minimum
        )
        {
            return [];
        }
        return
        [
            (
                "options.disk_size",
                $"disk_size {size} is too small for disk_layout {layout}: it needs at least {minimum / 1024}G; raise disk_size or use another layout"
            ),
        ];
    }

    private static OptionValue CheckDiskFormats(string value)
    {
        var given = value.Split(',', StringSplitOptions.TrimEntries);
        var unknown = given.Where(f => !DiskFormats.Contains(f, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
        {
            return OptionValue.Refused(
                $"expected a comma-separated list of raw, vhd, tar-gz (e.g. raw,vhd); unknown: '{string.Join("', '", unknown)}'"
            );
        }
        if (!given.Contains("raw", StringComparer.Ordinal))
        {
            return OptionValue.Refused(
                $"expected raw among the formats (vhd and tar-gz are made from disk.raw), found '{value}'"
            );
        }
        // Normalized to the fixed order, each format once.
        return OptionValue.Ok(string.Join(',', DiskFormats.Where(given.Contains)));
    }

    private static OptionValue CheckBootTestTimeout(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
        && seconds is >= 30 and <= 3600
            ? OptionValue.Ok(seconds.ToString(CultureInfo.InvariantCulture))
            : OptionValue.Refused($"expected a number of seconds from 30 to 3600, found '{value}'");

    private static OptionValue CheckDiskSize(string value)
    {
        const string Expectation = "a size in M or G, e.g. 1G or 1536M, from 256M to 2048G";
        return DiskSizeMebibytes(value) is >= 256 and <= 2048L * 1024
            ? OptionValue.Ok(value)
            : OptionValue.Refused($"expected {Expectation}, found '{value}'");
    }

    private static long? DiskSizeMebibytes(string value)
    {
        var match = DiskSize().Match(value);
        if (!match.Success)
        {
            return null;
        }
        var mebibytes = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value == "G" ? mebibytes * 1024 : mebibytes;
    }

    [GeneratedRegex(@"^([1-9][0-9]{0,6})([MG])$", RegexOptions.CultureInvariant)]
    private static partial Regex DiskSize();
}
