using System.CommandLine;
using ImageForge.Application.Operations;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge approve &lt;image&gt;@&lt;version&gt; --for &lt;channel&gt; [--reason TEXT]</c> and
/// <c>imageforge reject &lt;image&gt;@&lt;version&gt; --for &lt;channel&gt; --reason TEXT</c>: a release manager's
/// decision on a version for a channel.
/// </summary>
internal static class ApproveCommand
{
    public static Command Create(Func<ParseResult, CliContext> context) =>
        Decision(
            context,
            "approve",
            "Approve a version for a channel (release managers; four eyes: not the version's requester when the baseline asks)",
            "Why, for the audit trail",
            reasonRequired: false,
            async (operations, actor, image, version, channel, reason, ct) =>
            {
                var approval = await operations.ApproveAsync(
                    actor,
                    image,
                    version,
                    channel,
                    reason,
                    ct
                );
                return (
                    approval,
                    $"{approval.Actor} ({approval.Role}) approved {image}@{version} for {approval.Channel}; {approval.Approvals} approval(s) now"
                );
            }
        );

    public static Command CreateReject(Func<ParseResult, CliContext> context) =>
        Decision(
            context,
            "reject",
            "Reject a version for a channel, with a reason: it is not promoted there while the rejection stands (release managers)",
            "Why it may not enter the channel; recorded and shown to whoever promotes it",
            reasonRequired: true,
            async (operations, actor, image, version, channel, reason, ct) =>
            {
                var rejection = await operations.RejectAsync(
                    actor,
                    image,
                    version,
                    channel,
                    reason ?? "",
                    ct
                );
                return (
                    rejection,
                    $"{rejection.Actor} ({rejection.Role}) rejected {image}@{version} for {rejection.Channel}: {rejection.Reason}"
                );
            }
        );

    private static Command Decision<T>(
        Func<ParseResult, CliContext> context,
        string name,
        string description,
        string reasonDescription,
        bool reasonRequired,
        Func<
            PromotionOperations,
            Core.Promotion.Actor,
            string,
            string,
            string,
            string?,
            CancellationToken,
            Task<(T View, string Line)>
        > decide
    )
    {
        var reference = new Argument<string>("version")
        {
            Description = $"The version to {name}: <image>@<version>",
        };
        var channel = new Option<string>("--for")
        {
            Description =
                $"The channel the {(name == "approve" ? "approval" : "rejection")} is for",
            Required = true,
        };
        var reason = new Option<string?>("--reason")
        {
            Description = reasonDescription,
            Required = reasonRequired,
        }.WithReasonLimit();
        var command = new Command(name, description) { reference, channel, reason };
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
                        var (view, line) = await decide(
                            operations,
                            PromotionCli.Actor(ctx, operations),
                            image,
                            version,
                            parse.GetValue(channel)!,
                            parse.GetValue(reason),
                            ct
                        );
                        if (ctx.Json)
                        {
                            await Json.WriteAsync(ctx.Out, view);
                        }
                        else
                        {
                            await ctx.Out.WriteLineAsync(line);
                        }

                        return CliApp.Ok;
                    }
                );
            }
        );
        return command;
    }
}
