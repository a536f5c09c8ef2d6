using System.CommandLine;
using System.Globalization;
using ImageForge.Core.Errors;

namespace ImageForge.Cli;

/// <summary><c>imageforge revoke &lt;image&gt;@&lt;version&gt; --reason TEXT [--at TIME]</c>.</summary>
internal static class RevokeCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var reference = new Argument<string>("version")
        {
            Description = "The version to revoke: <image>@<version>",
        };
        var reason = new Option<string>("--reason")
        {
            Description = "Why it is revoked",
            Required = true,
        };
        var at = new Option<string?>("--at")
        {
            Description =
                "When it takes effect (ISO-8601, e.g. 2026-12-01T00:00Z); it is applied by the first promote, approve, "
                + "rollback, revoke, gc, channels or audit command run after that time [default: now]",
        };
        var command = new Command(
            "revoke",
            "Revoke a version: channels pointing at it roll back, descendants are flagged, providers deprecate it"
        )
        {
            reference,
            reason,
            at,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                var (image, version) = PromotionCli.Exact(parse.GetValue(reference)!);
                DateTimeOffset? when = null;
                if (parse.GetValue(at) is { } text)
                {
                    when = DateTimeOffset.TryParse(
                        text,
                        CultureInfo.InvariantCulture,
                        DateTimeStyles.AssumeUniversal,
                        out var parsed
                    )
                        ? parsed
                        : throw new InvalidInputException(
                            $"--at {text}: expected an ISO-8601 time such as 2026-12-01T00:00Z"
                        );
                }

                await using var cli = await PromotionCli.OpenAsync(ctx, ct);
                var result = await cli.Service.RevokeAsync(
                    image,
                    version,
                    parse.GetValue(reason)!,
                    when,
                    cli.Actor,
                    ct
                );
                if (result.Scheduled is { } s)
                {
                    await ctx.Out.WriteLineAsync(
                        $"{image}@{version} will be revoked at {Report.Time(s.EffectiveAt)}, by the first promotion command run after then"
                    );
                    return CliApp.Ok;
                }

                if (result.Record is { } r)
                {
                    await ctx.Out.WriteLineAsync($"revoked {image}@{version}: {r.Reason}");
                    foreach (var move in r.Channels)
                    {
                        await ctx.Out.WriteLineAsync(
                            move.To is null
                                ? $"  {move.Channel}: now EMPTY - no earlier good version to fall back to; promote one"
                                : $"  {move.Channel}: rolled back {move.From} -> {move.To}"
                        );
                    }

                    foreach (var (childImage, childVersion) in r.FlaggedDescendants)
                    {
                        await ctx.Out.WriteLineAsync(
                            $"  flagged {childImage}@{childVersion}: built on the revoked version"
                        );
                    }
                }
                else
                {
                    await ctx.Out.WriteLineAsync(
                        $"{image}@{version} was already revoked; deprecation steps run again"
                    );
                }

                var failed = false;
                foreach (var (target, outcome) in result.Deprecations)
                {
                    failed |= !outcome.Succeeded;
                    await ctx.Out.WriteLineAsync(
                        $"  {(outcome.Succeeded ? "deprecated" : "FAILED"), -10} {target}: {outcome.Detail}"
                    );
                }

                if (failed)
                {
                    await ctx.Error.WriteLineAsync(
                        "a deprecation step failed; rerun the same revoke to retry it"
                    );
                    return CliApp.ToolFailure;
                }

                return CliApp.Ok;
            }
        );
        return command;
    }
}
