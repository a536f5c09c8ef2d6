using System.CommandLine;
using System.CommandLine.Parsing;
using ImageForge.Core.Errors;

namespace ImageForge.Cli;

/// <summary>The <c>imageforge</c> command tree. Exit codes: 0 ok, 1 not ok, 2 bad input, 3 tool failure, 130 cancelled.</summary>
internal static class CliApp
{
    public const int Ok = 0;

    /// <summary>Not ok or refused: a failed check, a rule, a role, drift.</summary>
    public const int NotOk = 1;
    public const int BadInput = 2;
    public const int ToolFailure = 3;
    public const int Cancelled = 130;

    private static readonly Option<string?> DataDir = new("--data-dir")
    {
        Description =
            "Where the catalog, artifacts and caches live [default: $IMAGEFORGE_DATA_DIR, else $XDG_DATA_HOME/imageforge]",
        Recursive = true,
    };

    private static readonly Option<string?> Definitions = new("--definitions")
    {
        Description =
            "Directory of image definitions [default: templates/images of the current directory]",
        Recursive = true,
    };

    private static readonly Option<string?> ServerUrl = new("--server")
    {
        Description =
            "A worker's URL: build, builds and images then act on its catalog (token: $IMAGEFORGE_TOKEN) [default: $IMAGEFORGE_SERVER]",
        Recursive = true,
    };

    private static readonly Option<string> Output = new("--output")
    {
        Description = "Output format: text for people, json for scripts",
        Recursive = true,
        DefaultValueFactory = _ => "text",
    };

    // The commands that act on a worker's catalog with --server; content-only commands ignore it.
    private static readonly HashSet<string> RemoteCommands = ["build", "builds", "images"];
    private static readonly HashSet<string> ContentCommands = ["validate", "policy"];

    private static bool RemoteCapable(ParseResult parse) =>
        RemoteCommands.Contains(TopCommand(parse)) || ContentCommands.Contains(TopCommand(parse));

    // A command that works on the local catalog must not quietly do so when the user meant a worker.
    private static Uri? RefuseServer(CliHost host, ParseResult parse)
    {
        var server = CliContext.ResolveServer(host, parse.GetValue(ServerUrl));
        return server is null
            ? null
            : throw new InvalidInputException(
                $"--server {server} (or IMAGEFORGE_SERVER): '{TopCommand(parse)}' works on the local catalog only; with "
                    + "--server use build, builds (list, show, logs, cancel) and images (list, show), or run it on the "
                    + "worker's machine without --server"
            );
    }

    private static string TopCommand(ParseResult parse)
    {
        var command = parse.CommandResult;
        while (command.Parent is CommandResult parent && parent.Parent is CommandResult)
        {
            command = parent;
        }

        return command.Command.Name;
    }

    public static async Task<int> RunAsync(
        string[] args,
        CliHost host,
        CancellationToken cancellationToken
    )
    {
        var (stdout, stderr) = (host.Out, host.Error);
        Output.AcceptOnlyFromAmong("text", "json");
        // A named root rather than RootCommand, whose name is the host executable's (testhost under tests).
        var root = new Command(
            "imageforge",
            "ImageForge: hardened golden images built with Packer, proven, and promoted."
        )
        {
            DataDir,
            Definitions,
            ServerUrl,
            Output,
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
        };
        Func<ParseResult, CliContext> context = parse => new CliContext
        {
            Host = host,
            Content = CliContext.ResolveContent(host, parse.GetValue(Definitions)),
            Data = new(
                CliContext.ResolveDataDirectory(host, parse.GetValue(DataDir)),
                CliContext.ResolveDatabase(host),
                CliContext.ResolveArtifacts(host)
            ),
            Json = parse.GetValue(Output) == "json",
            Server = RemoteCapable(parse)
                ? CliContext.ResolveServer(host, parse.GetValue(ServerUrl))
                : RefuseServer(host, parse),
            Out = stdout,
            Error = stderr,
            Time = host.Time,
        };
        root.Subcommands.Add(ValidateCommand.Create(context));
        root.Subcommands.Add(BuildCommandLine.Create(context));
        root.Subcommands.Add(BuildsCommands.Create(context));
        root.Subcommands.Add(ImagesCommands.Create(context));
        root.Subcommands.Add(ComplianceCommands.Create(context));
        root.Subcommands.Add(AnomaliesCommand.Create(context));
        root.Subcommands.Add(SbomCommand.Create(context));
        root.Subcommands.Add(ScanCommand.Create(context));
        root.Subcommands.Add(DiffCommand.Create(context));
        root.Subcommands.Add(VerifyCommand.Create(context));
        root.Subcommands.Add(KeysCommand.Create(context));
        root.Subcommands.Add(AdmitCommand.Create(host, context));
        root.Subcommands.Add(PromoteCommand.Create(context));
        root.Subcommands.Add(ApproveCommand.Create(context));
        root.Subcommands.Add(ApproveCommand.CreateReject(context));
        root.Subcommands.Add(RollbackCommand.Create(context));
        root.Subcommands.Add(RevokeCommand.Create(context));
        root.Subcommands.Add(ChannelsCommand.Create(context));
        root.Subcommands.Add(WorkerCommand.Create(context));
        root.Subcommands.Add(WorkersCommand.Create(context));
        root.Subcommands.Add(TokensCommand.Create(context));
        root.Subcommands.Add(AuditCommand.Create(context));
        root.Subcommands.Add(GcCommand.Create(context));
        root.Subcommands.Add(PolicyCommand.Create(context));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"error: {error.Message}");
            }

            await stderr.WriteLineAsync("Run 'imageforge --help' for usage.");
            return BadInput;
        }

        // The worker wires its own telemetry; every other command exports when an OTLP endpoint is set.
        using var telemetry =
            parse.CommandResult.Command.Name == "worker" ? null : CliTelemetry.Start(host.Variable);
        try
        {
            // Signals are handled by Program (cancellation with cleanup), not by System.CommandLine's timeout kill.
            return await parse.InvokeAsync(
                new InvocationConfiguration
                {
                    Output = stdout,
                    Error = stderr,
                    ProcessTerminationTimeout = null,
                    EnableDefaultExceptionHandler = false,
                },
                cancellationToken
            );
        }
        catch (ImageForgeException e)
        {
            await stderr.WriteLineAsync($"error: {e.Message}");
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("cancelled");
            return Cancelled;
        }
    }
}
