using System.CommandLine;
using ImageForge.Application.Operations;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge promote &lt;image&gt;@&lt;version&gt; --to &lt;channel&gt; [--resume] [--skip RULE,... --skip-reason TEXT]</c>.
/// </summary>
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
        var skip = new Option<string[]>("--skip")
        {
            Description =
                "Admins only: skip these rules (previous-channel, soak, approvals, rescan; comma-separated), if the baseline marks them skippable for the channel",
            AllowMultipleArgumentsPerToken = true,
            CustomParser = result =>
                [
                    .. result.Tokens.SelectMany(t =>
                        t.Value.Split(
                            ',',
                            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries
                        )
                    ),
                ],
        };
        var skipReason = new Option<string?>("--skip-reason")
        {
            Description =
                "Why the rules are skipped (required with --skip; alone it skips the previous channel)",
        }.WithReasonLimit();
        var command = new Command(
            "promote",
            "Check the preconditions, publish the version's artifacts to the channel step by step, then move the channel"
        )
        {
            reference,
            to,
            resume,
            skip,
            skipReason,
        };
        command.SetAction(
            (parse, ct) =>
            {
                var ctx = context(parse);
                return PromotionCli.RunAsync(
                    ctx,
                    async () =>
                    {
                        var (image, version) = PromotionCli.Exact(parse.GetValue(reference)!);
                        var operations = PromotionCli.Operations(ctx);
                        var view = await operations.PromoteAsync(
                            PromotionCli.Actor(ctx, operations),
                            new PromoteInput(
                                image,
                                version,
                                parse.GetValue(to)!,
                                parse.GetValue(resume),
                                parse.GetValue(skipReason)
                            )
                            {
                                Skip = parse.GetValue(skip) ?? [],
                            },
                            ct
                        );
                        return await WriteAsync(ctx, view);
                    }
                );
            }
        );
        return command;
    }

    private static async Task<int> WriteAsync(CliContext ctx, PromotionView view)
    {
        var (image, version, channel) = (view.Image, view.Version, view.Channel);
        if (view.Status == PromotionStatuses.Refused)
        {
            return await PromotionCli.RefusedAsync(
                ctx,
                $"promotion of {image}@{version} to {channel} refused; nothing changed",
                view.Refusals
            );
        }

        var exit = view.Status == PromotionStatuses.Failed ? CliApp.ToolFailure : CliApp.Ok;
        if (ctx.Json)
        {
            await Json.WriteAsync(ctx.Out, view);
        }
        else if (view.Status == PromotionStatuses.AlreadyCurrent)
        {
            await ctx.Out.WriteLineAsync(
                $"{channel} already points at {image}@{version}; nothing to do"
            );
            return exit;
        }
        else
        {
            await ctx.Out.WriteLineAsync(
                $"promotion #{view.PromotionId} of {image}@{version} to {channel}:"
            );
            foreach (var step in view.Steps)
            {
                await ctx.Out.WriteLineAsync(
                    $"  {step.Status, -9} {step.Target}/{step.Region}{(step.RanNow ? "" : " (done before)")}: {step.Detail}"
                );
            }

            if (view.Status == PromotionStatuses.Promoted)
            {
                await ctx.Out.WriteLineAsync(
                    $"{channel} now points at {image}@{version} (was {view.PreviousVersion ?? "empty"})"
                );
            }
        }

        if (view.Status == PromotionStatuses.Failed)
        {
            await ctx.Error.WriteLineAsync(
                $"promotion #{view.PromotionId} failed; {channel} did not move. Fix the cause, then run "
                    + $"'imageforge promote {image}@{version} --to {channel} --resume' to retry only the failed steps"
            );
        }

        return exit;
    }
}
