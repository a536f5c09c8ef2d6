using System.CommandLine;

namespace ImageForge.Cli;

/// <summary><c>imageforge rollback &lt;image&gt; --channel &lt;c&gt; [--to &lt;version&gt;]</c>.</summary>
internal static class RollbackCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var imageArgument = new Argument<string>("image") { Description = "The image" };
        var channel = new Option<string>("--channel")
        {
            Description = "The channel to move back",
            Required = true,
        };
        var to = new Option<string?>("--to")
        {
            Description =
                "The version to return to (it must have been in the channel and not be revoked) [default: the previous one]",
        };
        var reason = new Option<string?>("--reason")
        {
            Description = "Why, for the audit trail",
        }.WithReasonLimit();
        var command = new Command(
            "rollback",
            "Move a channel back to its previous good version in one step"
        )
        {
            imageArgument,
            channel,
            to,
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
                        var image = parse.GetValue(imageArgument)!;
                        var target = parse.GetValue(to) is { } t
                            ? PromotionCli.Exact($"{image}@{t}").Version
                            : null;
                        var operations = PromotionCli.Operations(ctx);
                        var moved = await operations.RollbackAsync(
                            PromotionCli.Actor(ctx, operations),
                            image,
                            parse.GetValue(channel)!,
                            target,
                            parse.GetValue(reason),
                            ct
                        );
                        if (ctx.Json)
                        {
                            await Json.WriteAsync(ctx.Out, moved);
                        }
                        else
                        {
                            await ctx.Out.WriteLineAsync(
                                $"{moved.Channel} of {image} rolled back: {moved.PreviousVersion ?? "empty"} -> {moved.Version}"
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
