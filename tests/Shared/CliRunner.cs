using ImageForge.Cli;
using ImageForge.Core.Providers;

namespace ImageForge.TestSupport;

/// <summary>What one in-process run of the imageforge command printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// <summary>
/// Runs the real command tree in this process with its own current directory and environment, so specs run in
/// parallel without touching process-wide state.
/// </summary>
public static class CliRunner
{
    public static Task<CliResult> RunAsync(
        string currentDirectory,
        IReadOnlyDictionary<string, string>? environment,
        CancellationToken cancellationToken,
        params string[] args
    ) => RunAsync(currentDirectory, environment, null, cancellationToken, args);

    /// <summary>Runs with the given providers instead of the shipped ones (a provider module of a spec).</summary>
    public static async Task<CliResult> RunAsync(
        string currentDirectory,
        IReadOnlyDictionary<string, string>? environment,
        ProviderRegistry? providers,
        CancellationToken cancellationToken,
        params string[] args
    )
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var output = TextWriter.Synchronized(stdout);
        var error = TextWriter.Synchronized(stderr);
        var host = new CliHost(
            output,
            error,
            TimeProvider.System,
            currentDirectory,
            name =>
                environment is not null && environment.TryGetValue(name, out var value)
                    ? value
                    : Environment.GetEnvironmentVariable(name),
            environment ?? new Dictionary<string, string>()
        );
        if (providers is not null)
        {
            host = host with { Providers = providers };
        }

        var exit = await CliApp.RunAsync(args, host, cancellationToken);
        return new CliResult(exit, stdout.ToString(), stderr.ToString());
    }

    public static Task<CliResult> RunAsync(string currentDirectory, params string[] args) =>
        RunAsync(currentDirectory, null, CancellationToken.None, args);
}
