using ImageForge.Application;
using ImageForge.Application.Remote;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Providers;
using ImageForge.Storage;

namespace ImageForge.Cli;

/// <summary>What every command needs: where content and data live, how to print, and the catalog.</summary>
internal sealed record CliContext
{
    public required CliHost Host { get; init; }
    public required ContentPaths Content { get; init; }
    public required DataPaths Data { get; init; }
    public required bool Json { get; init; }
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public required TimeProvider Time { get; init; }

    /// <summary>The worker this command talks to (<c>--server</c>, else IMAGEFORGE_SERVER); null for the local catalog.</summary>
    public Uri? Server { get; init; }

    /// <summary>The local catalog (commands without --server support never get a <see cref="Server"/>: see CliApp).</summary>
    public Task<Catalog> OpenCatalogAsync(CancellationToken cancellationToken) =>
        Catalog.OpenAsync(Data, Time, cancellationToken);

    /// <summary>The catalog for reading: the worker's when <c>--server</c> is given, else the local one.</summary>
    public async Task<CatalogSession> OpenSessionAsync(CancellationToken cancellationToken) =>
        Server is null
            ? CatalogSession.Of(await Catalog.OpenAsync(Data, Time, cancellationToken))
            : CatalogSession.Of(OpenWorker());

    /// <summary>The worker named by <c>--server</c> (the token from IMAGEFORGE_TOKEN).</summary>
    public WorkerClient OpenWorker() =>
        new(
            Server ?? throw new InvalidOperationException("no --server given"),
            Host.Variable(WorkerClient.TokenVariable)
        );

    /// <summary>--server, else IMAGEFORGE_SERVER; null for neither. A value that is not an http(s) URL is bad input.</summary>
    public static Uri? ResolveServer(CliHost host, string? option)
    {
        var value = !string.IsNullOrEmpty(option) ? option : host.Variable("IMAGEFORGE_SERVER");
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        return
            Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new InvalidInputException(
                $"--server: '{value}' is not an http or https URL; give the worker's address, e.g. http://imageforge:5000"
            );
    }

    /// <summary>The pipeline's parts (builders, collectors, scanner, signer), assembled as the worker does.</summary>
    public Pipeline Pipeline =>
        field ??= new(
            new PipelineHost(
                new HostPaths(Content, Data),
                Time,
                Host.Variable,
                Host.CurrentDirectory,
                Host.ToolEnvironment
            ),
            Host.Providers
        );

    /// <summary>
    /// The content root: the current directory when it holds ImageForge content (a clone), else the content packaged
    /// beside the tool. <paramref name="definitions"/> overrides only where image definitions are read from.
    /// </summary>
    public static ContentPaths ResolveContent(CliHost host, string? definitions)
    {
        var cwd = host.CurrentDirectory;
        var root =
            Directory.Exists(Path.Combine(cwd, "templates", "images"))
            || Directory.Exists(Path.Combine(cwd, "baselines"))
            || Directory.Exists(Path.Combine(cwd, "policies"))
                ? cwd
                : Path.Combine(AppContext.BaseDirectory, "content");
        var content = ContentPaths.UnderRoot(root);
        return definitions is null
            ? content
            : content.WithDefinitions(Path.GetFullPath(definitions, cwd));
    }

    /// <summary>The variable naming a PostgreSQL catalog (docs/cluster.md); unset or empty keeps the SQLite file.</summary>
    public const string DatabaseVariable = "IMAGEFORGE_DATABASE";

    /// <summary>
    /// IMAGEFORGE_DATABASE, checked as a PostgreSQL connection string; null when it is unset. Its value is never
    /// repeated in an error: it may hold the password.
    /// </summary>
    public static string? ResolveDatabase(CliHost host)
    {
        var value = host.Variable(DatabaseVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return Catalog.ConnectionStringProblem(value) is { } problem
            ? throw new InvalidInputException($"{DatabaseVariable}: {problem}")
            : value;
    }

    /// <summary>The variable naming the shared artifact store (docs/cluster.md); unset or empty keeps the data directory.</summary>
    public const string ArtifactsVariable = "IMAGEFORGE_ARTIFACTS";

    /// <summary>IMAGEFORGE_ARTIFACTS as a full path; null when it is unset. A directory that is not there is bad input.</summary>
    public static string? ResolveArtifacts(CliHost host)
    {
        var value = host.Variable(ArtifactsVariable);
        return string.IsNullOrWhiteSpace(value)
            ? null
            : ExistingStore(Path.GetFullPath(value, host.CurrentDirectory), ArtifactsVariable);
    }

    /// <summary>
    /// <paramref name="directory"/> when it exists. A store that is missing is most likely a share that is not mounted:
    /// writing to the local disk in its place would hide versions from the other workers, so it is refused.
    /// </summary>
    public static string ExistingStore(string directory, string setting) =>
        Directory.Exists(directory)
            ? directory
            : throw new InvalidInputException(
                $"{setting}: the artifact store {directory} is not a directory; mount the shared directory there "
                    + "(or create it), or unset it to keep artifacts in the data directory (docs/cluster.md)"
            );

    /// <summary>--data-dir, else IMAGEFORGE_DATA_DIR, else $XDG_DATA_HOME/imageforge, else ~/.local/share/imageforge.</summary>
    public static string ResolveDataDirectory(CliHost host, string? option)
    {
        if (!string.IsNullOrEmpty(option))
        {
            return Path.GetFullPath(option, host.CurrentDirectory);
        }

        var env = host.Variable("IMAGEFORGE_DATA_DIR");
        if (!string.IsNullOrEmpty(env))
        {
            return Path.GetFullPath(env, host.CurrentDirectory);
        }

        var xdg = host.Variable("XDG_DATA_HOME");
        var home =
            host.Variable("HOME")
            ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(
            string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".local", "share") : xdg,
            "imageforge"
        );
    }
}

/// <summary>
/// What the command line takes from its process: streams, clock, current directory, environment. ToolEnvironment
/// holds variables the tools it starts get on top of the process environment: empty for the real process (tools
/// inherit its environment); an in-process host (tests) puts there what it overrides in Variable.
/// </summary>
internal sealed record CliHost(
    TextWriter Out,
    TextWriter Error,
    TimeProvider Time,
    string CurrentDirectory,
    Func<string, string?> Variable,
    IReadOnlyDictionary<string, string> ToolEnvironment
)
{
    /// <summary>
    /// The providers the command works with: the shipped ones (tests may compose others). Composed on first use, so a
    /// command that needs no provider (images list) does not pay for it.
    /// </summary>
    public ProviderRegistry Providers
    {
        get => field ??= CliComposition.Providers();
        init;
    }

    public static CliHost FromProcess() =>
        new(
            Console.Out,
            Console.Error,
            TimeProvider.System,
            Directory.GetCurrentDirectory(),
            Environment.GetEnvironmentVariable,
            new Dictionary<string, string>()
        );
}
