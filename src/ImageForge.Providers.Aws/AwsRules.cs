using System.Text.RegularExpressions;
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
            SecretVariables = [],
            NoSecretsNote = "it reads credentials from the standard AWS environment and profiles",
        };

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
    private static partial Regex AmiId();

    /// <summary>AWS image names: 3 to 128 of letters, digits, ( ) [ ] space . / - ' @ _, plus the filter wildcards * and ?.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9()\[\] ./'@_*?-]{3,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex AmiNameFilter();

    [GeneratedRegex(@"^[0-9]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex AwsAccount();

    [GeneratedRegex(@"^([0-9]{12}|amazon|aws-marketplace|self)$", RegexOptions.CultureInvariant)]
    private static partial Regex AwsImageOwner();

    [GeneratedRegex(@"^[a-z][a-z0-9-]*\.[a-z0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex AwsInstanceType();

    [GeneratedRegex(@"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$", RegexOptions.CultureInvariant)]
    private static partial Regex AwsRegion();

    [GeneratedRegex(@"^subnet-[0-9a-f]{8,17}$", RegexOptions.CultureInvariant)]
    private static partial Regex AwsSubnet();

    [GeneratedRegex(@"^ami-[0-9A-Za-z]*$", RegexOptions.CultureInvariant)]
    private static partial Regex LooksLikeAmiId();

    [GeneratedRegex(@"^[a-z_][a-z0-9_-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex UnixUser();
}
