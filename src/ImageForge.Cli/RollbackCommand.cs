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
        var reason = new Option<string?>("--reason") { Description = "Why, for the audit trail" };
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
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var image = parse.GetValue(imageArgument)!;
                var target = parse.GetValue(to) is { } t
                    ? PromotionCli.Exact($"{image}@{t}").Version
                    : null;
                var definition = PromotionCli.Definition(ctx, image);
                var name = parse.GetValue(channel)!;
                await using var cli = await PromotionCli.OpenAsync(ctx, ct);
                var moved = await cli.Service.RollbackAsync(
                    image,
                    name,
                    target,
                    definition.Channels,
                    cli.Actor,
                    cli.Policy.IsRestricted(name, definition.Channels),
                    parse.GetValue(reason),
                    ct
                );
                await ctx.Out.WriteLineAsync(
                    $"{name} of {image} rolled back: {moved.PreviousVersion ?? "empty"} -> {moved.Version}"
                );
                return CliApp.Ok;
            }
        );
        return command;
    }
}
