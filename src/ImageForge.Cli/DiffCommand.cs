using System.CommandLine;
using ImageForge.Application.Views;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge diff &lt;image&gt;@&lt;a&gt; &lt;image&gt;@&lt;b&gt;</c>: packages added, removed and changed from a to b, and
/// findings fixed and introduced (by source, advisory and package, from each version's newest findings).
/// </summary>
internal static class DiffCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var from = new Argument<string>("from")
        {
            Description = "The older version: <image>@<version>",
        };
        var to = new Argument<string>("to")
        {
            Description = "The newer version: <image>@<version>",
        };
        var command = new Command(
            "diff",
            "Packages added, removed and changed, and findings fixed and introduced, between two image versions"
        )
        {
            from,
            to,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var catalog = await ctx.OpenCatalogAsync(ct);
                var a = await VersionReference.ResolveAsync(catalog, parse.GetValue(from)!, ct);
                var b = await VersionReference.ResolveAsync(catalog, parse.GetValue(to)!, ct);
                var diff = VersionDiffs.Compute(a, b);
                if (ctx.Json)
                {
                    await Json.WriteAsync(ctx.Out, diff);
                    return CliApp.Ok;
                }
                await WriteTextAsync(ctx.Out, diff);
                return CliApp.Ok;
            }
        );
        return command;
    }

    private static async Task WriteTextAsync(TextWriter o, VersionDiff d)
    {
        await o.WriteLineAsync($"{d.From} -> {d.To}");
        await o.WriteLineAsync(
            $"packages: {d.Added.Count} added, {d.Removed.Count} removed, {d.Changed.Count} changed"
        );
        foreach (var p in d.Added)
        {
            await o.WriteLineAsync($"  + {p.Name} ({p.Architecture}) {p.To}");
        }
        foreach (var p in d.Removed)
        {
            await o.WriteLineAsync($"  - {p.Name} ({p.Architecture}) {p.From}");
        }
        foreach (var p in d.Changed)
        {
            await o.WriteLineAsync($"  ~ {p.Name} ({p.Architecture}) {p.From} -> {p.To}");
        }
        if (!d.FindingsCompared)
        {
            await o.WriteLineAsync(
                "findings: not compared (a version has no vulnerability findings; run 'imageforge scan')"
            );
            return;
        }
        await o.WriteLineAsync(
            $"findings: {d.FindingsFixed.Count} fixed, {d.FindingsIntroduced.Count} introduced"
        );
        foreach (var f in d.FindingsFixed)
        {
            await o.WriteLineAsync(
                $"  fixed      {f.Severity, -9} {f.Advisory, -22} {f.Package} {f.InstalledVersion} ({f.Source})"
            );
        }
        foreach (var f in d.FindingsIntroduced)
        {
            await o.WriteLineAsync(
                $"  introduced {f.Severity, -9} {f.Advisory, -22} {f.Package} {f.InstalledVersion} ({f.Source})"
            );
        }
    }
}
