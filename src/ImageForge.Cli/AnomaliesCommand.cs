using System.CommandLine;
using ImageForge.Core.Anomalies;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge anomalies &lt;image&gt;[@&lt;version&gt;]</c>: the anomaly report of one version (its latest without a
/// version), raised anomalies first, each with its one-line explanation and the baseline it was compared with.
/// Exit codes: 0 shown (whatever it holds: the gates and promotion decide), 1 the version has no anomaly report, 2
/// unknown image or version or a malformed reference.
/// </summary>
internal static class AnomaliesCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var reference = new Argument<string>("version")
        {
            Description = "<image>@<version>, or <image> for its latest version",
        };
        var command = new Command(
            "anomalies",
            "What changed in a build against the image's history (new setuid files, sources, accounts, sizes...), "
                + "each anomaly explained in one line"
        )
        {
            reference,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var catalog = await ctx.OpenCatalogAsync(ct);
                var found = await VersionReference.ResolveAsync(
                    catalog,
                    parse.GetValue(reference)!,
                    ct
                );
                var evidence = found.Evidence.LastOrDefault(e => e.Kind == AnomalyReport.Kind);
                if (evidence is null)
                {
                    await ctx.Error.WriteLineAsync(
                        $"{found.Image}@{found.Version} has no anomaly report (its target collects no image facts, or "
                            + "an older ImageForge built it); rebuild the image to compare it with its history"
                    );
                    return CliApp.NotOk;
                }
                var report = AnomalyReport.Read(evidence.Location);
                if (ctx.Json)
                {
                    await Json.WriteAsync(ctx.Out, report);
                    return CliApp.Ok;
                }
                await WriteTextAsync(ctx.Out, report);
                return CliApp.Ok;
            }
        );
        return command;
    }

    private static async Task WriteTextAsync(TextWriter o, AnomalyReport report)
    {
        var raised = report.Raised.ToList();
        await o.WriteLineAsync(
            $"{report.Image}@{report.Version}  target {report.Target}  compared with {report.ComparedWith.Count} "
                + $"build(s): {raised.Count} raised, {report.Anomalies.Count - raised.Count} inherited or expected"
        );
        foreach (var a in report.Anomalies)
        {
            var state =
                a.Inherited ? "inherited"
                : a.SuppressedBy is not null ? "expected"
                : AnomalySeverities.Name(a.Severity);
            await o.WriteLineAsync($"  {state, -9} {a.Id}  {a.Explanation}");
            if (a.SuppressedBy is not null)
            {
                await o.WriteLineAsync($"            {a.SuppressedBy}");
            }
        }
    }
}
