using System.CommandLine;
using ImageForge.Application.Views;
using ImageForge.Core.Anomalies;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge anomalies &lt;image&gt;[@&lt;version&gt;]</c>: the anomaly report of one version (its latest without a
/// version), raised anomalies first, each with its one-line explanation and the baseline it was compared with.
/// Exit codes: 0 shown (whatever it holds: the gates and promotion decide), 1 the version has no anomaly report or its
/// stored report cannot be read (the message names the file), 2 unknown image or version or a malformed reference.
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
        command.Subcommands.Add(Acknowledge(context));
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
                var view = await AnomaliesView.LoadAsync(found, catalog, ct);
                if (view is null)
                {
                    await ctx.Error.WriteLineAsync(
                        $"{found.Image}@{found.Version} has no anomaly report (its target collects no image facts, or "
                            + "an older ImageForge built it); rebuild the image to compare it with its history"
                    );
                    return CliApp.NotOk;
                }
                if (ctx.Json)
                {
                    await Json.WriteAsync(ctx.Out, view);
                    return CliApp.Ok;
                }
                await WriteTextAsync(ctx.Out, view);
                return CliApp.Ok;
            }
        );
        return command;
    }

    // imageforge anomalies ack <image>@<version> <anomaly-id> --reason TEXT (release managers; audited).
    private static Command Acknowledge(Func<ParseResult, CliContext> context)
    {
        var reference = new Argument<string>("version")
        {
            Description = "The version: <image>@<version>",
        };
        var id = new Argument<string>("anomaly-id")
        {
            Description =
                "The anomaly's id, as 'imageforge anomalies' shows it (e.g. setuid_file-3fa2b1c4)",
        };
        var reason = new Option<string>("--reason")
        {
            Description = "Why the change is accepted, for the audit trail",
            Required = true,
        }.WithReasonLimit();
        var command = new Command(
            "ack",
            "Acknowledge a raised anomaly (release managers): a restricted channel needs every high or critical one acknowledged"
        )
        {
            reference,
            id,
            reason,
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
                        var operations = PromotionCli.Operations(ctx);
                        var ack = await operations.AcknowledgeAnomalyAsync(
                            PromotionCli.Actor(ctx, operations),
                            image,
                            version,
                            parse.GetValue(id)!,
                            parse.GetValue(reason)!,
                            ct
                        );
                        if (ctx.Json)
                        {
                            await Json.WriteAsync(ctx.Out, ack);
                        }
                        else
                        {
                            await ctx.Out.WriteLineAsync(
                                $"{ack.Actor} ({ack.Role}) acknowledged anomaly {ack.AnomalyId} of {image}@{version}: {ack.Reason}"
                            );
                        }
                        return CliApp.Ok;
                    }
                );
            }
        );
        return command;
    }

    private static async Task WriteTextAsync(TextWriter o, AnomaliesView report)
    {
        var raised = report.Anomalies.Where(a => a.Raised).ToList();
        await o.WriteLineAsync(
            $"{report.Image}@{report.Version}  target {report.Target}  compared with {report.ComparedWith.Count} "
                + $"build(s): {raised.Count} raised, {report.Anomalies.Count - raised.Count} inherited or expected"
        );
        if (report.ParentChange is { } parent)
        {
            await o.WriteLineAsync($"  checked against the parent's change: {parent}");
        }
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
            if (a.Acknowledgement is { } ack)
            {
                await o.WriteLineAsync(
                    $"            acknowledged by {ack.Actor} ({ack.Role}) at {ack.At:u}: {ack.Reason}"
                );
            }
        }
    }
}
