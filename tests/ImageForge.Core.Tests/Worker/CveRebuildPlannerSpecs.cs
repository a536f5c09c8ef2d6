using ImageForge.Core.Definitions;
using ImageForge.Core.Vulnerabilities;
using ImageForge.Core.Worker;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Worker;

public sealed class CveRebuildPlannerSpecs
{
    private static readonly DateOnly Today = new(2026, 3, 1);
    private static readonly RebuildPolicy High = new(Severity.High);

    private static Finding Finding(
        string advisory,
        Severity severity,
        string? fixedVersion = "1.2-3+deb11u1",
        string package = "libssl1.1",
        string source = "osv",
        params string[] aliases
    ) =>
        new(
            advisory,
            aliases,
            package,
            "openssl",
            "1.2-3",
            fixedVersion,
            severity,
            null,
            null,
            source,
            null
        );

    private static ScanResult Scan(params Finding[] findings) => new(findings, [], [], [], []);

    [Fact]
    public void Only_fixable_findings_at_or_above_the_severity_make_the_set()
    {
        var scan = Scan(
            Finding("DSA-5678-1", Severity.Critical),
            Finding("CVE-2026-1234", Severity.High),
            Finding("CVE-2026-0001", Severity.Medium),
            Finding("CVE-2026-0002", Severity.Critical, fixedVersion: null),
            Finding("CVE-2026-0003", Severity.High, fixedVersion: ""),
            Finding("CVE-2026-0004", Severity.Unknown)
        );

        var set = CveRebuildPlanner.AdvisorySet(scan, High);

        set.ShouldBe(["CVE-2026-1234", "DSA-5678-1"]);
    }

    [Theory]
    [InlineData(Severity.Critical, new[] { "CVE-C" })]
    [InlineData(Severity.High, new[] { "CVE-C", "CVE-H" })]
    [InlineData(Severity.Medium, new[] { "CVE-C", "CVE-H", "CVE-M" })]
    [InlineData(Severity.Low, new[] { "CVE-C", "CVE-H", "CVE-L", "CVE-M" })]
    public void The_threshold_is_inclusive_and_unrated_findings_never_reach_it(
        Severity minimum,
        string[] expected
    )
    {
        var scan = Scan(
            Finding("CVE-C", Severity.Critical),
            Finding("CVE-H", Severity.High),
            Finding("CVE-M", Severity.Medium),
            Finding("CVE-L", Severity.Low),
            Finding("CVE-N", Severity.Negligible),
            Finding("CVE-U", Severity.Unknown, source: "debian-security")
        );

        CveRebuildPlanner.AdvisorySet(scan, new RebuildPolicy(minimum)).ShouldBe(expected);
    }

    [Fact]
    public void A_baseline_without_a_rebuild_policy_gets_an_empty_set()
    {
        var scan = Scan(Finding("CVE-2026-1234", Severity.Critical));

        CveRebuildPlanner.AdvisorySet(scan, RebuildPolicy.None).ShouldBeEmpty();
    }

    [Fact]
    public void The_set_is_distinct_and_sorted_ordinally_whatever_the_order_of_findings()
    {
        var one = Scan(
            Finding("DSA-5678-1", Severity.High, package: "libssl1.1"),
            Finding("DSA-5678-1", Severity.High, package: "openssl"),
            Finding("CVE-2026-9", Severity.High, source: "trivy"),
            Finding("CVE-2026-10", Severity.High),
            Finding("cve-2026-11", Severity.High)
        );
        var other = Scan([.. one.Findings.Reverse()]);

        var set = CveRebuildPlanner.AdvisorySet(one, High);

        set.ShouldBe(["CVE-2026-10", "CVE-2026-9", "DSA-5678-1", "cve-2026-11"]);
        CveRebuildPlanner.AdvisorySet(other, High).ShouldBe(set);
    }

    [Fact]
    public void Findings_the_scanner_suppressed_are_not_in_the_set_of_its_result()
    {
        // The scanner moves suppressed findings out of Findings; the planner reads only Findings.
        var suppressed = Finding("CVE-2023-4911", Severity.High, package: "libc6");
        var by = new Suppression(
            "CVE-2023-4911",
            "libc6",
            SuppressionStatus.NotAffected,
            "no setuid binary reads GLIBC_TUNABLES",
            Today
        );
        var scan = new ScanResult(
            [Finding("CVE-2026-1234", Severity.High)],
            [new SuppressedFinding(suppressed, by)],
            [],
            [],
            []
        );

        CveRebuildPlanner.AdvisorySet(scan, High).ShouldBe(["CVE-2026-1234"]);
    }

    [Fact]
    public void Suppressions_in_force_apply_to_findings_that_did_not_go_through_the_scanner()
    {
        var findings = new[]
        {
            Finding("DSA-5514-1", Severity.High, package: "libc6", aliases: "CVE-2023-4911"),
            Finding("CVE-2026-1234", Severity.High),
            Finding("CVE-2026-5555", Severity.Critical, package: "curl"),
        };
        Suppression[] suppressions =
        [
            // An alias covers the DSA record; the package may be the source package.
            new("CVE-2023-4911", "libc6", SuppressionStatus.NotAffected, "not reachable", Today),
            new("CVE-2026-1234", "openssl", SuppressionStatus.Accepted, "accepted risk", Today),
            // Expired yesterday: no longer suppresses.
            new(
                "CVE-2026-5555",
                "curl",
                SuppressionStatus.Accepted,
                "accepted risk",
                Today.AddDays(-1)
            ),
        ];

        var set = CveRebuildPlanner.AdvisorySet(findings, High, suppressions, Today);

        set.ShouldBe(["CVE-2026-5555"]);
    }

    [Fact]
    public void The_reason_names_every_advisory_of_a_small_set()
    {
        CveRebuildPlanner
            .Reason(["CVE-2026-1234", "DSA-5678-1"])
            .ShouldBe("fixable advisories: CVE-2026-1234, DSA-5678-1");
    }

    [Fact]
    public void The_reason_of_a_large_set_names_the_first_twenty_and_counts_the_rest()
    {
        var set = Enumerable.Range(1000, 25).Select(n => $"CVE-2026-{n}").ToList();

        var reason = CveRebuildPlanner.Reason(set);

        reason.ShouldStartWith("fixable advisories: CVE-2026-1000, CVE-2026-1001, ");
        reason.ShouldContain("CVE-2026-1019 and 5 more (25 in all)");
        reason.ShouldNotContain("CVE-2026-1020");
        set.Count.ShouldBe(25, "the set itself is not truncated");
    }

    [Fact]
    public void The_reason_of_exactly_twenty_advisories_is_not_truncated()
    {
        var set = Enumerable.Range(1000, 20).Select(n => $"CVE-2026-{n}").ToList();

        CveRebuildPlanner.Reason(set).ShouldBe("fixable advisories: " + string.Join(", ", set));
    }

    [Fact]
    public void The_reason_of_an_empty_set_says_so()
    {
        CveRebuildPlanner.Reason([]).ShouldBe("no fixable advisories");
    }
}
