using System.CommandLine;
using ImageForge.Core.Definitions;

namespace ImageForge.Cli;

/// <summary><c>imageforge validate [PATH...]</c>: every problem of definitions and baselines, file:line, exit 2.</summary>
internal static class ValidateCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var paths = new Argument<string[]>("path")
        {
            Description =
                "Definition or baseline files or directories [default: all definitions and baselines]",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command(
            "validate",
            "Check image definitions and baselines; report every problem with file:line"
        )
        {
            paths,
        };
        command.SetAction(
            async (parse, _) =>
            {
                var ctx = context(parse);
                var today = DateOnly.FromDateTime(ctx.Time.GetUtcNow().UtcDateTime);
                var given = parse.GetValue(paths) ?? [];
                var set =
                    given.Length == 0
                        ? DefinitionLoader.Load(ctx.Content, today, ctx.Host.Providers)
                        : DefinitionLoader.LoadFiles(given, ctx.Content, today, ctx.Host.Providers);
                if (ctx.Json)
                {
                    await Json.WriteAsync(
                        ctx.Out,
                        new
                        {
                            valid = set.Problems.Count == 0,
                            images = set.Images.Select(i => new { i.Name, file = i.SourceFile }),
                            baselines = set.Baselines.Select(b => new
                            {
                                b.Name,
                                file = b.SourceFile,
                            }),
                            problems = set.Problems,
                        }
                    );
                }
                else
                {
                    foreach (var problem in set.Problems)
                    {
                        await ctx.Error.WriteLineAsync(problem.ToString());
                    }

                    await ctx.Out.WriteLineAsync(
                        set.Problems.Count == 0
                            ? $"ok: {set.Images.Count} image definition(s), {set.Baselines.Count} baseline(s)"
                            : $"{set.Problems.Count} problem(s) in {set.Problems.Select(p => p.File).Distinct().Count()} file(s)"
                    );
                }

                return set.Problems.Count == 0 ? CliApp.Ok : CliApp.BadInput;
            }
        );
        return command;
    }
}
