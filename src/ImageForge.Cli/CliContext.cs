using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Storage;

namespace ImageForge.Cli;

/// <summary>What every command needs: where content and data live, how to print, and the catalog.</summary>
internal sealed class CliContext
{
    public required CliHost Host { get; init; }
    public required ContentPaths Content { get; init; }
    public required DataPaths Data { get; init; }
    public required bool Json { get; init; }
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public required TimeProvider Time { get; init; }

    public Task<SqliteCatalog> OpenCatalogAsync(CancellationToken cancellationToken) =>
        SqliteCatalog.OpenAsync(Data.Root, Time, cancellationToken);

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
                ? cwd
                : Path.Combine(AppContext.BaseDirectory, "content");
        var content = ContentPaths.UnderRoot(root);
        return definitions is null
            ? content
            : content.WithDefinitions(Path.GetFullPath(definitions, cwd));
    }

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
    public static CliHost FromProcess() =>
        new(
            Console.Out,
            Console.Error,
            TimeProvider.System,
            Directory.GetCurrentDirectory(),
            Environment.GetEnvironmentVariable,
            new Dictionary<string, string>()
        );

    /// <summary>IMAGEFORGE_PACKER names another packer executable (tests use a fake one); default: packer on PATH.</summary>
    public string PackerExecutable =>
        Variable("IMAGEFORGE_PACKER") is { Length: > 0 } path ? path : "packer";
}
