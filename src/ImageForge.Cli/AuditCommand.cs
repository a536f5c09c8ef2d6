using System.CommandLine;

namespace ImageForge.Cli;

/// <summary><c>imageforge audit log [--image X] | verify</c>.</summary>
internal static class AuditCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var audit = new Command("audit", "The tamper-evident audit trail of every action");
        var image = new Option<string?>("--image") { Description = "Only events about this image" };
        var limit = new Option<int>("--limit")
        {
            Description = "At most this many events",
            DefaultValueFactory = _ => 1000,
        };
        var log = new Command(
            "log",
            "Events in order: sequence, time, actor (role), action, subject, reason"
        )
        {
            image,
            limit,
        };
        log.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var cli = await PromotionCli.OpenAsync(ctx, ct);
                var events = await cli.Catalog.ReadAuditAsync(
                    parse.GetValue(image),
                    0,
                    parse.GetValue(limit),
                    ct
                );
                if (ctx.Json)
                {
                    await Json.WriteAsync(
                        ctx.Out,
                        events.Select(e => new
                        {
                            seq = e.Sequence,
                            time = e.Entry.Time,
                            action = e.Entry.Action,
                            actor = e.Entry.Actor,
                            role = e.Entry.Role,
                            image = e.Entry.Image,
                            version = e.Entry.Version,
                            channel = e.Entry.Channel,
                            reason = e.Entry.Reason,
                            details = e.Entry.Details,
                            prev_hash = e.PreviousHash,
                            hash = e.Hash,
                        })
                    );
                    return CliApp.Ok;
                }

                foreach (var e in events)
                {
                    var subject = e.Entry.Image is null
                        ? ""
                        : $"{e.Entry.Image}{(e.Entry.Version is null ? "" : "@" + e.Entry.Version)}";
                    var channel = e.Entry.Channel is null ? "" : $" -> {e.Entry.Channel}";
                    var reason = e.Entry.Reason is null ? "" : $"  \"{e.Entry.Reason}\"";
                    await ctx.Out.WriteLineAsync(
                        $"{e.Sequence, 6}  {Report.Time(e.Entry.Time)}  {e.Entry.Actor} ({e.Entry.Role})  {e.Entry.Action, -16} {subject}{channel}{reason}"
                    );
                }

                return CliApp.Ok;
            }
        );
        var verify = new Command(
            "verify",
            "Recompute the hash chain; exit 1 naming the first edited, deleted or reordered event"
        );
        verify.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var cli = await PromotionCli.OpenAsync(ctx, ct);
                var result = await cli.Catalog.VerifyAuditAsync(ct);
                if (result.Ok)
                {
                    await ctx.Out.WriteLineAsync(
                        $"audit trail intact: {result.Checked} event(s), hash chain verified"
                    );
                    return CliApp.Ok;
                }

                await ctx.Out.WriteLineAsync(
                    $"audit trail BROKEN at event {result.FirstBadSequence}: {result.Problem} ({result.Checked} event(s) before it verified)"
                );
                return CliApp.NotOk;
            }
        );
        audit.Subcommands.Add(log);
        audit.Subcommands.Add(verify);
        return audit;
    }
}
