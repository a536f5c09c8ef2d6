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
                var name = parse.GetValue(image)!;
                var definition = PromotionCli.Definition(ctx, name);
                await using var cli = await PromotionCli.OpenAsync(ctx, ct);
                var states = await cli.Catalog.GetChannelsAsync(name, ct);
                var assignments = await cli.Catalog.GetHistoryAsync(name, null, ct);
                await ctx.Out.WriteLineAsync($"{"CHANNEL", -12} {"VERSION", -14} SINCE");
                foreach (var channel in definition.Channels)
                {
                    var state = states.FirstOrDefault(s => s.Channel == channel);
                    var restricted = cli.Policy.IsRestricted(channel, definition.Channels)
                        ? "  (release managers)"
                        : "";
                    await ctx.Out.WriteLineAsync(
                        $"{channel, -12} {state?.Version ?? "-", -14} {(state?.Since is { } s ? Report.Time(s) : "-")}{restricted}"
                    );
                }

                if (parse.GetValue(history))
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
