using System.CommandLine;
using ImageForge.Application.Operations;
using ImageForge.Core.Errors;
using ImageForge.Policy.Checking;
using ImageForge.Policy.Rules;
using ImageForge.Policy.Testing;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge policy check --terraform-plan plan.json [--channel C] [--policies DIR]</c>: every rule bound to the
/// channel over the plan's normalized resources. Exit 0 when nothing denies, 1 when something does, 2 for bad input
/// (a rule, the bindings or the plan).
/// </summary>
internal static class PolicyCheckCommand
{
    public static Option<string?> PoliciesOption() =>
        new("--policies")
        {
            Description =
                "Directory of policy rules and bindings [default: policies/ of the content]",
        };

    /// <summary>The policy directory: <c>--policies</c>, else the content's.</summary>
    public static string Directory(CliContext ctx, string? given) =>
        given is not null
            ? Path.GetFullPath(given, ctx.Host.CurrentDirectory)
            : ctx.Content.Policies
                ?? throw new InvalidInputException(
                    "no policies/ in this content; give --policies DIR"
                );

    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var plan = new Option<string>("--terraform-plan")
        {
            Description = "A Terraform JSON plan (terraform show -json plan.out)",
            Required = true,
        };
        var channel = new Option<string?>("--channel")
        {
            Description =
                "The channel deployed to: picks the bindings, and the images admitted for it [default: every channel]",
        };
        var policies = PoliciesOption();
        var command = new Command(
            "check",
            "Check a Terraform plan against the policy rules bound to a channel"
        )
        {
            plan,
            channel,
            policies,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var set = PolicySet.Load(Directory(ctx, parse.GetValue(policies)));
                var resources = PlanResources.Read(
                    Path.GetFullPath(parse.GetValue(plan)!, ctx.Host.CurrentDirectory)
                );
                var report = await PromotionCli
                    .Operations(ctx)
                    .CheckPlanAsync(
                        set,
                        resources,
                        parse.GetValue(channel),
                        ctx.Host.CurrentDirectory,
                        DateOnly.FromDateTime(ctx.Time.GetUtcNow().UtcDateTime),
                        ct
                    );
                if (ctx.Json)
                {
                    await Json.WriteAsync(ctx.Out, report);
                }
                else
                {
                    await WriteTextAsync(ctx, report);
                }
                return report.Allowed ? CliApp.Ok : 1;
            }
        );
        return command;
    }

    /// <summary>The rule fixtures' part of <c>policy test</c>: prints each case, returns how many failed.</summary>
    public static async Task<(int Cases, int Failed)> WriteFixturesAsync(
        CliContext ctx,
        FixtureReport report
    )
    {
        foreach (var group in report.Cases.GroupBy(c => c.Rule, StringComparer.Ordinal))
        {
            await ctx.Out.WriteLineAsync($"{group.Key}:");
            foreach (var c in group)
            {
                if (c.Passed)
                {
                    await ctx.Out.WriteLineAsync($"  ok    {c.Case}");
                    continue;
                }
                await ctx.Out.WriteLineAsync($"  FAIL  {c.Case} ({c.File})");
                foreach (var difference in c.Differences)
                {
                    await ctx.Out.WriteLineAsync($"          {difference}");
                }
            }
        }
        foreach (var rule in report.Untested)
        {
            await ctx.Out.WriteLineAsync(
                $"{rule}: no fixtures in {RuleFixtures.Directory}/{rule}/"
            );
        }
        return (report.Cases.Count, report.Cases.Count(c => !c.Passed));
    }

    private static async Task WriteTextAsync(CliContext ctx, PolicyReport report)
    {
        foreach (var f in report.Findings.Where(f => f.Effect != Effect.None))
        {
            var finding = f.Finding;
            await ctx.Out.WriteLineAsync(
                $"{f.Effect.ToString().ToLowerInvariant(), -5} {finding.Rule} ({finding.Severity}, {RuleFixtures.Name(finding.Outcome)}): {finding.Message}"
            );
            if (finding.Path.Length > 0)
            {
                await ctx.Out.WriteLineAsync($"      at {finding.Path}");
            }
        }
        foreach (var f in report.Findings.Where(f => f.Finding.Outcome == Outcome.Excepted))
        {
            await ctx.Out.WriteLineAsync(
                $"excepted {f.Finding.Rule}: {f.Finding.Address}: {f.Finding.Exception}"
            );
        }
        int Count(Effect e) => report.Findings.Count(f => f.Effect == e);
        await ctx.Out.WriteLineAsync(
            $"{report.Resources} resource(s), {report.Rules.Count} rule(s) for {(report.Channel is { } c ? $"channel {c}" : "every channel")}: "
                + $"{Count(Effect.Deny)} denied, {Count(Effect.Warn)} warning(s), {Count(Effect.Audit)} audited, "
                + $"{report.Findings.Count(f => f.Finding.Outcome == Outcome.Excepted)} excepted, {report.Passed} passed"
                + (report.Allowed ? "" : "; refused")
        );
    }
}
