using ImageForge.Core.Compliance;
using ImageForge.Core.Gates;
using ImageForge.Core.Vulnerabilities;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Gates;

/// <summary>Each gate kind passing, warning and failing, with the reason text users read.</summary>
public sealed class GateSpecs
{
    private static readonly DateTimeOffset At = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private const string RootLogin = "xccdf_org.ssgproject.content_rule_sshd_disable_root_login";

    private static readonly GateEvidence Clean = new()
    {
        Compliance = new ComplianceFacts(
            79.1,
            new Dictionary<string, RuleOutcome> { [RootLogin] = RuleOutcome.Pass }
        ),
        Findings = [],
        Packages = new Dictionary<string, string> { ["openssh-server"] = "1:8.4p1-5+deb11u3" },
        ArtifactSizes = new Dictionary<string, long> { ["disk-raw"] = 1L << 30 },
        EvidenceKinds = ["compliance-summary", "sbom-cyclonedx"],
        BaseImage = "bullseye",
    };

    private static GateReason Single(GatePolicy policy, GateEvidence evidence, GateOutcome decision)
    {
        var result = GateEvaluator.Evaluate("debian-11-anssi", policy, evidence, At);
        result.Decision.ShouldBe(decision, string.Join("\n", result.Reasons));
        return result.Reasons.ShouldHaveSingleItem();
    }

    private static string Text(GatePolicy policy, GateEvidence evidence, GateOutcome decision) =>
        Single(policy, evidence, decision).ToString();

    private static GatePolicy Vulns(GateViolation on, bool onlyFixable = false) =>
        new()
        {
            Vulnerabilities = new VulnerabilityGate(
                new Dictionary<Severity, int> { [Severity.High] = 0 },
                onlyFixable,
                on
            ),
        };

    private static readonly GateEvidence WithHigh = Clean with
    {
        Findings =
        [
            new GateFinding("CVE-2023-0286", "libssl1.1", Severity.High, "1.1.1n-0+deb11u4", false),
            new GateFinding("CVE-2022-0563", "util-linux", Severity.High, null, false),
            new GateFinding("CVE-2023-4911", "libc6", Severity.High, "2.31-13+deb11u7", true),
        ],
    };

    [Fact]
    public void The_vulnerability_gate_passes_when_no_finding_exceeds_a_threshold() =>
        Text(Vulns(GateViolation.Fail), Clean, GateOutcome.Pass)
            .ShouldBe("pass vulnerabilities: max high findings: expected at most 0, found 0");

    [Fact]
    public void The_vulnerability_gate_fails_naming_the_findings_and_leaves_suppressed_ones_out() =>
        Text(Vulns(GateViolation.Fail), WithHigh, GateOutcome.Fail)
            .ShouldBe(
                "fail vulnerabilities: max high findings: expected at most 0, found 2 (CVE-2023-0286 in libssl1.1, CVE-2022-0563 in util-linux); not counted: 1 suppressed"
            );

    [Fact]
    public void The_vulnerability_gate_warns_and_counts_only_fixable_findings_when_asked() =>
        Text(Vulns(GateViolation.Warn, onlyFixable: true), WithHigh, GateOutcome.Warn)
            .ShouldBe(
                "warn vulnerabilities: max high findings with a fix: expected at most 0, found 1 (CVE-2023-0286 in libssl1.1); not counted: 1 suppressed, 1 without a fix"
            );

    [Fact]
    public void The_vulnerability_gate_fails_without_findings_evidence_even_when_it_only_warns() =>
        Text(Vulns(GateViolation.Warn), Clean with { Findings = null }, GateOutcome.Fail)
            .ShouldBe(
                "fail vulnerabilities: findings: expected evidence to check, found no vulnerability-findings evidence"
            );

    [Fact]
    public void A_failed_vulnerability_source_is_a_violation_not_a_clean_scan()
    {
        var result = GateEvaluator.Evaluate(
            "b",
            Vulns(GateViolation.Fail),
            Clean with
            {
                FailedSources = ["debian-security: mirror unreachable"],
            },
            At
        );
        result.Decision.ShouldBe(GateOutcome.Fail);
        result
            .Reasons[0]
            .ToString()
            .ShouldBe(
                "fail vulnerabilities: every source scanned: expected no failed source, found failed debian-security: mirror unreachable"
            );
    }

