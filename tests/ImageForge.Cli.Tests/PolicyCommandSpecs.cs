using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

public sealed class PolicyCommandSpecs
{
    private const string Baseline = "debian-11-anssi";

    // A copy of the shipped baseline and its cases in <temp>/baselines, checked with the repository's content.
    private static string CopyBaseline(TempDirectory dir, Func<string, string> change)
    {
        var baselines = dir.Combine("baselines");
        var cases = Path.Combine(baselines, "tests", Baseline);
        Directory.CreateDirectory(cases);
        var source = Path.Combine(RepoPaths.Root, "baselines");
        var file = Path.Combine(baselines, Baseline + ".yaml");
        File.WriteAllText(file, change(File.ReadAllText(Path.Combine(source, Baseline + ".yaml"))));
        foreach (var c in Directory.EnumerateFiles(Path.Combine(source, "tests", Baseline)))
        {
            File.Copy(c, Path.Combine(cases, Path.GetFileName(c)));
        }
        return file;
    }

    [Fact]
    public async Task The_shipped_baselines_pass_their_policy_tests()
    {
        var result = await CliRunner.RunAsync(RepoPaths.Root, "policy", "test");

        result.ExitCode.ShouldBe(0, result.ToString());
        result.Out.ShouldContain("ok    pass-real-build: pass");
        result.Out.ShouldContain("ok    warn-fixable-high-finding: warn");
        result.Out.ShouldContain("ok    fail-hardening-regressed: fail");
    }

    [Fact]
    public async Task A_baseline_change_that_flips_an_expected_decision_fails_and_names_the_case()
    {
        // Arrange: the real build scores 93.0; demanding 95 rejects it.
        using var dir = new TempDirectory();
        var file = CopyBaseline(
            dir,
            yaml =>
            {
                yaml.ShouldContain("    min_score: 75\n");
                return yaml.Replace(
                    "    min_score: 75\n",
                    "    min_score: 95\n",
                    StringComparison.Ordinal
                );
            }
        );

        // Act
        var result = await CliRunner.RunAsync(RepoPaths.Root, "policy", "test", file);

        // Assert
        result.ExitCode.ShouldBe(1, result.ToString());
        result.Out.ShouldContain("FAIL  pass-real-build: expected pass, got fail");
        result.Out.ShouldContain(
            "unexpected reason: fail compliance: min score after hardening: expected at least 95.0, found 93.0"
        );
        result.Out.ShouldContain("FAIL  warn-fixable-high-finding: expected warn, got fail");
        result.Out.ShouldContain("ok    fail-hardening-regressed: fail");
    }

    [Fact]
    public async Task A_gate_turned_into_a_warning_shows_the_missing_reason()
    {
        using var dir = new TempDirectory();
        var file = CopyBaseline(
            dir,
            yaml =>
                yaml.Replace(
                    "    on_violation: warn\n",
                    "    on_violation: fail\n",
                    StringComparison.Ordinal
                )
        );

        var result = await CliRunner.RunAsync(RepoPaths.Root, "policy", "test", file);

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Out.ShouldContain("FAIL  warn-fixable-high-finding: expected warn, got fail");
        result.Out.ShouldContain(
            "missing reason: warn vulnerabilities: max high findings with a fix (found containing 'CVE-2023-0286 in libssl1.1')"
        );
    }

    [Theory]
    [InlineData(
        "  vulnerabilties:\n    max: { high: 0 }\n",
        1,
        "gates.vulnerabilties: unknown gate 'vulnerabilties'"
    )]
    [InlineData(
        "  image_size:\n    artifact: disk-raw\n    max: [2G]\n",
        3,
        "gates.image_size.max: expected a size in bytes"
    )]
    [InlineData(
        "  vulnerabilities:\n    max: { high: -1 }\n",
        2,
        "gates.vulnerabilities.max.high: threshold below zero (-1)"
    )]
    public async Task A_bad_policy_file_gives_a_file_and_line_error_and_exit_code_2(
        string gate,
        int lineAfterGates,
        string message
    )
    {
        // Arrange: replace the whole gates section with one bad gate.
        using var dir = new TempDirectory();
        var file = CopyBaseline(
            dir,
            yaml => yaml[..(yaml.IndexOf("\ngates:\n", StringComparison.Ordinal) + 8)] + gate
        );
        var line = Array.IndexOf(File.ReadAllLines(file), "gates:") + 1 + lineAfterGates;

        // Act
        var policy = await CliRunner.RunAsync(RepoPaths.Root, "policy", "test", file);
        var validate = await CliRunner.RunAsync(RepoPaths.Root, "validate", file);

        // Assert
        policy.ExitCode.ShouldBe(2, policy.ToString());
        validate.ExitCode.ShouldBe(2, validate.ToString());
        policy.Error.ShouldContain($"{file}:{line}: {message}", Case.Sensitive, policy.ToString());
        policy.Error.ShouldContain(message);
        validate.Error.ShouldContain(message);
    }

    [Fact]
    public async Task A_malformed_test_case_gives_a_file_and_line_error_and_exit_code_2()
    {
        using var dir = new TempDirectory();
        var file = CopyBaseline(dir, yaml => yaml);
        var bad = Path.Combine(dir.Path, "baselines", "tests", Baseline, "bad.yaml");
        await File.WriteAllTextAsync(
            bad,
            "evidence:\n  packages: [openssh-server]\nexpect:\n  decision: maybe\n"
        );

        var result = await CliRunner.RunAsync(RepoPaths.Root, "policy", "test", file);

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain(
            $"{bad}:4: expect.decision: unknown decision 'maybe'; expected one of: pass, warn, fail"
        );
    }
}
