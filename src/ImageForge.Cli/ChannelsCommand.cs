using System.CommandLine;

namespace ImageForge.Cli;

/// <summary><c>imageforge channels show &lt;image&gt; [--history]</c>.</summary>
internal static class ChannelsCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var channels = new Command(
            "channels",
            "An image's channels: where each points and how it got there"
        );
        var image = new Argument<string>("image") { Description = "The image" };
        var history = new Option<bool>("--history")
        {
            Description = "Also list every assignment, oldest first",
        };
        var show = new Command(
            "show",
            "Each channel of the path with its version, and optionally its history"
        )
        {
            image,
            history,
        };
        show.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var view = await PromotionCli
                    .Operations(ctx)
                    .ChannelsAsync(parse.GetValue(image)!, parse.GetValue(history), ct);
                if (ctx.Json)
                {
                    await Json.WriteAsync(ctx.Out, view);
                    return CliApp.Ok;
                }

                await ctx.Out.WriteLineAsync($"{"CHANNEL", -12} {"VERSION", -14} SINCE");
                foreach (var c in view.Channels)
                {
                    var restricted = c.Restricted ? "  (release managers)" : "";
                    await ctx.Out.WriteLineAsync(
                        $"{c.Channel, -12} {c.Version ?? "-", -14} {(c.Since is { } s ? Report.Time(s) : "-")}{restricted}"
                    );
                }

                if (view.History is { } assignments)
                {
                    await ctx.Out.WriteLineAsync("history:");
                    foreach (var a in assignments)
                    {
                        await ctx.Out.WriteLineAsync(
                            $"  {Report.Time(a.At)}  {a.Channel, -10} {a.Action, -9} {a.PreviousVersion ?? "-"} -> {a.Version ?? "(empty)"}  by {a.Actor}{(a.Reason is null ? "" : $"  \"{a.Reason}\"")}"
                        );
                    }
                }

                return CliApp.Ok;
            }
        );
        channels.Subcommands.Add(show);
        return channels;
    }
}
