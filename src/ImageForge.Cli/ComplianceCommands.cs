using System.CommandLine;
using ImageForge.Core.Compliance;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge compliance show &lt;image&gt;@&lt;version&gt;</c>: the compliance evidence of one version. Exit codes:
/// 0 shown (whatever the verdict: the release gate decides what a failing verdict means), 1 the version exists but
/// has no compliance summary, 2 unknown image or version or a malformed reference.
/// </summary>
internal static class ComplianceCommands
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var compliance = new Command(
            "compliance",
            "Compliance evidence of image versions (OpenSCAP scans before and after hardening)"
        );
        compliance.Subcommands.Add(Show(context));
        return compliance;
    }

    private static Command Show(Func<ParseResult, CliContext> context)
    {
        var reference = new Argument<string>("version")
        {
            Description = "<image>@<version>, or <image> for its latest version",
        };
        var command = new Command(
            "show",
            "Score before and after hardening, failed rules with their titles, waivers in force, and the baseline verdict"
        )
        {
            reference,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var text = parse.GetValue(reference)!;
                await using var catalog = await ctx.OpenCatalogAsync(ct);
                var found = await VersionReference.ResolveAsync(catalog, text, ct);
                var evidence = found.Evidence.LastOrDefault(e =>
                    e.Kind == ComplianceCollector.SummaryKind
                );
                if (evidence is null)
                {
                    await ctx.Error.WriteLineAsync(
                        $"{found.Image}@{found.Version} has no compliance evidence (built by a target or an ImageForge version "
                            + "that does not scan); rebuild the image to scan it"
                    );
                    return CliApp.NotOk;
                }

                var summary = ComplianceSummary.Read(evidence.Location);
                if (ctx.Json)
                {
                    await Json.WriteAsync(ctx.Out, summary);
                    return CliApp.Ok;
                }

                await WriteTextAsync(ctx.Out, summary, evidence.Location);
                return CliApp.Ok;
            }
        );
        return command;
    }

    private static async Task WriteTextAsync(TextWriter o, ComplianceSummary s, string location)
    {
        await o.WriteLineAsync($"{s.Image}@{s.Version}  baseline {s.Baseline}");
        await o.WriteLineAsync($"  profile     {s.Profile} ({s.Datastream})");
        await o.WriteLineAsync(
            $"  score       before {ComplianceSummary.FormatScore(s.Before.Score)}  after "
                + $"{ComplianceSummary.FormatScore(s.After.Score)}  (minimum {s.MinScore})"
        );
        await o.WriteLineAsync(
            $"  {"", -11} {"PASS", 5} {"FAIL", 5} {"WAIVED", 7} {"ERROR", 6} {"N/A", 5} {"UNKNOWN", 8}"
        );
        foreach (var (label, c) in new[] { ("before", s.Before), ("after", s.After) })
        {
            await o.WriteLineAsync(
                $"  {label, -11} {c.Pass, 5} {c.Fail, 5} {c.Waived, 7} {c.Error, 6} {c.NotApplicable, 5} {c.Unknown, 8}"
            );
        }

        await o.WriteLineAsync(
            s.Verdict.Passed
                ? "  verdict     PASS"
                : "  verdict     FAIL (recorded; the build was not stopped: the release gate decides)"
        );
        foreach (var reason in s.Verdict.Reasons)
        {
            await o.WriteLineAsync($"    - {reason}");
        }

        await o.WriteLineAsync();
        await o.WriteLineAsync(
            s.FailedRules.Count == 0
                ? "failed rules: none"
                : $"failed rules ({s.FailedRules.Count}):"
        );
        foreach (var f in s.FailedRules)
        {
            await o.WriteLineAsync(
                $"  {Report.Lower(f.Outcome), -6} {ComplianceEvaluator.ShortRuleId(f.Rule)}  {f.Title} [{f.Severity}]"
            );
        }

        var inForce = s.Waivers.Where(w => w.State != WaiverState.Expired).ToList();
        await o.WriteLineAsync(
            inForce.Count == 0 ? "waivers in force: none" : $"waivers in force ({inForce.Count}):"
        );
        foreach (var w in inForce)
        {
            await o.WriteLineAsync(
                $"  {ComplianceEvaluator.ShortRuleId(w.Rule)}  {w.Title}"
                    + $"{(w.State == WaiverState.Unused ? " (unused)" : "")}"
            );
            await o.WriteLineAsync(
                $"      reason: {w.Reason}; owner: {w.Owner}; expires {w.Expires:yyyy-MM-dd}"
            );
        }

        foreach (var w in s.Waivers.Where(w => w.State == WaiverState.Expired))
        {
            await o.WriteLineAsync(
                $"  EXPIRED {ComplianceEvaluator.ShortRuleId(w.Rule)} on {w.Expires:yyyy-MM-dd} (owner {w.Owner})"
            );
        }

        if (s.Tailoring.Count > 0)
        {
            await o.WriteLineAsync($"turned off by tailoring ({s.Tailoring.Count}):");
            foreach (var t in s.Tailoring)
            {
                await o.WriteLineAsync(
                    $"  {ComplianceEvaluator.ShortRuleId(t.Rule)}: {t.Justification}"
                );
            }
        }

        foreach (var note in s.Verdict.Notes)
        {
            await o.WriteLineAsync($"note: {note}");
        }

        await o.WriteLineAsync($"evidence: {location}");
    }
}
