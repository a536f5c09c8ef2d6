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
        var live = new Option<bool>("--live")
        {
            Description =
                "Ask each cloud what it holds of each channel's images now and flag drift (exit 1 when there is any)",
        };
        var show = new Command(
            "show",
            "Each channel of the path with its version and its image per cloud and region, and optionally its history"
        )
        {
            image,
            history,
            live,
        };
        show.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var view = await PromotionCli
                    .Operations(ctx)
                    .ChannelsAsync(
                        parse.GetValue(image)!,
                        parse.GetValue(history),
                        parse.GetValue(live),
                        ct
                    );
                var drifted = view.Channels.Any(c => c.Images.Any(i => i.Drift is not null));
                var exit = drifted ? CliApp.NotOk : CliApp.Ok;
                if (ctx.Json)
                {
                    await Json.WriteAsync(ctx.Out, view);
                    return exit;
                }

                await ctx.Out.WriteLineAsync($"{"CHANNEL", -12} {"VERSION", -14} SINCE");
                foreach (var c in view.Channels)
                {
                    var restricted = c.Restricted ? "  (release managers)" : "";
                    await ctx.Out.WriteLineAsync(
                        $"{c.Channel, -12} {c.Version ?? "-", -14} {(c.Since is { } s ? Report.Time(s) : "-")}{restricted}"
                    );
                    foreach (var i in c.Images)
                    {
                        await ctx.Out.WriteLineAsync(
                            $"  {i.Target, -6} {i.Region, -16} {i.State, -11} {i.Id}"
                                + (i.Drift is null ? "" : $"  DRIFT: {i.Drift}")
                        );
                    }
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

                return exit;
            }
        );
        channels.Subcommands.Add(show);
        return channels;
    }
}
