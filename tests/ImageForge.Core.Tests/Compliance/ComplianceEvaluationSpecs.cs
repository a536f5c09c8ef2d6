using ImageForge.Core.Compliance;
using ImageForge.Core.Definitions;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Compliance;

public sealed class ComplianceEvaluationSpecs
{
    private const string Rule = "xccdf_org.ssgproject.content_rule_";

    private static readonly DateTimeOffset At = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private const string Results = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="xccdf_org.ssgproject.content_benchmark_DEBIAN-11">
          <title>Guide</title>
          <Group id="g"><title>Group</title>
            <Rule id="xccdf_org.ssgproject.content_rule_a" severity="high"><title>Rule A</title></Rule>
            <Rule id="xccdf_org.ssgproject.content_rule_b" severity="low"><title>Rule B</title></Rule>
            <Rule id="xccdf_org.ssgproject.content_rule_c"><title>Rule C</title></Rule>
            <Rule id="xccdf_org.ssgproject.content_rule_d"><title>Rule D</title></Rule>
            <Rule id="xccdf_org.ssgproject.content_rule_e"><title>Rule E</title></Rule>
            <Rule id="xccdf_org.ssgproject.content_rule_f"><title>Rule F</title></Rule>
            <Rule id="xccdf_org.ssgproject.content_rule_g"><title>Rule G</title></Rule>
          </Group>
          <TestResult id="xccdf_org.open-scap_testresult_p" start-time="2026-11-22T07:19:36+00:00" end-time="2026-11-22T07:19:37+00:00">
            <profile idref="xccdf_org.ssgproject.content_profile_p"/>
            <rule-result idref="xccdf_org.ssgproject.content_rule_a" severity="high"><result>pass</result></rule-result>
            <rule-result idref="xccdf_org.ssgproject.content_rule_b" severity="low"><result>fail</result></rule-result>
            <rule-result idref="xccdf_org.ssgproject.content_rule_c" severity="medium"><result>fail</result></rule-result>
            <rule-result idref="xccdf_org.ssgproject.content_rule_d" severity="medium"><result>notapplicable</result></rule-result>
            <rule-result idref="xccdf_org.ssgproject.content_rule_e" severity="medium"><result>unknown</result></rule-result>
            <rule-result idref="xccdf_org.ssgproject.content_rule_f" severity="medium"><result>notselected</result></rule-result>
            <rule-result idref="xccdf_org.ssgproject.content_rule_g" severity="medium"><result>fixed</result></rule-result>
          </TestResult>
        </Benchmark>
        """;

    private static XccdfScan Scan()
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Results));
        return XccdfResultsReader.Read(stream, "results.xml");
    }

    private static Baseline Baseline(int minScore, params Waiver[] waivers) =>
        new()
        {
            Name = "b",
            Description = "d",
            Os = new OsSpec("debian", "11"),
            Hardening = "cis/debian-11",
            Scap = new ScapSpec("ssg-debian11-ds.xml", "xccdf_org.ssgproject.content_profile_p"),
            MinScore = minScore,
            Waivers = waivers,
            SourceFile = "b.yaml",
        };

    [Fact]
    public void The_results_reader_maps_each_xccdf_result_and_takes_titles_from_the_benchmark()
    {
        var scan = Scan();

        scan.Profile.ShouldBe("xccdf_org.ssgproject.content_profile_p");
        scan.Rules.Select(r => r.Outcome)
            .ShouldBe([
                RuleOutcome.Pass,
                RuleOutcome.Fail,
                RuleOutcome.Fail,
                RuleOutcome.NotApplicable,
                RuleOutcome.Unknown,
                RuleOutcome.NotSelected,
                RuleOutcome.Pass,
            ]);
        scan.Rules[1].ShouldBe(new RuleResult(Rule + "b", "Rule B", "low", RuleOutcome.Fail));
    }

    [Fact]
    public void A_file_without_test_result_is_refused()
    {
        using var stream = new MemoryStream(
            "<Benchmark xmlns=\"http://checklists.nist.gov/xccdf/1.2\"/>"u8.ToArray()
        );

        Should
            .Throw<FormatException>(() => XccdfResultsReader.Read(stream, "x.xml"))
            .Message.ShouldContain("TestResult");
    }

    [Fact]
    public void The_score_counts_pass_over_decided_rules_and_a_waived_failure_as_not_passing()
    {
        var waived = ComplianceEvaluator.ApplyWaivers(
            Scan().Rules,
            [new Waiver(Rule + "b", "r", "o", new DateOnly(2027, 1, 1))],
            DateOnly.FromDateTime(At.UtcDateTime)
        );

        var counts = ScanCounts.Of(waived);

        counts.ShouldBe(
            new ScanCounts
            {
                Pass = 2,
                Fail = 1,
                Waived = 1,
                NotApplicable = 1,
                Unknown = 1,
                Score = 50.0,
            }
        );
    }

    [Fact]
    public void The_verdict_fails_on_unwaived_failures_low_score_and_expired_waivers_without_being_enforced()
    {
        var baseline = Baseline(
            60,
            new Waiver(Rule + "b", "r", "o", new DateOnly(2027, 1, 1)),
            new Waiver(Rule + "c", "r", "o", new DateOnly(2026, 11, 21)),
            new Waiver(Rule + "a", "r", "o", new DateOnly(2027, 1, 1))
        );

        var summary = ComplianceEvaluator.Evaluate(
            "img",
            "2026.11.22.1",
            baseline,
            Scan(),
            Scan(),
            At
        );

        summary.Verdict.Passed.ShouldBeFalse();
        summary.Verdict.Enforced.ShouldBeFalse();
        summary.Verdict.Reasons.Count.ShouldBe(3);
        summary
            .Verdict.Reasons[0]
            .ShouldContain("score 50.0 after hardening is below the minimum 60");
        summary
            .Verdict.Reasons[1]
            .ShouldContain("1 rule(s) fail after hardening without a waiver: c");
        summary
            .Verdict.Reasons[2]
            .ShouldContain("the waiver for c (owner o) expired on 2026-11-21");
        summary.FailedRules.ShouldBe([
            new FailedRule(Rule + "c", "Rule C", "medium", RuleOutcome.Fail),
        ]);
        summary
            .Waivers.Select(w => w.State)
            .ShouldBe([WaiverState.Applied, WaiverState.Expired, WaiverState.Unused]);
        summary.Verdict.Notes.ShouldContain(n =>
            n.Contains("could not be decided", StringComparison.Ordinal)
        );
    }

    [Fact]
    public void A_summary_survives_a_json_round_trip_with_the_documented_count_names()
    {
        var summary = ComplianceEvaluator.Evaluate("img", "v", Baseline(10), Scan(), Scan(), At);

        var json = summary.ToJson();
        var back = ComplianceSummary.FromJson(System.Text.Encoding.UTF8.GetBytes(json), "s.json");

        json.ShouldContain("\"notapplicable\": 1");
        json.ShouldContain("\"waived\": 0");
        back.After.ShouldBe(summary.After);
        back.Verdict.Reasons.ShouldBe(summary.Verdict.Reasons);
    }

    [Fact]
    public void The_tailoring_file_extends_the_profile_and_deselects_each_rule()
    {
        var baseline = Baseline(60) with { Tailoring = [new TailoredRule(Rule + "d", "chrony")] };
        var path = Path.Combine(Path.GetTempPath(), $"tailoring-{Guid.NewGuid():N}.xml");
        try
        {
            TailoringWriter.Write(path, baseline, "/ds.xml", DateTimeOffset.UnixEpoch);
            var xml = File.ReadAllText(path);

            xml.ShouldContain("extends=\"xccdf_org.ssgproject.content_profile_p\"");
            xml.ShouldContain($"idref=\"{Rule}d\" selected=\"false\"");
            xml.ShouldContain(TailoringWriter.TailoredProfileId(baseline));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
