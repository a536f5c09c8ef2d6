using ImageForge.Core.Definitions;
using ImageForge.Core.Vulnerabilities;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Definitions;

public sealed class BaselineRebuildSpecs : IDisposable
{
    private readonly ContentFixture _content = new(withBaseline: false);

    public void Dispose() => _content.Dispose();

    private string WriteBaseline(string section) =>
        _content.Baseline("debian-11-anssi.yaml", ContentFixture.ValidBaseline + section);

    private RebuildPolicy LoadRebuild()
    {
        var set = _content.Load();
        set.ShouldHaveNoProblems();
        return set.FindBaseline("debian-11-anssi").ShouldNotBeNull().Rebuild;
    }

    [Theory]
    [InlineData("critical", Severity.Critical)]
    [InlineData("high", Severity.High)]
    [InlineData("medium", Severity.Medium)]
    [InlineData("low", Severity.Low)]
    public void Min_severity_opts_the_baseline_into_cve_rebuilds(string name, Severity expected)
    {
        WriteBaseline($"rebuild:\n  on_fixable_cve:\n    min_severity: {name}\n");

        LoadRebuild().CveMinSeverity.ShouldBe(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData("rebuild:\n")]
    [InlineData("rebuild: {}\n")]
    [InlineData("rebuild:\n  on_fixable_cve:\n")]
    public void Without_on_fixable_cve_nothing_is_rebuilt(string section)
    {
        WriteBaseline(section);

        LoadRebuild().ShouldBe(RebuildPolicy.None);
        RebuildPolicy.None.CveMinSeverity.ShouldBeNull();
    }

    [Theory]
    // Field, then the line of the problem counted from "rebuild:" (0), then words the message must hold.
    [InlineData(
        "rebuild:\n  on_fixable_cve:\n    min_severity: hihg\n",
        "rebuild.on_fixable_cve.min_severity",
        2,
        "unknown severity 'hihg'",
        "critical, high, medium, low",
        "did you mean 'high'?"
    )]
    [InlineData(
        "rebuild:\n  on_fixable_cve:\n    min_severity: High\n",
        "rebuild.on_fixable_cve.min_severity",
        2,
        "unknown severity 'High'",
        "did you mean 'high'?"
    )]
    [InlineData(
        "rebuild:\n  on_fixable_cve:\n    min_severity: negligible\n",
        "rebuild.on_fixable_cve.min_severity",
        2,
        "unknown severity 'negligible'"
    )]
    [InlineData(
        "rebuild:\n  on_fixable_cves:\n    min_severity: high\n",
        "rebuild.on_fixable_cves",
        1,
        "unknown key 'on_fixable_cves'",
        "did you mean 'on_fixable_cve'?"
    )]
    [InlineData(
        "rebuild:\n  on_fixable_cve:\n    min_severity: high\n    max_builds: 3\n",
        "rebuild.on_fixable_cve.max_builds",
        3,
        "unknown key 'max_builds'",
        "expected one of: min_severity"
    )]
    [InlineData(
        "rebuild:\n  on_fixable_cve:\n    severity: high\n",
        "rebuild.on_fixable_cve.min_severity",
        2,
        "missing required field 'min_severity'",
        "critical, high, medium or low"
    )]
    [InlineData(
        "rebuild:\n  on_fixable_cve: high\n",
        "rebuild.on_fixable_cve",
        1,
        "expected a mapping with min_severity",
        "found a scalar"
    )]
    [InlineData(
        "rebuild: [high]\n",
        "rebuild",
        0,
        "expected a mapping with on_fixable_cve",
        "found a list"
    )]
    public void A_bad_rebuild_section_is_a_problem_naming_file_line_field_and_fix(
        string section,
        string field,
        int linesAfterRebuild,
        params string[] message
    )
    {
        var file = WriteBaseline(section);

        var set = _content.Load();

        var line = Array.IndexOf(File.ReadAllLines(file), section.Split('\n')[0]) + 1;
        set.ShouldHaveProblem(file, line + linesAfterRebuild, field, message);
        set.FindBaseline("debian-11-anssi").ShouldBeNull("a baseline with a problem is invalid");
    }

    [Fact]
    public void The_shipped_anssi_baseline_rebuilds_on_fixable_high_advisories()
    {
        WriteShipped("debian-11-anssi.yaml");

        LoadRebuild().CveMinSeverity.ShouldBe(Severity.High);
    }

    private void WriteShipped(string fileName) =>
        _content.Baseline(
            fileName,
            File.ReadAllText(Path.Combine(RepoPaths.Root, "baselines", fileName))
        );
}
