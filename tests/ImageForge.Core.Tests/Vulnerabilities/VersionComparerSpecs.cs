using ImageForge.Core.Vulnerabilities;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Debian;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Vulnerabilities;

public sealed class VersionComparerSpecs
{
    [Theory]
    [InlineData("1.0", "1.0", 0)]
    [InlineData("1.0", "1.0-0", 0)]
    [InlineData("0:1.0", "1.0", 0)]
    [InlineData("1:0.1", "2.0", 1)]
    [InlineData("1.0~rc1", "1.0", -1)]
    [InlineData("1.0~~", "1.0~", -1)]
    [InlineData("1.0~", "1.0", -1)]
    [InlineData("1.0", "1.0a", -1)]
    [InlineData("1.0a", "1.0+", -1)]
    [InlineData("1.0.1", "1.0a", 1)]
    [InlineData("1.2.10", "1.2.9", 1)]
    [InlineData("007", "7", 0)]
    [InlineData("1:8.4p1-5+deb11u1", "1:8.4p1-5+deb11u3", -1)]
    [InlineData("2.31-13+deb11u5", "2.31-13+deb11u11", -1)]
    [InlineData("1.1.1n-0+deb11u4", "1.1.1w-0+deb11u1", -1)]
    [InlineData("5.0-4", "5.0-4+b1", -1)]
    [InlineData("1.0-1", "1.0-1~bpo1", 1)]
    public void The_Debian_comparator_orders_versions_as_dpkg_does(string a, string b, int expected)
    {
        Math.Sign(DebianVersionComparer.Instance.Compare(a, b)).ShouldBe(expected);
        Math.Sign(DebianVersionComparer.Instance.Compare(b, a)).ShouldBe(-expected);
    }

    [Theory]
    [InlineData("1.0", "1.0", 0)]
    [InlineData("1.0", "2.0", -1)]
    [InlineData("2.0.1", "2.0", 1)]
    [InlineData("2.0", "2.0a", -1)]
    [InlineData("1.0a", "1.0b", -1)]
    [InlineData("1.0~rc1", "1.0", -1)]
    [InlineData("1.0^git1", "1.0", 1)]
    [InlineData("1.0^git1", "1.0.1", -1)]
    [InlineData("1.0~rc1^git1", "1.0~rc1", 1)]
    [InlineData("10", "9", 1)]
    [InlineData("010", "10", 0)]
    [InlineData("1.0.a", "1.0.1", -1)]
    [InlineData("1_0", "1.0", 0)]
    [InlineData("1:1.0-1", "2.0-1", 1)]
    [InlineData("3.79.0-17.el9_1", "3.79.0-18.el9_1", -1)]
    [InlineData("3.79.0-17.el9_1", "3.79.0-17.el9_10", -1)]
    [InlineData("1.0-1.el9", "1.0", 0)]
    public void The_RPM_comparator_follows_rpmvercmp(string a, string b, int expected)
    {
        RpmVersionComparer.Instance.Compare(a, b).ShouldBe(expected);
        RpmVersionComparer.Instance.Compare(b, a).ShouldBe(-expected);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_Debian_comparator_agrees_with_dpkg_on_thousands_of_generated_pairs()
    {
        // Arrange: epochs, tildes, letters, plus signs, leading zeros, with and without revisions.
        var random = new Random(20260411);
        var pairs = new List<(string A, string B)>();
        for (var i = 0; i < 3000; i++)
        {
            var a = GenerateDebianVersion(random);
            // Every third pair is a small mutation of the first, so near-equal versions are well covered.
            var b = i % 3 == 0 ? Mutate(a, random) : GenerateDebianVersion(random);
            pairs.Add((a, b));
        }
        using var scratch = new TempDirectory("imageforge-dpkg");
        var dpkg = new DpkgTool(new ProcessRunner(TimeProvider.System), scratch.Path);

        // Act
        var expected = await dpkg.CompareVersionsAsync(pairs);

        // Assert
        var disagreements = pairs
            .Select(
                (p, i) =>
                    (
                        p,
                        dpkg: expected[i],
                        ours: Math.Sign(DebianVersionComparer.Instance.Compare(p.A, p.B))
                    )
            )
            .Where(x => x.dpkg != x.ours)
            .Select(x => $"{x.p.A} vs {x.p.B}: dpkg {x.dpkg}, ours {x.ours}")
            .ToList();
        disagreements.ShouldBeEmpty();
        expected.Distinct().Count().ShouldBe(3);
    }

    private static string GenerateDebianVersion(Random r)
    {
        const string upstreamChars = "0123456789abcxyzABZ.+~";
        const string revisionChars = "0123456789abdeu.+~";
        var epoch = r.Next(5) == 0 ? $"{r.Next(3)}:" : "";
        var upstream = r.Next(10).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var length = r.Next(0, 7);
        for (var i = 0; i < length; i++)
        {
            upstream += upstreamChars[r.Next(upstreamChars.Length)];
        }
        if (r.Next(3) == 0)
        {
            return epoch + upstream;
        }
        // A hyphen in upstream is allowed when there is a revision.
        if (r.Next(6) == 0)
        {
            upstream += "-" + r.Next(10);
        }
        var revision = "";
        var revLength = r.Next(1, 6);
        for (var i = 0; i < revLength; i++)
        {
            revision += revisionChars[r.Next(revisionChars.Length)];
        }
        if (!char.IsAsciiLetterOrDigit(revision[0]))
        {
            revision = r.Next(10) + revision;
        }
        return $"{epoch}{upstream}-{revision}";
    }

    private static string Mutate(string v, Random r)
    {
        return r.Next(5) switch
        {
            0 => v + "~",
            1 => v + "+b1",
            2 => v.Contains(':', StringComparison.Ordinal)
                ? v[(v.IndexOf(':', StringComparison.Ordinal) + 1)..]
                : "0:" + v,
            3 => v.Replace("0", "00", StringComparison.Ordinal),
            _ => v + "a",
        };
    }
}
