using ImageForge.Core.Anomalies;
using ImageForge.Core.Facts;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Definitions;

public sealed class BaselineAnomaliesSpecs : IDisposable
{
    private readonly ContentFixture _content = new(withBaseline: false);

    public void Dispose() => _content.Dispose();

    private string WriteBaseline(string section) =>
        _content.Baseline("debian-11-anssi.yaml", ContentFixture.ValidBaseline + section);

    private AnomalySettings LoadAnomalies()
    {
        var set = _content.Load();
        set.ShouldHaveNoProblems();
        return set.FindBaseline("debian-11-anssi").ShouldNotBeNull().Anomalies;
    }

    [Fact]
    public void Without_the_section_the_defaults_apply()
    {
        WriteBaseline("");

        LoadAnomalies().ShouldBe(AnomalySettings.Default);
    }

    [Fact]
    public void Window_threshold_severities_and_expected_changes_are_read()
    {
        WriteBaseline(
            """
            anomalies:
              window: 30
              z_threshold: 4.5
              severities:
                enabled_unit: high
                duration.total: info
              expected:
                - signal: enabled_unit
                  match: nginx
                  reason: this version adds nginx
                  expires: 2026-06-30

            """
        );

        var settings = LoadAnomalies();

        settings.Window.ShouldBe(30);
        settings.ZThreshold.ShouldBe(4.5);
        settings.SeverityOf(FactNames.EnabledUnit).ShouldBe(AnomalySeverity.High);
        settings.SeverityOf(FactNames.BuildSeconds).ShouldBe(AnomalySeverity.Info);
        settings.SeverityOf(FactNames.SetuidFile).ShouldBe(AnomalySeverity.High);
        settings
            .Expected.ShouldHaveSingleItem()
            .ShouldBe(
                new ExpectedChange(
                    FactNames.EnabledUnit,
                    "nginx",
                    "this version adds nginx",
                    new DateOnly(2026, 6, 30)
                )
            );
    }

    [Theory]
    // Field, then the line of the problem counted from "anomalies:" (0), then words the message must hold.
    [InlineData("anomalies:\n  window: 1\n", "anomalies.window", 1, "from 2 to 200", "found '1'")]
    [InlineData("anomalies:\n  window: twenty\n", "anomalies.window", 1, "whole number")]
    [InlineData("anomalies:\n  z_threshold: -3\n", "anomalies.z_threshold", 1, "from 1 to 20")]
    [InlineData(
        "anomalies:\n  severities:\n    enabled_unit: severe\n",
        "anomalies.severities.enabled_unit",
        2,
        "unknown severity 'severe'",
        "info, low, medium, high, critical"
    )]
    [InlineData(
        "anomalies:\n  severities:\n    enabled_units: high\n",
        "anomalies.severities.enabled_units",
        2,
        "unknown signal 'enabled_units'",
        "did you mean 'enabled_unit'?"
    )]
    [InlineData(
        "anomalies:\n  expected:\n    - signal: enabled_unit\n      match: nginx\n      expires: 2026-06-30\n",
        "anomalies.expected[0].reason",
        2,
        "missing required field 'reason'"
    )]
    [InlineData(
        "anomalies:\n  expected:\n    - signal: enabled_unit\n      reason: r\n      expires: soon\n",
        "anomalies.expected[0].expires",
        4,
        "YYYY-MM-DD"
    )]
    [InlineData(
        "anomalies:\n  windows: 20\n",
        "anomalies.windows",
        1,
        "unknown key 'windows'",
        "did you mean 'window'?"
    )]
    [InlineData("anomalies: [20]\n", "anomalies", 0, "expected a mapping with window")]
    public void A_bad_anomalies_section_is_a_problem_naming_file_line_field_and_fix(
        string section,
        string field,
        int linesAfterAnomalies,
        params string[] message
    )
    {
        var file = WriteBaseline(section);

        var set = _content.Load();

        var line = Array.IndexOf(File.ReadAllLines(file), section.Split('\n')[0]) + 1;
        set.ShouldHaveProblem(file, line + linesAfterAnomalies, field, message);
        set.FindBaseline("debian-11-anssi").ShouldBeNull("a baseline with a problem is invalid");
    }
}
