using ImageForge.Core.Definitions;

namespace ImageForge.Providers.Aws;

/// <summary>What the AWS code reads from one target's options (already checked by <see cref="AwsRules"/>).</summary>
internal sealed record AwsTarget(
    string HomeRegion,
    IReadOnlyList<string> Regions,
    string? Bucket,
    string? RoleArn,
    bool Encrypt,
    IReadOnlyDictionary<string, string> KmsKeys,
    long PartSize
)
{
    public const long MiB = 1024 * 1024;

    public static AwsTarget Of(TargetSpec target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new AwsTarget(
            target.Regions[0],
            target.Regions,
            target.Option("import_bucket"),
            target.Option("role_arn"),
            target.Option("encrypt") != "false",
            AwsRules.KmsKeys(target.Option("region_kms_key_ids")),
            long.Parse(
                target.Option("upload_part_mib") ?? "64",
                System.Globalization.CultureInfo.InvariantCulture
            ) * MiB
        );
    }

    /// <summary>The KMS key a region's copy is encrypted with, or null for the account's default EBS key.</summary>
    public string? KmsKey(string region) => KmsKeys.GetValueOrDefault(region);

    /// <summary>The regions the home region's image is copied to.</summary>
    public IEnumerable<string> CopyRegions => Regions.Skip(1);
}
