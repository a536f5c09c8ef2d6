using System.CommandLine;
using ImageForge.Core.Errors;
using ImageForge.Core.Worker;
using ImageForge.Dashboard;
using ImageForge.Server;
using ImageForge.Storage;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ImageForge.Cli;

/// <summary><c>imageforge worker</c>: schedules, the build queue, the HTTP API and webhooks in one process.</summary>
internal static class WorkerCommand
{
    public static Command Create(Func<ParseResult, CliContext> context)
    {
        var urls = new Option<string?>("--urls")
        {
            Description =
                "Where the HTTP API listens, as ASP.NET Core reads it (e.g. http://0.0.0.0:8080) [default: http://localhost:5000]",
        };
        var config = new Option<string?>("--config")
        {
            Description =
                "The worker's settings [default: worker.yaml in the content root, else built-in defaults]",
        };
        var command = new Command(
            "worker",
            "Run unattended: nightly schedules, the build queue, CVE rebuilds, the HTTP API and webhooks"
        )
        {
            urls,
            config,
        };
        command.SetAction(
            async (parse, ct) =>
            {
                var ctx = context(parse);
                // A file named by --config must exist; the default worker.yaml beside baselines/ is optional.
                var settings = parse.GetValue(config) is { } file
                    ? WorkerConfigParser.Load(
                        Path.GetFullPath(file, ctx.Host.CurrentDirectory),
                        ctx.Host.Providers.Names
                    )
                    : WorkerConfigParser.LoadOrDefault(
                        Path.Combine(Path.GetDirectoryName(ctx.Content.Baselines)!, "worker.yaml"),
                        ctx.Host.Providers.Names
                    );
                // IMAGEFORGE_DATABASE wins; worker.yaml's database (never with a password) comes next.
                if (ctx.Data.Database is null && settings.Database is { } database)
                {
                    ctx = ctx with
                    {
                        Data = ctx.Data with
                        {
                            Database = Catalog.ConnectionStringProblem(database) is { } problem
                                ? throw new InvalidInputException(
                                    $"worker.yaml: database: {problem}"
                                )
                                : database,
                        },
                    };
                }

                // IMAGEFORGE_ARTIFACTS wins; worker.yaml's artifacts comes next.
                if (ctx.Data.ArtifactRoot is null && settings.Artifacts is { } artifacts)
                {
                    ctx = ctx with
                    {
                        Data = ctx.Data with
                        {
                            ArtifactRoot = CliContext.ExistingStore(
                                artifacts,
                                "worker.yaml: artifacts"
                            ),
                        },
                    };
                }

                string[] hostArguments = parse.GetValue(urls) is { } at ? ["--urls", at] : [];
                await using var worker = await WorkerHost.CreateAsync(
                    new WorkerOptions(
                        ctx.Pipeline.Host,
                        ctx.Host.Providers,
                        settings,
                        hostArguments
                    )
                    {
                        Extensions = [new DashboardExtension()],
                    },
                    ct
                );
                await worker.App.StartAsync(ct);
                var addresses =
                    worker
                        .App.Services.GetRequiredService<IServer>()
                        .Features.Get<IServerAddressesFeature>()
                        ?.Addresses
                    ?? [];
                await ctx.Error.WriteLineAsync(
                    $"worker on {ctx.Data.Root} (catalog {worker.Catalog.Location}, artifacts {ctx.Data.Store.Root}): API at {string.Join(", ", addresses)} (dashboard under /ui/); Ctrl-C or SIGTERM stops it "
                        + $"(running builds: {settings.Shutdown.ToString().ToLowerInvariant()})"
                );
                // Returns once SIGTERM, Ctrl-C or the token asked to stop, after the host stopped every part.
                await worker.App.WaitForShutdownAsync(ct);
                await ctx.Error.WriteLineAsync("worker stopped");
                return CliApp.Ok;
            }
        );
        return command;
    }
}