    private static GatePolicy Score(double min, GateViolation on) =>
        new() { Compliance = new ComplianceGate(min, [], on) };

    [Theory]
    [InlineData(
        75,
        GateViolation.Fail,
        GateOutcome.Pass,
        "pass compliance: min score after hardening: expected at least 75.0, found 79.1"
    )]
    [InlineData(
        80,
        GateViolation.Warn,
        GateOutcome.Warn,
        "warn compliance: min score after hardening: expected at least 80.0, found 79.1"
    )]
    [InlineData(
        80,
        GateViolation.Fail,
        GateOutcome.Fail,
        "fail compliance: min score after hardening: expected at least 80.0, found 79.1"
    )]
    public void The_compliance_score_gate_compares_the_score_after_hardening(
        double min,
        GateViolation on,
        GateOutcome outcome,
        string text
    ) => Text(Score(min, on), Clean, outcome).ShouldBe(text);

    [Theory]
    [InlineData(RuleOutcome.Pass, GateViolation.Fail, GateOutcome.Pass, "found pass")]
    [InlineData(RuleOutcome.Waived, GateViolation.Warn, GateOutcome.Warn, "found waived")]
    [InlineData(RuleOutcome.Fail, GateViolation.Fail, GateOutcome.Fail, "found fail")]
    public void A_required_rule_must_pass_and_a_waiver_does_not_count_as_passing(
        RuleOutcome rule,
        GateViolation on,
        GateOutcome outcome,
        string found
    )
    {
        var evidence = Clean with
        {
            Compliance = new ComplianceFacts(
                79.1,
                new Dictionary<string, RuleOutcome> { [RootLogin] = rule }
            ),
        };
        Text(new() { Compliance = new ComplianceGate(null, [RootLogin], on) }, evidence, outcome)
            .ShouldBe(
                $"{GateDecision.Name(outcome)} compliance: required rule {RootLogin}: expected pass, {found}"
            );
    }

    [Fact]
    public void A_required_rule_missing_from_the_results_fails_as_not_evaluated() =>
        Text(
                new()
                {
                    Compliance = new ComplianceGate(
                        null,
                        ["xccdf_x_rule_other"],
                        GateViolation.Warn
                    ),
                },
                Clean,
                GateOutcome.Warn
            )
            .ShouldEndWith("found not evaluated (not in the scan results)");

    [Fact]
    public void The_compliance_gate_fails_without_a_compliance_summary() =>
        Text(Score(60, GateViolation.Warn), Clean with { Compliance = null }, GateOutcome.Fail)
            .ShouldBe(
                "fail compliance: compliance after hardening: expected evidence to check, found no compliance-summary evidence"
            );

    [Theory]
    [InlineData(
        "openssh-server",
        GateViolation.Fail,
        GateOutcome.Fail,
        "fail packages: denied package openssh-server: expected not installed, found installed (1:8.4p1-5+deb11u3)"
    )]
    [InlineData(
        "openssh-server",
        GateViolation.Warn,
        GateOutcome.Warn,
        "warn packages: denied package openssh-server: expected not installed, found installed (1:8.4p1-5+deb11u3)"
    )]
    [InlineData(
        "telnetd",
        GateViolation.Fail,
        GateOutcome.Pass,
        "pass packages: denied package telnetd: expected not installed, found not installed"
    )]
    public void A_denied_package_must_not_be_installed(
        string package,
        GateViolation on,
        GateOutcome outcome,
        string text
    ) =>
        Text(new() { Packages = new PackageGate([package], [], on) }, Clean, outcome)
            .ShouldBe(text);

    [Theory]
    [InlineData(
        "openssh-server",
        GateViolation.Fail,
        GateOutcome.Pass,
        "pass packages: required package openssh-server: expected installed, found installed (1:8.4p1-5+deb11u3)"
    )]
    [InlineData(
        "auditd",
        GateViolation.Warn,
        GateOutcome.Warn,
        "warn packages: required package auditd: expected installed, found not installed"
    )]
    [InlineData(
        "auditd",
        GateViolation.Fail,
        GateOutcome.Fail,
        "fail packages: required package auditd: expected installed, found not installed"
    )]
    public void A_required_package_must_be_installed(
        string package,
        GateViolation on,
        GateOutcome outcome,
        string text
    ) =>
        Text(new() { Packages = new PackageGate([], [package], on) }, Clean, outcome)
            .ShouldBe(text);

