using System.Text.RegularExpressions;

namespace ImageForge.Core.Definitions;

/// <summary>The outcome of checking one option value: the normalized value, or why it is refused.</summary>
internal readonly record struct OptionValue(string? Value, string? Error)
{
    public static OptionValue Ok(string value) => new(value, null);

    public static OptionValue Refused(string error) => new(null, error);
}

/// <summary>One provider option: its key, how its value is checked and normalized, and its default (if any).</summary>
internal sealed record OptionRule(
    string Key,
    Func<string, OptionValue> Check,
    Func<OsSpec?, string?>? Default = null
)
{
    public static OptionRule Matching(
        string key,
        Regex pattern,
        string expectation,
        Func<OsSpec?, string?>? byDefault = null
    ) =>
        new(
            key,
            value =>
                pattern.IsMatch(value)
                    ? OptionValue.Ok(value)
                    : OptionValue.Refused($"expected {expectation}, found '{value}'"),
            byDefault
        );

    public static OptionRule OneOf(
        string key,
        IReadOnlyList<string> values,
        string? byDefault = null
    ) =>
        new(
            key,
            value =>
                values.Contains(value, StringComparer.Ordinal)
                    ? OptionValue.Ok(value)
                    : OptionValue.Refused(MappingReader.UnknownMessage("value", value, values)),
            byDefault is null ? null : _ => byDefault
        );

    public static OptionRule Boolean(string key, bool byDefault) =>
        new(
            key,
            value =>
                value.ToLowerInvariant() switch
                {
                    "true" => OptionValue.Ok("true"),
                    "false" => OptionValue.Ok("false"),
                    _ => OptionValue.Refused($"expected true or false, found '{value}'"),
                },
            _ => byDefault ? "true" : "false"
        );

    /// <summary>An http or https URL without credentials (those belong in a secret).</summary>
    public static OptionRule Url(string key, string byDefault) =>
        new(
            key,
            value =>
            {
                if (
                    !Uri.TryCreate(value, UriKind.Absolute, out var uri)
                    || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                    || string.IsNullOrEmpty(uri.Host)
                )
                {
                    return OptionValue.Refused(
                        "expected an http:// or https:// URL, e.g. http://deb.debian.org/debian"
                    );
                }
                // The value is not echoed: a URL with credentials in it is exactly what must not be printed.
                return uri.UserInfo.Length > 0
                    ? OptionValue.Refused(
                        "expected a URL without credentials; remove 'user:password@' and give them in secrets.mirror_auth"
                    )
                    : OptionValue.Ok(value);
            },
            _ => byDefault
        );

    public static OptionRule Guid(string key) =>
        new(
            key,
            value =>
                System.Guid.TryParseExact(value, "D", out _)
                    ? OptionValue.Ok(value.ToLowerInvariant())
                    : OptionValue.Refused(
                        $"expected a GUID such as 00000000-0000-0000-0000-000000000000, found '{value}'"
                    )
        );
}

/// <summary>What one provider accepts in a target: base image shape, regions, options and secret variables.</summary>
internal sealed class ProviderRules
{
    public required string Name { get; init; }

    /// <summary>Cloud providers publish to regions (required); the local provider takes none.</summary>
    public required bool HasRegions { get; init; }

    public Regex? RegionPattern { get; init; }

    public string RegionExample { get; init; } = "";

    public required string BaseImageExpectation { get; init; }

    /// <summary>Returns why <c>base_image</c> is refused for the given os, or null when it is fine.</summary>
    public required Func<string, OsSpec?, string?> CheckBaseImage { get; init; }

    public required IReadOnlyList<OptionRule> Options { get; init; }

    /// <summary>Checks across fields once options are known: returns (field below the target, message) pairs.</summary>
    public Func<
        string,
        IReadOnlyDictionary<string, string>,
        IEnumerable<(string Field, string Message)>
    > CrossCheck { get; init; } = (_, _) => [];

    /// <summary>Packer sensitive variables this provider's template declares.</summary>
    public required IReadOnlyList<string> SecretVariables { get; init; }

    /// <summary>Said when a secret is given to a provider that declares none.</summary>
    public string NoSecretsNote { get; init; } = "";

    public IReadOnlyList<string> OptionKeys => Options.Select(o => o.Key).ToList();
}

/// <summary>The table of providers: the one place to add a provider, an option or a secret variable.</summary>
/// <summary>The providers a definition's target may name (and <c>admit --provider</c> accepts).</summary>
public static class ProviderNames
{
    public static IReadOnlyList<string> All { get; } = ["local", "aws", "azure", "gcp"];
}

