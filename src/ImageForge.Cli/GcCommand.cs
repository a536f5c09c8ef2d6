using System.CommandLine;
using ImageForge.Application.Operations;
using ImageForge.Core.Builds;

namespace ImageForge.Cli;

/// <summary><c>imageforge gc [--keep N] [--window DAYS] [--apply]</c>.</summary>
internal static class GcCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var keep = new Option<int>("--keep")
        {
            Description = "Versions to keep per image, newest first",
            DefaultValueFactory = _ => 5,
        };
        var window = new Option<int>("--window")
        {
            Description = "Also keep every version a channel pointed at within this many days",
            DefaultValueFactory = _ => 30,
        };
        var apply = new Option<bool>("--apply")
        {
            Description = "Delete (admins); without it only show what would go",
        };
        var command = new Command(
            "gc",
            "Retention: delete the artifacts of versions no longer kept (dry run by default)"
        )
        {
            keep,
            window,
            apply,
        };
        command.SetAction(
            (parse, ct) =>
            {
                var ctx = context(parse);
                return PromotionCli.RunAsync(
                    ctx,
                    async () =>
                    {
                        var operations = PromotionCli.Operations(ctx);
                        var plan = await operations.CollectGarbageAsync(
                            PromotionCli.Actor(ctx, operations),
                            parse.GetValue(keep),
                            parse.GetValue(window),
                            parse.GetValue(apply),
                            ct
                        );
                        if (ctx.Json)
                        {
                            await Json.WriteAsync(ctx.Out, plan);
                        }
                        else
                        {
                            await WriteTextAsync(ctx, plan);
                        }

                        return plan.Problems.Count == 0 ? CliApp.Ok : CliApp.ToolFailure;
                    }
                );
            }
        );
        return command;
    }

    private static async Task WriteTextAsync(CliContext ctx, RetentionView plan)
    {
        foreach (var v in plan.Kept)
        {
            await ctx.Out.WriteLineAsync(
                $"  keep    {v.Image}@{v.Version} ({v.Status.Name()}): {v.Why}"
            );
        }

        foreach (var v in plan.Removed)
        {
            await ctx.Out.WriteLineAsync(
                $"  {(plan.Applied ? "deleted" : "delete?"), -7} {v.Image}@{v.Version} ({v.Status.Name()})"
            );
        }

        foreach (var problem in plan.Problems)
        {
            await ctx.Error.WriteLineAsync($"  problem: {problem}");
        }

        await ctx.Out.WriteLineAsync(
            plan.Applied
                ? $"deleted {plan.Removed.Count} version(s), kept {plan.Kept.Count}"
                : $"dry run: {plan.Removed.Count} version(s) would be deleted, {plan.Kept.Count} kept; run with --apply to delete"
        );
    }
}
