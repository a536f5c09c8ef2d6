using System.Globalization;
using ImageForge.Core.Definitions;

namespace ImageForge.Core.Compliance;

/// <summary>
/// Turns the two scans of a build and the baseline into a <see cref="ComplianceSummary"/>: applies the waivers in
/// force to failures, counts, scores and decides the verdict.
/// </summary>
public static class ComplianceEvaluator
{
    /// <summary>
    /// Marks each failure covered by a waiver in force on <paramref name="today"/> as waived. Only <c>fail</c> results
    /// are waivable: an <c>error</c> says the check did not run, which a waiver cannot vouch for.
    /// </summary>
    public static IReadOnlyList<RuleResult> ApplyWaivers(
        IReadOnlyList<RuleResult> rules,
        IReadOnlyList<Waiver> waivers,
        DateOnly today
    )
    {
        var inForce = waivers
            .Where(w => w.Expires >= today)
            .Select(w => w.Rule)
            .ToHashSet(StringComparer.Ordinal);
        return rules
            .Select(r =>
                r.Outcome == RuleOutcome.Fail && inForce.Contains(r.RuleId)
                    ? r with
                    {
                        Outcome = RuleOutcome.Waived,
                    }
                    : r
            )
            .ToList();
    }

    /// <summary>Builds the summary of one version from its before and after scans.</summary>
    public static ComplianceSummary Evaluate(
        string image,
        string version,
        Baseline baseline,
        XccdfScan before,
        XccdfScan after,
        DateTimeOffset at
    )
    {
        var today = DateOnly.FromDateTime(at.UtcDateTime);
        var beforeRules = ApplyWaivers(before.Rules, baseline.Waivers, today);
        var afterRules = ApplyWaivers(after.Rules, baseline.Waivers, today);
        var beforeCounts = ScanCounts.Of(beforeRules);
        var afterCounts = ScanCounts.Of(afterRules);
        var byId = afterRules
            .Concat(beforeRules)
            .GroupBy(r => r.RuleId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        string Title(string rule) => byId.TryGetValue(rule, out var r) ? r.Title : rule;

        var failed = afterRules
            .Where(r => r.Outcome is RuleOutcome.Fail or RuleOutcome.Error)
            .Select(r => new FailedRule(r.RuleId, r.Title, r.Severity, r.Outcome))
            .ToList();
        var unknown = afterRules
            .Where(r => r.Outcome == RuleOutcome.Unknown)
            .Select(r => new FailedRule(r.RuleId, r.Title, r.Severity, r.Outcome))
            .ToList();
        var waivers = baseline
            .Waivers.Select(w => new WaiverStatus(
                w.Rule,
                Title(w.Rule),
                w.Reason,
                w.Owner,
                w.Expires,
                w.Expires < today ? WaiverState.Expired
                    : afterRules.Any(r => r.RuleId == w.Rule && r.Outcome == RuleOutcome.Waived)
                        ? WaiverState.Applied
                    : WaiverState.Unused
            ))
            .ToList();

        var reasons = new List<string>();
        var notes = new List<string>();
        if (afterCounts.Score is not { } score)
        {
            reasons.Add("the scan after hardening decided no rule, so there is no score");
        }
        else if (score < baseline.MinScore)
        {
            reasons.Add(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"score {score:0.0} after hardening is below the minimum {baseline.MinScore}"
                )
            );
        }
        if (failed.Count > 0)
        {
            reasons.Add(
                $"{failed.Count} rule(s) fail after hardening without a waiver: "
                    + string.Join(", ", failed.Select(f => ShortRuleId(f.Rule)))
            );
        }
        foreach (var w in waivers.Where(w => w.State == WaiverState.Expired))
        {
            reasons.Add(
                $"the waiver for {ShortRuleId(w.Rule)} (owner {w.Owner}) expired on {w.Expires:yyyy-MM-dd}"
            );
        }
        if (unknown.Count > 0)
        {
            notes.Add(
                $"{unknown.Count} rule(s) could not be decided by an offline scan: "
                    + string.Join(", ", unknown.Select(u => ShortRuleId(u.Rule)))
            );
        }
        foreach (var w in waivers.Where(w => w.State == WaiverState.Unused))
        {
            notes.Add(
                $"the waiver for {ShortRuleId(w.Rule)} covered no failure; it can be removed"
            );
        }

        return new ComplianceSummary
        {
            Image = image,
            Version = version,
            Baseline = baseline.Name,
            Datastream = baseline.Scap.Datastream,
            Profile = baseline.Scap.Profile,
            MinScore = baseline.MinScore,
            EvaluatedAt = at,
            Before = beforeCounts,
            After = afterCounts,
            FailedRules = failed,
            UnknownRules = unknown,
            Waivers = waivers,
            Tailoring = baseline
                .Tailoring.Select(t => new TailoredRuleStatus(
                    t.Rule,
                    Title(t.Rule),
                    t.Justification
                ))
                .ToList(),
            Verdict = new ComplianceVerdict(reasons.Count == 0, reasons, notes, Enforced: false),
        };
    }

    /// <summary>The SSG rule name without its XCCDF prefix, for messages.</summary>
    public static string ShortRuleId(string rule)
    {
        const string Prefix = "xccdf_org.ssgproject.content_rule_";
        return rule.StartsWith(Prefix, StringComparison.Ordinal) ? rule[Prefix.Length..] : rule;
    }
}