    [Fact]
    public void The_package_gate_fails_without_an_inventory() =>
        Text(
                new() { Packages = new PackageGate(["telnetd"], [], GateViolation.Warn) },
                Clean with
                {
                    Packages = null,
                },
                GateOutcome.Fail
            )
            .ShouldEndWith("found no package-inventory evidence");

    [Theory]
    [InlineData(
        2L << 30,
        "2G",
        GateViolation.Fail,
        GateOutcome.Pass,
        "pass image_size: max size of disk-raw: expected at most 2G (2147483648 bytes), found 1.0 GiB (1073741824 bytes)"
    )]
    [InlineData(
        512L << 20,
        "512M",
        GateViolation.Warn,
        GateOutcome.Warn,
        "warn image_size: max size of disk-raw: expected at most 512M (536870912 bytes), found 1.0 GiB (1073741824 bytes)"
    )]
    [InlineData(
        512L << 20,
        "512M",
        GateViolation.Fail,
        GateOutcome.Fail,
        "fail image_size: max size of disk-raw: expected at most 512M (536870912 bytes), found 1.0 GiB (1073741824 bytes)"
    )]
    public void The_image_size_gate_limits_the_bytes_of_an_artifact(
        long max,
        string text,
        GateViolation on,
        GateOutcome outcome,
        string reason
    ) =>
        Text(new() { ImageSize = new ImageSizeGate("disk-raw", max, text, on) }, Clean, outcome)
            .ShouldBe(reason);

    [Fact]
    public void The_image_size_gate_fails_when_the_artifact_is_missing() =>
        Text(
                new()
                {
                    ImageSize = new ImageSizeGate("qcow2", 1L << 30, "1G", GateViolation.Warn),
                },
                Clean,
                GateOutcome.Fail
            )
            .ShouldBe(
                "fail image_size: max size of qcow2: expected evidence to check, found no qcow2 artifact evidence"
            );

    [Theory]
    [InlineData(
        "sbom-cyclonedx",
        GateViolation.Fail,
        GateOutcome.Pass,
        "pass evidence: evidence sbom-cyclonedx: expected present, found present"
    )]
    [InlineData(
        "sbom-spdx",
        GateViolation.Warn,
        GateOutcome.Warn,
        "warn evidence: evidence sbom-spdx: expected present, found no sbom-spdx evidence"
    )]
    [InlineData(
        "sbom-spdx",
        GateViolation.Fail,
        GateOutcome.Fail,
        "fail evidence: evidence sbom-spdx: expected present, found no sbom-spdx evidence"
    )]
    public void The_evidence_gate_requires_each_kind(
        string kind,
        GateViolation on,
        GateOutcome outcome,
        string text
    ) => Text(new() { Evidence = new EvidenceGate([kind], on) }, Clean, outcome).ShouldBe(text);

    [Fact]
    public void The_base_image_gate_passes_and_says_no_revocation_data_exists_yet() =>
        Text(new() { BaseImage = new BaseImageGate(GateViolation.Fail) }, Clean, GateOutcome.Pass)
            .ShouldBe(
                "pass base_image: base image bullseye not revoked: expected not revoked, found not revoked (revocation data is not available yet: ImageForge records no revocations)"
            );

    [Theory]
    [InlineData(GateViolation.Warn, GateOutcome.Warn)]
    [InlineData(GateViolation.Fail, GateOutcome.Fail)]
    public void The_base_image_gate_rejects_a_revoked_base_image(
        GateViolation on,
        GateOutcome outcome
    ) =>
        Text(
                new() { BaseImage = new BaseImageGate(on) },
                Clean with
                {
                    Revocation = new RevocationState(true, "revoked on 2025-05-30: CVE-2025-0001"),
                },
                outcome
            )
            .ShouldBe(
                $"{GateDecision.Name(outcome)} base_image: base image bullseye not revoked: expected not revoked, found revoked on 2025-05-30: CVE-2025-0001"
            );

