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
        var reason = new Option<string?>("--reason") { Description = "Why, for the audit trail" };
        var command = new Command("approve", "Approve a version for a channel (release managers)")
        {
            reference,
            channel,
            reason,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var (image, version) = PromotionCli.Exact(parse.GetValue(reference)!);
                var definition = PromotionCli.Definition(ctx, image);
                await using var cli = await PromotionCli.OpenAsync(ctx, ct);
                var approval = await cli.Service.ApproveAsync(
                    image,
                    version,
                    parse.GetValue(channel)!,
                    definition.Channels,
                    cli.Actor,
                    parse.GetValue(reason),
                    ct
                );
                var count = (
                    await cli.Catalog.GetApprovalsAsync(image, version, approval.Channel, ct)
                ).Count;
                await ctx.Out.WriteLineAsync(
                    $"{approval.Actor} ({approval.Role}) approved {image}@{version} for {approval.Channel}; {count} approval(s) now"
                );
                return CliApp.Ok;
            }
        );
        return command;
    }
}
