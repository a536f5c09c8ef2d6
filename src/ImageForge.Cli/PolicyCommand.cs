using System.CommandLine;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Gates;
using ImageForge.Policy.Rules;
using ImageForge.Policy.Testing;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge policy test [PATH...] [--policies DIR]</c>: runs the test cases beside each baseline
/// (<c>tests/&lt;baseline&gt;/*.yaml</c>) against its gates, and the fixture plans beside each deploy-time rule
/// (<c>policies/tests/&lt;rule&gt;/*.plan.json</c>). Exit 0 when every case holds, 1 when a case flipped, 2 for
/// malformed baselines, rules or cases. <c>policy check</c> is <see cref="PolicyCheckCommand"/>.
/// </summary>
internal static class PolicyCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var paths = new Argument<string[]>("path")
        {
            Description = "Baseline files or directories of baselines [default: baselines/]",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var policies = PolicyCheckCommand.PoliciesOption();
        var test = new Command(
            "test",
            "Run each baseline's policy test cases (tests/<baseline>/*.yaml beside it) and each rule's fixture plans (policies/tests/<rule>/)"
        )
        {
            paths,
            policies,
        };
        test.SetAction(
            async (parse, _) =>
            {
                var ctx = context(parse);
                var now = ctx.Time.GetUtcNow();
                var given = parse.GetValue(paths) ?? [];
                var set = DefinitionLoader.LoadFiles(
                    given.Length == 0
                        ? [ctx.Content.Baselines]
                        : given.Select(p => Path.GetFullPath(p, ctx.Host.CurrentDirectory)),
                    ctx.Content,
                    DateOnly.FromDateTime(now.UtcDateTime),
                    ctx.Host.Providers
                );
                var report = set.IsValid
                    ? PolicyTests.Run(set.Baselines, now)
                    : new PolicyTestReport([], [], []);
                var problems = set.Problems.Concat(report.Problems).ToList();
                var fixtures = RunFixtures(ctx, parse.GetValue(policies), now);
                if (ctx.Json)
                {
                    await Json.WriteAsync(
                        ctx.Out,
                        new
                        {
                            passed = problems.Count == 0
                                && report.Cases.All(c => c.Passed)
                                && fixtures.Cases.All(c => c.Passed),
                            problems,
                            cases = report.Cases.Select(c => new
                            {
                                c.Baseline,
                                @case = c.Case,
                                c.File,
                                c.Passed,
                                expected = GateDecision.Name(c.Expected),
                                actual = GateDecision.Name(c.Decision.Decision),
                                missing_reasons = c.MissingReasons,
                                unexpected_reasons = c.UnexpectedReasons,
                                reasons = c.Decision.Reasons,
                            }),
                            untested = report.Untested.Select(b => b.Name),
                            rule_cases = fixtures.Cases,
                            untested_rules = fixtures.Untested,
                        }
                    );
                }
                else
                {
                    await WriteTextAsync(ctx, report, problems, fixtures);
                }
                return problems.Count > 0 ? CliApp.BadInput
                    : report.Cases.All(c => c.Passed) && fixtures.Cases.All(c => c.Passed)
                        ? CliApp.Ok
                    : 1;
            }
        );
        return new Command(
            "policy",
            "Policy as code: test the baselines' gates and the deploy-time rules, check Terraform plans"
        )
        {
            test,
            PolicyCheckCommand.Create(context),
        };
    }

    // The content's policies are optional (a content root may have baselines only); --policies names a directory that must exist.
    private static FixtureReport RunFixtures(CliContext ctx, string? given, DateTimeOffset now)
    {
        var directory = PolicyCheckCommand.Directory(ctx, given);
        return given is null && !Directory.Exists(directory)
            ? new FixtureReport([], [])
            : RuleFixtures.Run(PolicySet.Load(directory), DateOnly.FromDateTime(now.UtcDateTime));
    }

    /// <summary>Says on stderr why a version was rejected: every gate reason that failed.</summary>
    public static async Task ReportRejectionAsync(CliContext ctx, ImageVersion version)
    {
        var document = version.Evidence.LastOrDefault(e => e.Kind == GateDecision.Kind);
        await ctx.Error.WriteLineAsync(
            $"rejected: {version.Image}@{version.Version} failed its baseline's gates; it keeps its evidence and cannot be promoted"
        );
        if (document is null || !File.Exists(document.Location))
        {
            return;
        }
        foreach (var reason in GateDecision.Read(document.Location).Violations)
        {
            await ctx.Error.WriteLineAsync($"  {reason}");
        }
    }

    private static async Task WriteTextAsync(
        CliContext ctx,
        PolicyTestReport report,
        List<Core.Errors.InputProblem> problems,
        FixtureReport fixtures
    )
    {
        foreach (var problem in problems)
        {
            await ctx.Error.WriteLineAsync(problem.ToString());
        }
        foreach (var group in report.Cases.GroupBy(c => c.Baseline, StringComparer.Ordinal))
        {
            await ctx.Out.WriteLineAsync($"{group.Key}:");
            foreach (var c in group)
            {
                var actual = GateDecision.Name(c.Decision.Decision);
                if (c.Passed)
                {
                    await ctx.Out.WriteLineAsync($"  ok    {c.Case}: {actual}");
                    continue;
                }
                await ctx.Out.WriteLineAsync(
                    $"  FAIL  {c.Case}: expected {GateDecision.Name(c.Expected)}, got {actual} ({c.File})"
                );
                foreach (var missing in c.MissingReasons)
                {
                    await ctx.Out.WriteLineAsync($"          missing reason: {missing}");
                }
                foreach (var extra in c.UnexpectedReasons)
                {
                    await ctx.Out.WriteLineAsync($"          unexpected reason: {extra}");
                }
            }
        }
        foreach (var baseline in report.Untested)
        {
            await ctx.Out.WriteLineAsync(
                $"{baseline.Name}: no test cases in {PolicyTests.CaseDirectory(baseline)}"
            );
        }
        var (ruleCases, ruleFailed) = await PolicyCheckCommand.WriteFixturesAsync(ctx, fixtures);
        var failed = report.Cases.Count(c => !c.Passed) + ruleFailed;
        var total = report.Cases.Count + ruleCases;
        await ctx.Out.WriteLineAsync(
            problems.Count > 0
                ? $"{problems.Count} problem(s); fix them and run again"
                : $"{total} case(s): {total - failed} passed, {failed} failed"
        );
    }
}