    public static TheoryData<BootTestFacts?, GateViolation, GateOutcome, string> BootTests =>
        new()
        {
            {
                new BootTestFacts(true, "boot test passed: marker after 41.5 s", 41.5),
                GateViolation.Fail,
                GateOutcome.Pass,
                "pass boot_test: boot test passed: expected passed, found passed, marker after 41.5 s"
            },
            {
                new BootTestFacts(false, "boot test failed: no marker within 300 s", null),
                GateViolation.Fail,
                GateOutcome.Fail,
                "fail boot_test: boot test passed: expected passed, found boot test failed: no marker within 300 s"
            },
            {
                new BootTestFacts(
                    false,
                    "boot test failed: failed units: cloud-config.service",
                    52.0
                ),
                GateViolation.Warn,
                GateOutcome.Warn,
                "warn boot_test: boot test passed: expected passed, found boot test failed: failed units: cloud-config.service"
            },
            // No boot test (turned off, or a target without one) proves nothing: fail, even with on_violation warn.
            {
                null,
                GateViolation.Warn,
                GateOutcome.Fail,
                "fail boot_test: boot test passed: expected evidence to check, found no boot-test evidence"
            },
        };

    [Theory]
    [MemberData(nameof(BootTests))]
    public void The_boot_test_gate_passes_only_for_a_boot_test_that_passed(
        BootTestFacts? boot,
        GateViolation on,
        GateOutcome outcome,
        string reason
    ) =>
        Text(new() { BootTest = new BootTestGate(on) }, Clean with { BootTest = boot }, outcome)
            .ShouldBe(reason);

    [Fact]
    public async Task The_default_revocation_lookup_reports_not_revoked_and_why_it_cannot_know()
    {
        var state = await NoRevocationData.Instance.LookupAsync("local", "bullseye");
        state.Revoked.ShouldBeFalse();
        state.Detail.ShouldContain("revocation data is not available yet");
    }

    [Fact]
    public void A_decision_is_the_worst_reason_and_lists_passing_reasons_too()
    {
        var policy = new GatePolicy
        {
            Compliance = new ComplianceGate(75, [], GateViolation.Fail),
            Evidence = new EvidenceGate(["sbom-spdx"], GateViolation.Warn),
            Packages = new PackageGate([], ["auditd"], GateViolation.Fail),
        };

        var decision = GateEvaluator.Evaluate("debian-11-anssi", policy, Clean, At);

        decision.Decision.ShouldBe(GateOutcome.Fail);
        decision
            .Reasons.Select(r => r.Outcome)
            .ShouldBe([GateOutcome.Pass, GateOutcome.Fail, GateOutcome.Warn]);
        GateEvaluator.Evaluate("b", GatePolicy.None, Clean, At).Decision.ShouldBe(GateOutcome.Pass);
    }

    [Fact]
    public void The_decision_document_has_the_shape_the_promotion_code_reads()
    {
        var decision = GateEvaluator.Evaluate(
            "debian-11-anssi",
            Score(80, GateViolation.Warn),
            Clean,
            At
        );

        using var json = System.Text.Json.JsonDocument.Parse(decision.ToJson());

        var root = json.RootElement;
        root.GetProperty("decision").GetString().ShouldBe("warn");
        root.GetProperty("baseline").GetString().ShouldBe("debian-11-anssi");
        root.GetProperty("evaluated_at").GetDateTimeOffset().ShouldBe(At);
        var reason = root.GetProperty("reasons")[0];
        reason.GetProperty("gate").GetString().ShouldBe("compliance");
        reason.GetProperty("rule").GetString().ShouldBe("min score after hardening");
        reason.GetProperty("expected").GetString().ShouldBe("at least 80.0");
        reason.GetProperty("found").GetString().ShouldBe("79.1");
        reason.GetProperty("outcome").GetString().ShouldBe("warn");
    }

    [Theory]
    [InlineData("2G", 2L << 30)]
    [InlineData("1536M", 1536L << 20)]
    [InlineData("300k", 300L << 10)]
    [InlineData("4096", 4096L)]
    public void Sizes_accept_bytes_and_binary_units(string text, long bytes) =>
        Sizes.Parse(text).ShouldBe(bytes);

    [Theory]
    [InlineData("-1G")]
    [InlineData("2GB")]
    [InlineData("1.5G")]
    public void Sizes_refuse_anything_else(string text) => Sizes.Parse(text).ShouldBeNull();
}
