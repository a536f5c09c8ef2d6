using System.Security.Cryptography;
using System.Text.RegularExpressions;
using ImageForge.Dashboard.Common;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Dashboard.Tests;

public sealed partial class DashboardAssetSpecs
{
    private static readonly string AssetsDirectory = Path.Combine(
        RepoPaths.Root,
        "src",
        "ImageForge.Dashboard",
        "Assets"
    );

    [Fact]
    public void The_vendored_htmx_has_the_sha256_its_SOURCE_md_records_and_is_served_unchanged()
    {
        var source = File.ReadAllText(Path.Combine(AssetsDirectory, "SOURCE.md"));
        var recorded = Sha256Row().Match(source);
        using var embedded = Assets.Open(Assets.Htmx);

        recorded.Success.ShouldBeTrue("SOURCE.md lost its sha256 row");
        Hex(File.ReadAllBytes(Path.Combine(AssetsDirectory, Assets.Htmx)))
            .ShouldBe(recorded.Groups[1].Value);
        Hex(SHA256.HashData(embedded))
            .ShouldBe(recorded.Groups[1].Value, "the embedded copy differs");
        source.ShouldContain("https://registry.npmjs.org/htmx.org/-/htmx.org-4.0.1.tgz");
    }

    private static string Hex(byte[] bytes) =>
        bytes.Length == 32
            ? Convert.ToHexStringLower(bytes)
            : Convert.ToHexStringLower(SHA256.HashData(bytes));

    [GeneratedRegex(@"sha256 of `htmx\.min\.js` \| `([0-9a-f]{64})`")]
    private static partial Regex Sha256Row();
}
