using System.CommandLine;

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
            async (parse, ct) =>
            {
                var ctx = context(parse);
                if (parse.GetValue(window) < 0)
                {
                    throw new ImageForge.Core.Errors.InvalidInputException(
                        "--window must be 0 or more days"
                    );
                }

                await using var cli = await PromotionCli.OpenAsync(ctx, ct);
                var plan = await cli.Service.CollectGarbageAsync(
                    parse.GetValue(keep),
                    TimeSpan.FromDays(parse.GetValue(window)),
                    parse.GetValue(apply),
                    cli.Actor,
                    ctx.Data,
                    ct
                );
                foreach (var (v, why) in plan.Kept)
                {
                    await ctx.Out.WriteLineAsync(
                        $"  keep    {v.Image}@{v.Version} ({v.Status}): {why}"
                    );
                }

                foreach (var v in plan.Removed)
                {
                    await ctx.Out.WriteLineAsync(
                        $"  {(plan.Applied ? "deleted" : "delete?"), -7} {v.Image}@{v.Version} ({v.Status})"
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
                return plan.Problems.Count == 0 ? CliApp.Ok : CliApp.ToolFailure;
            }
        );
        return command;
    }
}
