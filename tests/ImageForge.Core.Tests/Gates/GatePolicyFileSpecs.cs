using ImageForge.Core.Gates;
using ImageForge.Core.Tests.Definitions;
using ImageForge.Core.Vulnerabilities;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Gates;

/// <summary>The baseline's gates: section, read with file:line problems.</summary>
public sealed class GatePolicyFileSpecs : IDisposable
{
    private readonly ContentFixture _content = new(withBaseline: false);

    public void Dispose() => _content.Dispose();

    // ValidBaseline has 11 lines; "gates:" is line 12.
    private string WithGates(string gates) =>
        _content.Baseline(
            "debian-11-anssi.yaml",
            ContentFixture.ValidBaseline + "gates:\n" + gates
        );

    [Fact]
    public void Every_gate_kind_is_read_from_the_baseline()
    {
        // Arrange
        WithGates(
            """
              vulnerabilities: { max: { critical: 0, high: 2 }, only_fixable: true, on_violation: warn }
              compliance: { min_score: 72.5, required_rules: [xccdf_org.ssgproject.content_rule_sshd_disable_root_login] }
              packages: { denied: [telnetd], required: [openssh-server] }
              image_size: { artifact: disk-raw, max: 2G }
              evidence: { required: [compliance-summary, sbom-cyclonedx] }
              base_image: { not_revoked: true, on_violation: warn }
              boot_test: { passed: true }

            """
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveNoProblems();
        var gates = set.FindBaseline("debian-11-anssi").ShouldNotBeNull().Gates;
        gates
            .Vulnerabilities.ShouldNotBeNull()
            .Max.ShouldBe(
                new Dictionary<Severity, int> { [Severity.Critical] = 0, [Severity.High] = 2 }
            );
        gates.Vulnerabilities.OnlyFixable.ShouldBeTrue();
        gates.Vulnerabilities.OnViolation.ShouldBe(GateViolation.Warn);
        gates.Compliance.ShouldNotBeNull().MinScore.ShouldBe(72.5);
        gates.Compliance.OnViolation.ShouldBe(GateViolation.Fail);
        gates.Packages.ShouldNotBeNull().Denied.ShouldBe(["telnetd"]);
        gates.ImageSize.ShouldNotBeNull().MaxBytes.ShouldBe(2L << 30);
        gates
            .Evidence.ShouldNotBeNull()
            .Required.ShouldBe(["compliance-summary", "sbom-cyclonedx"]);
        gates.BaseImage.ShouldNotBeNull().OnViolation.ShouldBe(GateViolation.Warn);
        gates.BootTest.ShouldNotBeNull().OnViolation.ShouldBe(GateViolation.Fail);
    }

    [Fact]
    public void A_baseline_without_gates_has_none()
    {
        _content.Baseline("debian-11-anssi.yaml", ContentFixture.ValidBaseline);

        _content
            .Load()
            .FindBaseline("debian-11-anssi")
            .ShouldNotBeNull()
            .Gates.IsEmpty.ShouldBeTrue();
    }

    [Theory]
    [InlineData(
        "  vulnerabilites: { max: { critical: 0 } }\n",
        13,
        "gates.vulnerabilites",
        "unknown gate 'vulnerabilites'",
        "did you mean 'vulnerabilities'?"
    )]
    [InlineData(
        "  vulnerabilities:\n    max: { critical: -1 }\n",
        14,
        "gates.vulnerabilities.max.critical",
        "threshold below zero (-1)"
    )]
    [InlineData(
        "  vulnerabilities:\n    max: { critical: none }\n",
        14,
        "gates.vulnerabilities.max.critical",
        "expected a whole number of findings, 0 or more, found 'none'"
    )]
    [InlineData(
        "  vulnerabilities:\n    max: { severe: 0 }\n",
        14,
        "gates.vulnerabilities.max.severe",
        "unknown severity 'severe'"
    )]
    [InlineData(
        "  vulnerabilities:\n    max: 0\n",
        14,
        "gates.vulnerabilities.max",
        "expected a mapping of severity",
        "found a scalar"
    )]
    [InlineData(
        "  vulnerabilities:\n    max: { high: 0 }\n    only_fixable: yes\n",
        15,
        "gates.vulnerabilities.only_fixable",
        "expected true or false, found 'yes'"
    )]
    [InlineData(
        "  compliance:\n    min_score: -5\n",
        14,
        "gates.compliance.min_score",
        "threshold below zero ('-5')"
    )]
    [InlineData(
        "  compliance:\n    required_rules: xccdf_org.ssgproject.content_rule_x\n",
        14,
        "gates.compliance.required_rules",
        "expected a list of rule ids, found a scalar"
    )]
    [InlineData(
        "  packages:\n    denied: [telnetd]\n    on_violation: maybe\n",
        15,
        "gates.packages.on_violation",
        "unknown on_violation 'maybe'; expected one of: fail, warn"
    )]
    [InlineData(
        "  image_size:\n    artifact: disk-raw\n    max: -2G\n",
        15,
        "gates.image_size.max",
        "threshold below zero ('-2G')"
    )]
    [InlineData(
        "  image_size:\n    artifact: disk-raw\n    max: 2 gigabytes\n",
        15,
        "gates.image_size.max",
        "found '2 gigabytes'"
    )]
    [InlineData(
        "  evidence:\n    required: [provenance]\n",
        14,
        "gates.evidence.required",
        "written after the gates are evaluated"
    )]
    [InlineData(
        "  base_image:\n    not_revoked: sure\n",
        14,
        "gates.base_image.not_revoked",
        "expected true or false, found 'sure'"
    )]
    [InlineData(
        "  boot_test:\n    passed: usually\n",
        14,
        "gates.boot_test.passed",
        "expected true or false, found 'usually'"
    )]
    [InlineData(
        "  boot_test:\n    on_violation: warn\n",
        14,
        "gates.boot_test.passed",
        "missing required field 'passed'"
    )]
    [InlineData(
        "  boot_test:\n    passed: true\n    max_seconds: 60\n",
        15,
        "gates.boot_test.max_seconds",
        "unknown key 'max_seconds'"
    )]
    [InlineData(
        "  - vulnerabilities\n",
        13,
        "gates",
        "expected a mapping of gates",
        "found a list"
    )]
    public void A_bad_gate_is_a_problem_with_its_file_and_line(
        string gates,
        int line,
        string field,
        params string[] message
    )
    {
        // Arrange
        var file = WithGates(gates);

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, line, field, message);
        set.FindBaseline("debian-11-anssi").ShouldBeNull();
    }
}
