using System.CommandLine;
using ImageForge.Application.Operations;

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
        }.WithReasonLimit();
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
            (parse, ct) =>
            {
                var ctx = context(parse);
                return PromotionCli.RunAsync(
                    ctx,
                    async () =>
                    {
                        var (image, version) = PromotionCli.Exact(parse.GetValue(reference)!);
                        var when = parse.GetValue(at) is { } text
                            ? PromotionOperations.ParseTime(text, "--at")
                            : (DateTimeOffset?)null;
                        var operations = PromotionCli.Operations(ctx);
                        var result = await operations.RevokeAsync(
                            PromotionCli.Actor(ctx, operations),
                            image,
                            version,
                            parse.GetValue(reason)!,
                            when,
                            ct
                        );
                        if (ctx.Json)
                        {
                            await Json.WriteAsync(ctx.Out, result);
                        }
                        else
                        {
                            await WriteTextAsync(ctx, result);
                        }

                        if (result.DeprecationFailed)
                        {
                            await ctx.Error.WriteLineAsync(
                                "a provider step failed (following a channel or deprecating); rerun the same revoke to retry it"
                            );
                            return CliApp.ToolFailure;
                        }

                        return CliApp.Ok;
                    }
                );
            }
        );
        return command;
    }

    private static async Task WriteTextAsync(CliContext ctx, RevocationView r)
    {
        var (image, version) = (r.Image, r.Version);
        if (r.Status == RevocationStatuses.Scheduled)
        {
            await ctx.Out.WriteLineAsync(
                $"{image}@{version} will be revoked at {Report.Time(r.EffectiveAt)}, by the first promotion command run after then"
            );
            return;
        }

        if (r.Status == RevocationStatuses.Revoked)
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

            foreach (var child in r.Flagged)
            {
                await ctx.Out.WriteLineAsync(
                    $"  flagged {child.Image}@{child.Version}: built on the revoked version"
                );
            }
        }
        else
        {
            await ctx.Out.WriteLineAsync(
                $"{image}@{version} was already revoked; deprecation steps run again"
            );
        }

        foreach (var f in r.Follows)
        {
            await ctx.Out.WriteLineAsync(
                $"  {(f.Succeeded ? "followed" : "FAILED"), -10} {f.Target}: {f.Channel} now serves {f.Serving ?? "nothing (left empty)"}: {f.Detail}"
            );
        }

        foreach (var d in r.Deprecations)
        {
            await ctx.Out.WriteLineAsync(
                $"  {(d.Succeeded ? "deprecated" : "FAILED"), -10} {d.Target}: {d.Detail}"
            );
        }
    }
}
