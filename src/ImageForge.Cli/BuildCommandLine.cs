using System.CommandLine;
using ImageForge.Application;
using ImageForge.Application.Views;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;

namespace ImageForge.Cli;

/// <summary>
/// <c>imageforge build &lt;image&gt;</c>: runs a build in this process with live progress;
/// <c>imageforge build --resume &lt;build&gt;</c> takes up a build whose imports failed or were interrupted.
/// </summary>
internal static class BuildCommandLine
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var image = new Argument<string?>("image")
        {
            Description = "The image definition's name, e.g. debian-11-cis",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var target = new Option<string?>("--target")
        {
            Description =
                "Target to build: local, aws, azure or gcp [default: every target of the definition]",
        };
        var resume = new Option<string?>("--resume")
        {
            Description =
                "Take up this build where its imports stopped (same build, same version); give no image",
        };
        var reason = new Option<string?>("--reason")
        {
            Description = "Why this build runs, e.g. \"CVE-2026-1234\"",
        }.WithReasonLimit();
        var verbose = new Option<bool>("--verbose")
        {
            Description = "Print every line of Packer output while building",
        };
        var timeout = new Option<int?>("--timeout-minutes")
        {
            Description = "Stop the build after this many minutes [default: 60]",
        };
        var command = new Command("build", "Build an image now, with live progress")
        {
            image,
            target,
            reason,
            verbose,
            timeout,
            resume,
        };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var ctx = context(parse);
                var resumed = parse.GetValue(resume);
                if ((resumed is null) == (parse.GetValue(image) is null))
                {
                    throw new InvalidInputException(
                        resumed is null
                            ? "name the image to build, e.g. 'imageforge build debian-11-cis', or resume a build with --resume BUILD"
                            : "--resume takes up a build as it was begun: give no image and no --target"
                    );
                }

                if (
                    resumed is not null
                    && (parse.GetValue(target) is not null || ctx.Server is not null)
                )
                {
                    throw new InvalidInputException(
                        "--resume runs in this process on the build's own data directory: leave out --target and --server"
                    );
                }

                if (ctx.Server is not null)
                {
                    return await QueueOnServerAsync(
                        ctx,
                        parse.GetValue(image)!,
                        parse.GetValue(target),
                        parse.GetValue(reason),
                        cancellationToken
                    );
                }

                await using var catalog = await ctx.OpenCatalogAsync(cancellationToken);
                await CliStaleBuilds.ReapAsync(catalog, ctx, cancellationToken);

                var minutes = parse.GetValue(timeout);
                var service = ctx.Pipeline.BuildService(
                    catalog,
                    minutes is > 0
                        ? TimeSpan.FromMinutes(minutes.Value)
                        : Pipeline.DefaultBuildTimeout,
                    Environment.ProcessId
                );
                var observer = new ConsoleBuildObserver(ctx.Error, parse.GetValue(verbose));
                var outcome = resumed is not null
                    ? await service.ResumeAsync(resumed, ctx.Content, observer, cancellationToken)
                    : await service.RunAsync(
                        service.Prepare(
                            new BuildCommand(
                                parse.GetValue(image)!,
                                parse.GetValue(target),
                                BuildTrigger.Manual,
                                Environment.UserName,
                                parse.GetValue(reason)
                            ),
                            ctx.Content
                        ),
                        observer,
                        cancellationToken
                    );
                await Report.BuildOutcomeAsync(ctx, outcome);
                if (outcome.Version is { Status: VersionStatus.Rejected } rejected)
                {
                    await PolicyCommand.ReportRejectionAsync(ctx, rejected);
                    return CliApp.NotOk;
                }
                return outcome.Build.Status switch
                {
                    BuildStatus.Succeeded => CliApp.Ok,
                    BuildStatus.Cancelled => CliApp.Cancelled,
                    _ => CliApp.ToolFailure,
                };
            }
        );
        return command;
    }

    // With --server: the worker queues the build (or joins one already queued) and runs it; this process follows its
    // log until it ends. Ctrl-C stops following, not the build ('imageforge builds cancel ID --server ...' does).
    private static async Task<int> QueueOnServerAsync(
        CliContext ctx,
        string image,
        string? target,
        string? reason,
        CancellationToken cancellationToken
    )
    {
        await using var session = await ctx.OpenSessionAsync(cancellationToken);
        var (build, joined) = await session.Remote!.QueueBuildAsync(
            image,
            target,
            reason,
            null,
            cancellationToken
        );
        await ctx.Error.WriteLineAsync(
            joined
                ? $"build {build.Id} of {build.Image} was already queued on {ctx.Server}; following it"
                : $"build {build.Id} of {build.Image} queued on {ctx.Server}; following its log (Ctrl-C stops following)"
        );
        // The log is progress for people (stderr); with --output json only the ended build goes to stdout.
        var ended = await BuildsCommands.PrintLogAsync(
            ctx,
            ctx.Error,
            false,
            session.Reader,
            build.Id,
            follow: true,
            cancellationToken
        );
        if (ctx.Json)
        {
            await Json.WriteAsync(ctx.Out, BuildView.From(ended));
        }
        else
        {
            await ctx.Error.WriteLineAsync(
                $"{Report.Lower(ended.Status)}: build {ended.Id} of {ended.Image}"
                    + (ended.Version is null ? "" : $", version {ended.Image}@{ended.Version}")
                    + (string.IsNullOrEmpty(ended.Message) ? "" : $": {ended.Message}")
            );
        }

        // As in-process: a version its gates rejected is a build that worked and an image that may not ship.
        if (
            ended is { Status: BuildStatus.Succeeded, Version: { } number }
            && await session.Reader.GetVersionAsync(ended.Image, number, cancellationToken)
                is { Status: VersionStatus.Rejected } rejected
        )
        {
            await PolicyCommand.ReportRejectionAsync(ctx, rejected);
            return CliApp.NotOk;
        }

        return ended.Status switch
        {
            BuildStatus.Succeeded => CliApp.Ok,
            BuildStatus.Cancelled => CliApp.Cancelled,
            _ => CliApp.ToolFailure,
        };
    }

    private sealed class ConsoleBuildObserver(TextWriter error, bool verbose) : IBuildObserver
    {
        private readonly Lock _gate = new();

        public void Started(BuildRecord build)
        {
            lock (_gate)
            {
                error.WriteLine(
                    $"build {build.Id} of {build.Image} ({build.Target}) started; Ctrl-C cancels, "
                        + $"'imageforge builds logs {build.Id} --follow' streams its log"
                );
            }
        }

        public void Progress(string stage, string detail, TimeSpan elapsed)
        {
            lock (_gate)
            {
                error.WriteLine($"[{Report.Duration(elapsed), 8}] {stage, -10} {detail}");
            }
        }

        public void Log(string stream, string text)
        {
            if (!verbose && stream != "error")
            {
                return;
            }

            lock (_gate)
            {
                error.WriteLine($"           {(stream == "error" ? "error: " : "")}{text}");
            }
        }
    }
}
