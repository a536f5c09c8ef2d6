using System.Text.RegularExpressions;
using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;

namespace ImageForge.Providers.Aws;

/// <summary>What an AWS target accepts: base image, regions, options with their defaults, secrets.</summary>
internal static partial class AwsRules
{
    public static ProviderRules Create() =>
        new()
        {
            Name = AwsProvider.ProviderName,
            HasRegions = true,
            RegionPattern = AwsRegion(),
            RegionExample = "eu-west-1",
            BaseImageExpectation =
                "an AMI id (ami- and 8 or 17 hex digits) or an AMI name filter such as debian-11-amd64-*",
            CheckBaseImage = (baseImage, _) =>
            {
                if (AmiId().IsMatch(baseImage))
                {
                    return null;
                }
                if (LooksLikeAmiId().IsMatch(baseImage))
                {
                    return $"'{baseImage}' is not a valid AMI id: expected ami- followed by 8 or 17 lowercase hex digits";
                }
                return AmiNameFilter().IsMatch(baseImage)
                    ? null
                    : $"expected an AMI id or an AMI name filter (3 to 128 of letters, digits, ( ) [ ] . / - ' @ _ space and the wildcards * ?), found '{baseImage}'";
            },
            Options =
            [
                OptionRule.Matching(
                    "instance_type",
                    AwsInstanceType(),
                    "an EC2 instance type such as t3.small",
                    _ => "t3.small"
                ),
                OptionRule.Matching(
                    "subnet_id",
                    AwsSubnet(),
                    "a subnet id such as subnet-0123456789abcdef0"
                ),
                OptionRule.Matching(
                    "ssh_username",
                    UnixUser(),
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
                    "import_bucket",
                    S3Bucket(),
                    "an S3 bucket name (3 to 63 of lowercase letters, digits, '.' and '-') in the first region, where the disk is uploaded for ImportSnapshot"
                ),
                OptionRule.Matching(
                    "role_arn",
                    RoleArn(),
                    "an IAM role ARN such as arn:aws:iam::123456789012:role/imageforge, assumed through STS on top of the default credentials"
                ),
                new OptionRule("region_kms_key_ids", CheckKmsKeys),
                new OptionRule("upload_part_mib", CheckPartSize, _ => "64"),
                OptionRule.Matching(
                    "ssh_port",
                    TcpPort(),
                    "the TCP port (1 to 65535) the source AMI's sshd listens on, for build: native",
                    _ => "22"
                ),
                OptionRule.Matching(
                    "source_ami_owner",
                    AwsImageOwner(),
                    "the 12-digit AWS account id that publishes the base AMI (e.g. 136693071363 for Debian), or amazon, aws-marketplace, self"
                ),
            ],
            CrossCheck = (baseImage, options) =>
                !AmiId().IsMatch(baseImage) && !options.ContainsKey("source_ami_owner")
                    ?
                    [
                        (
                            "base_image",
                            "an AMI name filter needs options.source_ami_owner (the account that publishes the image, e.g. 136693071363 for Debian) so that no one else's AMI with a matching name is picked"
                        ),
                    ]
                    : [],
            TargetCheck = CheckTarget,
            // Native first (the default) while no shipped provider declares that it builds disks: an import target needs
            // one in its definition. Swap the two once the local provider does (docs/aws.md).
            BuildModes = [BuildMode.Native, BuildMode.Import],
            GuestAgent = (_, _) =>
                (
                    null,
                    "Debian packages no AWS guest agent (amazon-ssm-agent is not in the Debian archive); remove "
                        + "guest_agent: cloud-init provisions EC2 instances from the disk's Ec2 datasource"
                ),
            ChannelOptions =
            [
                new OptionRule("ami_users", CheckAccountList),
                new OptionRule("ami_org_arns", CheckOrganizationList),
            ],
            SecretVariables = [],
            NoSecretsNote = "it reads credentials from the standard AWS environment and profiles",
        };

    // What only the whole target shows: keys for regions it does not publish to, and sharing an AMI encrypted with the
    // default EBS key, which no other account can use (Packer refuses that at build time; this refuses it now).
    private static IEnumerable<(string Field, string Message)> CheckTarget(TargetSpec target)
    {
        var keys = KmsKeys(target.Option("region_kms_key_ids"));
        var stray = keys
            .Keys.Where(r => !target.Regions.Contains(r, StringComparer.Ordinal))
            .ToList();
        if (stray.Count > 0)
        {
            yield return (
                "options",
                $"region_kms_key_ids names a key for {string.Join(", ", stray)}, which is not among the target's regions ({string.Join(", ", target.Regions)}); add the region to regions or remove its key"
            );
        }

        var shared =
            target.Option("ami_users") is { Length: > 0 }
            || target.Channels.Values.Any(c =>
                c.ContainsKey("ami_users") || c.ContainsKey("ami_org_arns")
            );
        var unkeyed = target.Regions.Where(r => !keys.ContainsKey(r)).ToList();
        if (target.Option("encrypt") == "true" && shared && unkeyed.Count > 0)
        {
            yield return (
                "options",
                $"encrypt: true with shared AMIs (ami_users, or ami_users/ami_org_arns of a channel) needs a customer-managed KMS key in region_kms_key_ids for every region, since the default EBS key cannot be shared; no key for {string.Join(", ", unkeyed)}"
            );
        }
    }

