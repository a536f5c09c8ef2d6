using ImageForge.Core.Vulnerabilities;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Vulnerabilities;

public sealed class SuppressionSpecs
{
    private static Finding Finding(string advisory, string package, params string[] aliases) =>
        new(
            advisory,
            aliases,
            package,
            "glibc",
            "2.31-13+deb11u5",
            "2.31-13+deb11u7",
            Severity.High,
            null,
            null,
            "osv",
            null
        );

    [Fact]
    public void A_suppression_covers_the_advisory_or_an_alias_in_the_binary_or_source_package_until_its_expiry_day()
    {
        // Arrange
        var today = new DateOnly(2026, 4, 11);
        var suppressions = new[]
        {
            new Suppression(
                "CVE-2023-4911",
                "glibc",
                SuppressionStatus.NotAffected,
                "no setuid binaries",
                today
            ),
            new Suppression(
                "CVE-2020-1",
                "libc6",
                SuppressionStatus.Accepted,
                "accepted until the next point release",
                today.AddDays(-1)
            ),
        };
        var findings = new[]
        {
            Finding("DSA-5514-1", "libc6", "CVE-2023-4911"),
            Finding("CVE-2020-1", "libc6"),
            Finding("CVE-2020-2", "libc6"),
        };

        // Act
        var (active, suppressed, expired) = SuppressionFilter.Apply(findings, suppressions, today);

        // Assert
        suppressed.Single().Finding.Advisory.ShouldBe("DSA-5514-1");
        suppressed.Single().By.StatusName.ShouldBe("not_affected");
        active.Select(f => f.Advisory).ShouldBe(["CVE-2020-1", "CVE-2020-2"]);
        expired.Single().Advisory.ShouldBe("CVE-2020-1");
    }
}
