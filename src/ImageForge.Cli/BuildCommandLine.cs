using System.CommandLine;
using ImageForge.Core.Builds;
using ImageForge.Providers.Local;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Cli;

/// <summary><c>imageforge build &lt;image&gt;</c>: runs a build in this process with live progress.</summary>
internal static class BuildCommandLine
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var image = new Argument<string>("image")
        {
            Description = "The image definition's name, e.g. debian-11-cis",
        };
        var target = new Option<string?>("--target")
        {
            Description = "Target to build: local, aws, azure or gcp",
        };
        var reason = new Option<string?>("--reason")
        {
            Description = "Why this build runs, e.g. \"CVE-2026-1234\"",
        };
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
        };
        command.SetAction(
            async (parse, cancellationToken) =>
            {
                var ctx = context(parse);
                await using var catalog = await ctx.OpenCatalogAsync(cancellationToken);
                await StaleBuilds.ReapAsync(catalog, ctx, cancellationToken);

                var minutes = parse.GetValue(timeout);
                var packer = new PackerClient(
                    new ProcessRunner(ctx.Time),
                    ctx.Host.PackerExecutable
                );
                var local = new LocalTargetBuilder(
                    packer,
                    new LocalTargetOptions
                    {
                        BuildTimeout = TimeSpan.FromMinutes(minutes is > 0 ? minutes.Value : 60),
                        Environment = ctx.Host.ToolEnvironment,
                    }
                );
                var service = new BuildService(
                    catalog,
                    [local],
                    Composition.EvidenceCollectors(ctx),
                    ctx.Data,
                    ctx.Time,
                    ctx.Host.Variable,
                    Environment.ProcessId,
                    new ImageForge.Core.Audit.BuildAudit(catalog, catalog, ctx.Time)
                );
                var prepared = service.Prepare(
                    new BuildCommand(
                        parse.GetValue(image)!,
                        parse.GetValue(target),
                        BuildTrigger.Manual,
                        Environment.UserName,
                        parse.GetValue(reason)
                    ),
                    ctx.Content
                );

                var outcome = await service.RunAsync(
                    prepared,
                    new ConsoleBuildObserver(ctx.Error, parse.GetValue(verbose)),
                    cancellationToken
                );
                await Report.BuildOutcomeAsync(ctx, outcome);
                if (outcome.Version is { Status: "rejected" } rejected)
                {
                    await PolicyCommand.ReportRejectionAsync(ctx, rejected);
                    return 1;
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
