using System.CommandLine;

namespace ImageForge.Cli;

/// <summary><c>imageforge approve &lt;image&gt;@&lt;version&gt; --for &lt;channel&gt; [--reason TEXT]</c>.</summary>
internal static class ApproveCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var reference = new Argument<string>("version")
        {
            Description = "The version to approve: <image>@<version>",
        };
        var channel = new Option<string>("--for")
        {
            Description = "The channel the approval is for",
            Required = true,
        };
        var reason = new Option<string?>("--reason")
        {
            Description = "Why, for the audit trail",
        }.WithReasonLimit();
        var command = new Command("approve", "Approve a version for a channel (release managers)")
        {
            reference,
            channel,
            reason,
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
                        var approval = await operations.ApproveAsync(
                            PromotionCli.Actor(ctx, operations),
                            image,
                            version,
                            parse.GetValue(channel)!,
                            parse.GetValue(reason),
                            ct
                        );
                        if (ctx.Json)
                        {
                            await Json.WriteAsync(ctx.Out, approval);
                        }
                        else
                        {
                            await ctx.Out.WriteLineAsync(
                                $"{approval.Actor} ({approval.Role}) approved {image}@{version} for {approval.Channel}; {approval.Approvals} approval(s) now"
                            );
                        }

                        return CliApp.Ok;
                    }
                );
            }
        );
        return command;
    }
}