internal static class ProviderCatalog
{
    // Before All: static initializers run in text order, and Local() reads these.
    // The local disk's layouts and the smallest disk_size each takes (docs/local-target.md, "Disk layouts"): single is
    // the ESP and a root filesystem; cis adds /tmp, /var, /var/log, /var/log/audit and /home (1 GiB of them with the
    // ESP) and leaves the root filesystem the rest.
    private static readonly Dictionary<string, int> DiskLayoutMinimum = new(StringComparer.Ordinal)
    {
        ["single"] = 1024,
        ["cis"] = 2048,
    };

    private static readonly string[] DiskFormats = ["raw", "vhd", "tar-gz"];

    public static IReadOnlyList<ProviderRules> All { get; } = [Local(), Aws(), Azure(), Gcp()];

    public static ProviderRules? Find(string name) => All.FirstOrDefault(p => p.Name == name);

    private static ProviderRules Local() =>
        new()
        {
            Name = "local",
            HasRegions = false,
            BaseImageExpectation =
                "a Debian suite: " + string.Join(" or ", OsCatalog.DebianSuiteNames),
            CheckBaseImage = (baseImage, os) =>
            {
                var release = OsCatalog.DebianReleaseOf(baseImage);
                if (release is null)
                {
                    return MappingReader.UnknownMessage(
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
            ],
            CrossCheck = (_, options) => CheckDiskFitsLayout(options),
            SecretVariables = ["mirror_auth"],
        };

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
        int.TryParse(
            value,
            System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture,
            out var seconds
        ) && seconds is >= 30 and <= 3600
            ? OptionValue.Ok(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : OptionValue.Refused($"expected a number of seconds from 30 to 3600, found '{value}'");

    private static ProviderRules Aws() =>
        new()
        {
            Name = "aws",
            HasRegions = true,
            RegionPattern = Patterns.AwsRegion(),
            RegionExample = "eu-west-1",
            BaseImageExpectation =
                "an AMI id (ami- and 8 or 17 hex digits) or an AMI name filter such as debian-11-amd64-*",
            CheckBaseImage = (baseImage, _) =>
            {
                if (Patterns.AmiId().IsMatch(baseImage))
                {
                    return null;
                }
                if (Patterns.LooksLikeAmiId().IsMatch(baseImage))
                {
                    return $"'{baseImage}' is not a valid AMI id: expected ami- followed by 8 or 17 lowercase hex digits";
                }
                return Patterns.AmiNameFilter().IsMatch(baseImage)
                    ? null
                    : $"expected an AMI id or an AMI name filter (3 to 128 of letters, digits, ( ) [ ] . / - ' @ _ space and the wildcards * ?), found '{baseImage}'";
            },
            Options =
            [
                OptionRule.Matching(
                    "instance_type",
                    Patterns.AwsInstanceType(),
                    "an EC2 instance type such as t3.small",
                    _ => "t3.small"
                ),
                OptionRule.Matching(
                    "subnet_id",
                    Patterns.AwsSubnet(),
                    "a subnet id such as subnet-0123456789abcdef0"
                ),
                OptionRule.Matching(
                    "ssh_username",
                    Patterns.UnixUser(),
                    "a Unix user name such as admin",
                    os =>
                        os?.Family switch
                        {
                            "debian" => "admin",
                            "ubuntu" => "ubuntu",
                            "rhel" => "ec2-user",
                            _ => null,
                        }
                ),
                new OptionRule("ami_users", CheckAccountList),
                OptionRule.Boolean("encrypt", true),
                OptionRule.Matching(
                    "source_ami_owner",
                    Patterns.AwsImageOwner(),
                    "the 12-digit AWS account id that publishes the base AMI (e.g. 136693071363 for Debian), or amazon, aws-marketplace, self"
                ),
            ],
            CrossCheck = (baseImage, options) =>
                !Patterns.AmiId().IsMatch(baseImage) && !options.ContainsKey("source_ami_owner")
                    ?
                    [
                        (
                            "base_image",
                            "an AMI name filter needs options.source_ami_owner (the account that publishes the image, e.g. 136693071363 for Debian) so that no one else's AMI with a matching name is picked"
                        ),
                    ]
                    : [],
            SecretVariables = [],
            NoSecretsNote = "it reads credentials from the standard AWS environment and profiles",
        };

    private static ProviderRules Azure() =>
        new()
        {
            Name = "azure",
            HasRegions = true,
            RegionPattern = Patterns.AzureRegion(),
            RegionExample = "westeurope",
            BaseImageExpectation =
                "a marketplace image URN publisher:offer:sku:version, e.g. Debian:debian-11:11-gen2:latest",
            CheckBaseImage = (baseImage, _) =>
            {
                var parts = baseImage.Split(':');
                var valid =
                    parts.Length == 4
                    && parts.Take(3).All(p => Patterns.AzureUrnPart().IsMatch(p))
                    && Patterns.AzureImageVersion().IsMatch(parts[3]);
                return valid
                    ? null
                    : $"expected a marketplace image URN publisher:offer:sku:version (version 'latest' or like 0.20240101.1598), e.g. Debian:debian-11:11-gen2:latest, found '{baseImage}'";
            },
            Options =
            [
                OptionRule.Guid("subscription_id"),
                OptionRule.Guid("tenant_id"),
                OptionRule.Guid("client_id"),
                OptionRule.Matching(
                    "resource_group",
                    Patterns.AzureResourceGroup(),
                    "a resource group name (1 to 90 of letters, digits, - _ . ( ), not ending with '.')"
                ),
                OptionRule.Matching(
                    "gallery",
                    Patterns.AzureGallery(),
                    "a compute gallery name (letters, digits, '.', '_'; up to 80 characters)"
                ),
                OptionRule.Matching(
                    "image_definition",
                    Patterns.AzureImageDefinition(),
                    "a gallery image definition name (letters, digits, '.', '_', '-'; up to 80 characters)"
                ),
                OptionRule.Matching(
                    "vm_size",
                    Patterns.AzureVmSize(),
                    "a VM size such as Standard_B2s",
                    _ => "Standard_B2s"
                ),
            ],
            SecretVariables = ["client_secret"],
        };

    private static ProviderRules Gcp() =>
        new()
        {
            Name = "gcp",
            HasRegions = true,
            RegionPattern = Patterns.GcpRegion(),
            RegionExample = "europe-west1",
            BaseImageExpectation = "an image family such as debian-11, or an image name",
            CheckBaseImage = (baseImage, _) =>
                Patterns.GcpName().IsMatch(baseImage)
                    ? null
                    : $"expected an image family or image name (lowercase letters, digits and '-', starting with a letter, up to 63 characters), e.g. debian-11, found '{baseImage}'",
            Options =
            [
                OptionRule.Matching(
                    "project_id",
                    Patterns.GcpProject(),
                    "a project id (6 to 30 lowercase letters, digits and '-', starting with a letter)"
                ),
                OptionRule.Matching("zone", Patterns.GcpZone(), "a zone such as europe-west1-b"),
                OptionRule.Matching(
                    "machine_type",
                    Patterns.GcpMachineType(),
                    "a machine type such as e2-medium",
                    _ => "e2-medium"
                ),
                OptionRule.Matching(
                    "network",
                    Patterns.GcpName(),
                    "a VPC network name",
                    _ => "default"
                ),
                OptionRule.Matching(
                    "source_image_project_id",
                    Patterns.GcpProject(),
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

    private static OptionValue CheckDiskSize(string value)
    {
        const string Expectation = "a size in M or G, e.g. 1G or 1536M, from 256M to 2048G";
        return DiskSizeMebibytes(value) is >= 256 and <= 2048L * 1024
            ? OptionValue.Ok(value)
            : OptionValue.Refused($"expected {Expectation}, found '{value}'");
    }

    private static long? DiskSizeMebibytes(string value)
    {
        var match = Patterns.DiskSize().Match(value);
        if (!match.Success)
        {
            return null;
        }
        var mebibytes = long.Parse(
            match.Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture
        );
        return match.Groups[2].Value == "G" ? mebibytes * 1024 : mebibytes;
    }

    private static OptionValue CheckAccountList(string value)
    {
        var accounts = value.Split(',', StringSplitOptions.TrimEntries);
        var bad = accounts.Where(a => !Patterns.AwsAccount().IsMatch(a)).ToList();
        if (bad.Count > 0)
        {
            return OptionValue.Refused(
                $"expected a comma-separated list of 12-digit AWS account ids, e.g. 123456789012,210987654321; not an account id: '{string.Join("', '", bad)}'"
            );
        }
        var repeated = accounts
            .GroupBy(a => a, StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .Select(g => g.Key);
        var repeatedList = string.Join(", ", repeated);
        return repeatedList.Length > 0
            ? OptionValue.Refused($"account {repeatedList} is listed twice; list each account once")
            : OptionValue.Ok(string.Join(',', accounts));
    }
}
