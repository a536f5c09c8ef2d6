using System.CommandLine;
using ImageForge.Application;
using ImageForge.Application.Views;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;

namespace ImageForge.Cli;

/// <summary><c>imageforge builds list | show | logs | cancel</c>.</summary>
internal static class BuildsCommands
{
    private static readonly TimeSpan FollowPoll = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan CancelWait = TimeSpan.FromSeconds(60);

    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var builds = new Command("builds", "List builds, show one, read its log, cancel it");
        builds.Subcommands.Add(List(context));
        builds.Subcommands.Add(Show(context));
        builds.Subcommands.Add(Logs(context));
        builds.Subcommands.Add(Cancel(context));
        return builds;
    }

    private static Command List(Func<ParseResult, CliContext> context)
    {
        var image = new Option<string?>("--image") { Description = "Only builds of this image" };
        var limit = new Option<int>("--limit")
        {
            Description = "At most this many builds",
            DefaultValueFactory = _ => 50,
        };
        var command = new Command("list", "Builds, newest first") { image, limit };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var session = await ctx.OpenSessionAsync(ct);
                if (session.Local is { } local)
                {
                    await CliStaleBuilds.ReapAsync(local, ctx, ct);
                }

                var rows = await session.Reader.ListBuildsAsync(
                    parse.GetValue(image),
                    parse.GetValue(limit),
                    ct
                );
                if (ctx.Json)
                {
                    await Json.WriteAsync<IReadOnlyList<BuildView>>(
                        ctx.Out,
                        [.. rows.Select(BuildView.From)]
                    );
                    return CliApp.Ok;
                }

                if (rows.Count == 0)
                {
                    await ctx.Out.WriteLineAsync("no builds yet: run 'imageforge build <image>'");
                    return CliApp.Ok;
                }

                await ctx.Out.WriteLineAsync(
                    $"{"ID", -6} {"IMAGE", -24} {"TARGET", -7} {"STATUS", -11} {"STARTED", -20} {"VERSION", -14} {"TRY", -3} {"WORKER", -21} REASON"
                );
                foreach (var b in rows)
                {
                    await ctx.Out.WriteLineAsync(
                        $"{b.Id, -6} {b.Image, -24} {b.Target, -7} {Report.Lower(b.Status), -11} {Report.Time(b.StartedAt), -20} {b.Version ?? "-", -14} {AttemptsText(b), -3} {b.LeaseWorker ?? "-", -21} {b.Reason}"
                    );
                }

                return CliApp.Ok;
            }
        );
        return command;
    }

    // How many times a worker claimed it; "-" for a build the command line ran (never claimed).
    private static string AttemptsText(BuildRecord b) =>
        b.Attempts > 0
            ? b.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : "-";

    private static Command Show(Func<ParseResult, CliContext> context)
    {
        var id = new Argument<string>("id") { Description = "Build id" };
        var command = new Command("show", "One build: status, inputs, timing, outcome") { id };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var session = await ctx.OpenSessionAsync(ct);
                var b = await FindAsync(session.Reader, parse.GetValue(id)!, ct);
                if (ctx.Json)
                {
                    await Json.WriteAsync(ctx.Out, BuildView.From(b));
                    return CliApp.Ok;
                }

                var took = b.EndedAt is { } end ? Report.Duration(end - b.StartedAt) : "running";
                await ctx.Out.WriteLineAsync(
                    $"""
                    build        {b.Id}
                    image        {b.Image}
                    target       {b.Target}
                    status       {Report.Lower(b.Status)}
                    trigger      {Report.Lower(b.Trigger)} by {b.Requester}
                    reason       {b.Reason ?? "-"}
                    fingerprint  {b.Fingerprint}
                    started      {Report.Time(b.StartedAt)}
                    ended        {Report.Time(b.EndedAt)} ({took})
                    version      {b.Version ?? "-"}
                    attempts     {AttemptsText(b)}
                    worker       {b.LeaseWorker ?? "-"}
                    """
                );
                if (!string.IsNullOrEmpty(b.Message))
                {
                    await ctx.Out.WriteLineAsync(
                        $"message      {b.Message.ReplaceLineEndings("\n             ")}"
                    );
                }

                return CliApp.Ok;
            }
        );
        return command;
    }

    private static Command Logs(Func<ParseResult, CliContext> context)
    {
        var id = new Argument<string>("id") { Description = "Build id" };
        var follow = new Option<bool>("--follow", "-f")
        {
            Description = "Keep printing new lines until the build ends",
        };
        var command = new Command("logs", "A build's log (secrets redacted)") { id, follow };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                await using var session = await ctx.OpenSessionAsync(ct);
                var build = await FindAsync(session.Reader, parse.GetValue(id)!, ct);
                await PrintLogAsync(
                    ctx,
                    ctx.Out,
                    ctx.Json,
                    session.Reader,
                    build.Id,
                    parse.GetValue(follow),
                    ct
                );
                return CliApp.Ok;
            }
        );
        return command;
    }

    /// <summary>
    /// Prints a build's log; with <paramref name="follow"/> keeps printing new lines until the build has ended and
    /// every line was printed, to <paramref name="writer"/>, as JSON lines or text. Returns the build as it ended (or
    /// is now, without follow).
    /// </summary>
    public static async Task<BuildRecord> PrintLogAsync(
        CliContext ctx,
        TextWriter writer,
        bool json,
        ICatalogReader catalog,
        string buildId,
        bool follow,
        CancellationToken ct
    )
    {
        long after = 0;
        while (true)
        {
            // Status first, then lines: a build that ended before the read has flushed its last lines.
            var current = await FindAsync(catalog, buildId, ct);
            var lines = await catalog.ReadLogAsync(buildId, after, 10_000, ct);
            foreach (var line in lines)
            {
                await writer.WriteLineAsync(
                    json
                        ? System.Text.Json.JsonSerializer.Serialize(
                            new
                            {
                                seq = line.Sequence,
                                time = line.Time,
                                stream = line.Stream,
                                text = line.Text,
                            },
                            Json.Compact
                        )
                        : $"{Report.Time(line.Time)} {line.Stream, -6} {line.Text}"
                );
                after = line.Sequence;
            }

            var ended = current.Status is not (BuildStatus.Running or BuildStatus.Queued);
            if (!follow || (ended && lines.Count == 0))
            {
                return current;
            }

            if (lines.Count == 0)
            {
                await Task.Delay(FollowPoll, ctx.Time, ct);
            }
        }
    }

    private static Command Cancel(Func<ParseResult, CliContext> context)
    {
        var id = new Argument<string>("id") { Description = "Build id" };
        var command = new Command("cancel", "Cancel a running build and wait until it has stopped")
        {
            id,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                if (ctx.Server is not null)
                {
                    return await CancelRemoteAsync(ctx, parse.GetValue(id)!, ct);
                }

                await using var catalog = await ctx.OpenCatalogAsync(ct);
                var build = await FindAsync(catalog, parse.GetValue(id)!, ct);
                if (build.Status != BuildStatus.Running)
                {
                    throw new InvalidInputException(
                        $"build {build.Id} is {Report.Lower(build.Status)}, not running: nothing to cancel"
                    );
                }

                if (!StaleBuilds.OwnerAlive(build))
                {
                    await StaleBuilds.EndAsync(
                        catalog,
                        ctx.Data,
                        ctx.Time,
                        build,
                        BuildStatus.Cancelled,
                        "cancelled on request; its process was already gone",
                        ct
                    );
                }
                else
                {
                    await catalog.RequestCancelAsync(build.Id, ct);
                    var deadline = ctx.Time.GetUtcNow() + CancelWait;
                    while (
                        (await catalog.GetBuildAsync(build.Id, ct))!.Status == BuildStatus.Running
                    )
                    {
                        if (ctx.Time.GetUtcNow() > deadline)
                        {
                            await ctx.Error.WriteLineAsync(
                                $"build {build.Id} has not stopped after {CancelWait.TotalSeconds:0}s; its process ({build.OwnerPid}) is still cleaning up"
                            );
                            return CliApp.ToolFailure;
                        }

                        await Task.Delay(FollowPoll, ctx.Time, ct);
                    }
                }

                var ended = (await catalog.GetBuildAsync(build.Id, ct))!;
                if (ctx.Json)
                {
                    await Json.WriteAsync(ctx.Out, BuildView.From(ended));
                }
                else
                {
                    await ctx.Out.WriteLineAsync($"build {ended.Id}: {Report.Lower(ended.Status)}");
                }

                return CliApp.Ok;
            }
        );
        return command;
    }

    // The worker cancels a queued build at once and stops a running one within seconds; wait for that.
    private static async Task<int> CancelRemoteAsync(
        CliContext ctx,
        string id,
        CancellationToken ct
    )
    {
        await using var session = await ctx.OpenSessionAsync(ct);
        var build = await session.Remote!.CancelBuildAsync(id, ct);
        var deadline = ctx.Time.GetUtcNow() + CancelWait;
        while (build.Status is BuildStatus.Running or BuildStatus.Queued)
        {
            if (ctx.Time.GetUtcNow() > deadline)
            {
                await ctx.Error.WriteLineAsync(
                    $"build {build.Id} has not stopped after {CancelWait.TotalSeconds:0}s; the worker is still cleaning up"
                );
                return CliApp.ToolFailure;
            }

            await Task.Delay(FollowPoll, ctx.Time, ct);
            build = await FindAsync(session.Reader, id, ct);
        }

        if (ctx.Json)
        {
            await Json.WriteAsync(ctx.Out, BuildView.From(build));
        }
        else
        {
            await ctx.Out.WriteLineAsync($"build {build.Id}: {Report.Lower(build.Status)}");
        }

        return CliApp.Ok;
    }

    private static async Task<BuildRecord> FindAsync(
        ICatalogReader catalog,
        string id,
        CancellationToken ct
    ) =>
        await catalog.GetBuildAsync(id, ct)
        ?? throw new InvalidInputException(
            $"no build with id '{id}'; 'imageforge builds list' shows the ids"
        );
}