    /// <summary>The KMS key per region of <c>region_kms_key_ids</c> (<c>region=key,region=key</c>).</summary>
    public static IReadOnlyDictionary<string, string> KmsKeys(string? value) =>
        (value ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);

    private static OptionValue CheckKmsKeys(string value)
    {
        var pairs = value.Split(
            ',',
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries
        );
        var regions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !AwsRegion().IsMatch(parts[0]) || !KmsKey().IsMatch(parts[1]))
            {
                return OptionValue.Refused(
                    $"expected region=key pairs separated by commas, each key a KMS key id, alias/NAME or key ARN, e.g. eu-west-1=alias/images,us-east-1=arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-...; not one: '{pair}'"
                );
            }

            if (!regions.Add(parts[0]))
            {
                return OptionValue.Refused(
                    $"region {parts[0]} has two KMS keys; give each region one"
                );
            }
        }

        return pairs.Length == 0
            ? OptionValue.Refused("expected at least one region=key pair")
            : OptionValue.Ok(
                string.Join(
                    ',',
                    pairs.Select(p =>
                        string.Join('=', p.Split('=', 2, StringSplitOptions.TrimEntries))
                    )
                )
            );
    }

    private static OptionValue CheckPartSize(string value) =>
        int.TryParse(
            value,
            System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture,
            out var mib
        ) && mib is >= 5 and <= 5120
            ? OptionValue.Ok(mib.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : OptionValue.Refused(
                $"expected a part size in MiB from 5 to 5120 (S3's multipart limits), found '{value}'"
            );

    private static OptionValue CheckOrganizationList(string value)
    {
        var arns = value.Split(',', StringSplitOptions.TrimEntries);
        var bad = arns.Where(a => !OrganizationArn().IsMatch(a)).ToList();
        return bad.Count > 0
            ? OptionValue.Refused(
                $"expected a comma-separated list of organization ARNs such as arn:aws:organizations::123456789012:organization/o-abcd1234ef; not one: '{string.Join("', '", bad)}'"
            )
            : OptionValue.Ok(string.Join(',', arns));
    }

    private static OptionValue CheckAccountList(string value)
    {
        var accounts = value.Split(',', StringSplitOptions.TrimEntries);
        var bad = accounts.Where(a => !AwsAccount().IsMatch(a)).ToList();
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

    [GeneratedRegex(@"^ami-[0-9a-f]{8,17}$", RegexOptions.CultureInvariant)]
    internal static partial Regex AmiId();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex S3Bucket();

    [GeneratedRegex(
        @"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex RoleArn();

    /// <summary>A KMS key id (uuid or mrk-), an alias, or a key/alias ARN.</summary>
    [GeneratedRegex(
        @"^([0-9a-f-]{36}|mrk-[0-9a-f]{32}|alias/[A-Za-z0-9/_-]{1,250}|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[0-9a-f-]{36}|key/mrk-[0-9a-f]{32}|alias/[A-Za-z0-9/_-]{1,250}))$",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex KmsKey();

    /// <summary>AWS image names: 3 to 128 of letters, digits, ( ) [ ] space . / - ' @ _, plus the filter wildcards * and ?.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9()\[\] ./'@_*?-]{3,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex AmiNameFilter();

    [GeneratedRegex(
        @"^arn:aws[a-z-]*:organizations::[0-9]{12}:organization/o-[a-z0-9]{10,32}$",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex OrganizationArn();

    [GeneratedRegex(@"^[0-9]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex AwsAccount();

    [GeneratedRegex(@"^([0-9]{12}|amazon|aws-marketplace|self)$", RegexOptions.CultureInvariant)]
    private static partial Regex AwsImageOwner();

    [GeneratedRegex(@"^[a-z][a-z0-9-]*\.[a-z0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex AwsInstanceType();

    /// <summary>The regions of AWS's partitions (aws, aws-cn, aws-us-gov) as of 2026.</summary>
    [GeneratedRegex(
        @"^(us-(east|west)-[12]|af-south-1|ap-east-[12]|ap-south-[12]|ap-southeast-[1-7]|ap-northeast-[123]|ca-central-1|ca-west-1|eu-central-[12]|eu-west-[123]|eu-south-[12]|eu-north-1|il-central-1|me-south-1|me-central-1|mx-central-1|sa-east-1|us-gov-(east|west)-1|cn-north-1|cn-northwest-1)$",
        RegexOptions.CultureInvariant
    )]
    internal static partial Regex AwsRegion();

    [GeneratedRegex(@"^subnet-[0-9a-f]{8,17}$", RegexOptions.CultureInvariant)]
    private static partial Regex AwsSubnet();

    [GeneratedRegex(@"^ami-[0-9A-Za-z]*$", RegexOptions.CultureInvariant)]
    private static partial Regex LooksLikeAmiId();

    [GeneratedRegex(
        @"^([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex TcpPort();

    [GeneratedRegex(@"^[a-z_][a-z0-9_-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex UnixUser();
}
