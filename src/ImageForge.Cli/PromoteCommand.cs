using System.CommandLine;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Gates;
using ImageForge.Core.Promotion;

namespace ImageForge.Cli;

/// <summary><c>imageforge promote &lt;image&gt;@&lt;version&gt; --to &lt;channel&gt; [--resume] [--skip-reason TEXT]</c>.</summary>
internal static class PromoteCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var reference = new Argument<string>("version")
        {
            Description = "The version to promote: <image>@<version>",
        };
        var to = new Option<string>("--to")
        {
            Description = "The channel to promote into",
            Required = true,
        };
        var resume = new Option<bool>("--resume")
        {
            Description =
                "Retry only the failed steps of this version's unfinished promotion, then move the channel",
        };
        var skip = new Option<string?>("--skip-reason")
        {
            Description =
                "Admins only: promote without the version having been in the previous channel, saying why",
        };
        var command = new Command(
            "promote",
            "Check the preconditions, publish the version's artifacts to the channel step by step, then move the channel"
        )
        {
            reference,
            to,
            resume,
            skip,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var (image, version) = PromotionCli.Exact(parse.GetValue(reference)!);
                var definitions = PromotionCli.LoadDefinitions(ctx);
                var definition = PromotionCli.Definition(ctx, definitions, image);
                var baseline = definitions.FindBaseline(definition.Baseline);
                var channel = parse.GetValue(to)!;
                await using var cli = await PromotionCli.OpenAsync(ctx, ct);
                // The rules of the image's baseline (its promotion: section, docs/promotion.md).
                var rules = baseline?.Promotion ?? PromotionRules.None;
                if (rules.For(channel).Rescan && !parse.GetValue(resume))
                {
                    var refusals = await FreshRescanRefusalsAsync(
                        ctx,
                        cli,
                        definition,
                        baseline,
                        image,
                        version,
                        ct
                    );
                    if (refusals.Count > 0)
                    {
                        await ctx.Error.WriteLineAsync(
                            $"promotion of {image}@{version} to {channel} refused; nothing changed:"
                        );
                        foreach (var reason in refusals)
                        {
                            await ctx.Error.WriteLineAsync($"  - {reason}");
                        }

                        return 1;
                    }
                }

                var result = await cli.Service.PromoteAsync(
                    new PromoteRequest(
                        image,
                        version,
                        channel,
                        definition.Channels,
                        rules,
                        cli.Actor,
                        cli.Policy.IsRestricted(channel, definition.Channels),
                        parse.GetValue(resume),
                        parse.GetValue(skip)
                    ),
                    ct
                );
                return await WriteAsync(ctx, image, version, channel, result);
            }
        );
        return command;
    }

    // The channel asks for a fresh re-scan: scan the stored SBOM with the newest data (recorded as new findings
    // evidence, like 'imageforge scan'), then judge the version's current evidence by the baseline's gates again.
    private static async Task<IReadOnlyList<string>> FreshRescanRefusalsAsync(
        CliContext ctx,
        PromotionCli cli,
        ImageDefinition definition,
        Baseline? baseline,
        string image,
        string version,
        CancellationToken ct
    )
    {
        var found = await VersionReference.ResolveAsync(cli.Catalog, $"{image}@{version}", ct);
        if (baseline is null)
        {
            return
            [
                $"baseline '{definition.Baseline}' is missing or invalid; run 'imageforge validate'",
            ];
        }

        var (_, rescan, _) = await ScanCommand.RescanAsync(
            ctx,
            cli.Catalog,
            found,
            definition,
            baseline,
            null,
            [],
            ct
        );
        var target = definition.FindTarget("local") ?? definition.Targets[0];
        var evidence = new EvidenceContext(
            definition,
            baseline,
            target,
            found.Version,
            found.BuildId,
            found.Artifacts,
            [.. found.Evidence, rescan],
            Path.GetDirectoryName(rescan.Location)!,
            ctx.Time.GetUtcNow()
        );
        var decision = GateEvaluator.Evaluate(
            baseline.Name,
            baseline.Gates,
            GateEvidence.From(
                evidence,
                await NoRevocationData.Instance.LookupAsync(target.Provider, target.BaseImage, ct)
            ),
            ctx.Time.GetUtcNow()
        );
        return decision.Decision == GateOutcome.Fail
            ?
            [
                .. decision
                    .Violations.Where(v => v.Outcome == GateOutcome.Fail)
                    .Select(v => $"fresh re-scan: {v}"),
            ]
            : [];
    }

    private static async Task<int> WriteAsync(
        CliContext ctx,
        string image,
        string version,
        string channel,
        PromotionResult result
    )
    {
        if (result.Refusals.Count > 0)
        {
            await ctx.Error.WriteLineAsync(
                $"promotion of {image}@{version} to {channel} refused; nothing changed:"
            );
            foreach (var reason in result.Refusals)
            {
                await ctx.Error.WriteLineAsync($"  - {reason}");
            }

            return 1;
        }

        if (result.AlreadyCurrent)
        {
            await ctx.Out.WriteLineAsync(
                $"{channel} already points at {image}@{version}; nothing to do"
            );
            return CliApp.Ok;
        }

        await ctx.Out.WriteLineAsync(
            $"promotion #{result.Promotion!.Id} of {image}@{version} to {channel}:"
        );
        foreach (var (step, ran) in result.Steps)
        {
            await ctx.Out.WriteLineAsync(
                $"  {step.Status.ToString().ToLowerInvariant(), -9} {step.Target}/{step.Region}{(ran ? "" : " (done before)")}: {step.Detail}"
            );
        }

        if (result.Assignment is { } a)
        {
            await ctx.Out.WriteLineAsync(
                $"{channel} now points at {image}@{version} (was {a.PreviousVersion ?? "empty"})"
            );
            return CliApp.Ok;
        }

        await ctx.Error.WriteLineAsync(
            $"promotion #{result.Promotion.Id} failed; {channel} did not move. Fix the cause, then run "
                + $"'imageforge promote {image}@{version} --to {channel} --resume' to retry only the failed steps"
        );
        return CliApp.ToolFailure;
    }
}
