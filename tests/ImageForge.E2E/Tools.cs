using System.Text;
using ImageForge.Toolchain.Processes;

namespace ImageForge.E2E;

/// <summary>Runs a command-line tool to inspect what a build produced (through the project's own process runner).</summary>
internal static class Tools
{
    /// <summary>A finished command: exit code, standard output and standard error (each line-joined).</summary>
    public sealed record Outcome(int ExitCode, string Out, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n{Out}\n{Error}";
    }

    /// <summary>Runs a command to its end whatever its exit code, with extra environment variables.</summary>
    public static async Task<Outcome> RunForOutcomeAsync(
        IReadOnlyDictionary<string, string>? environment,
        string file,
        params string[] args
    )
    {
        var output = new StringBuilder();
        var error = new StringBuilder();
        var exit = -1;
        var spec = new ProcessSpec(file).WithArguments(args);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            spec = spec.WithEnvironment(name, value);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await foreach (
            var e in new ProcessRunner(TimeProvider.System).StreamAsync(spec, timeout.Token)
        )
        {
            switch (e)
            {
                case OutputLine line:
                    output.AppendLine(line.Text);
                    break;
                case ErrorLine line:
                    error.AppendLine(line.Text);
                    break;
                case ProcessExited exited:
                    exit = exited.ExitCode;
                    break;
            }
        }

        return new Outcome(exit, output.ToString(), error.ToString());
    }

    public static async Task<string> RunAsync(string file, params string[] args)
    {
        var output = new StringBuilder();
        var exit = -1;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await foreach (
            var e in new ProcessRunner(TimeProvider.System).StreamAsync(
                new ProcessSpec(file).WithArguments(args),
                timeout.Token
            )
        )
        {
            switch (e)
            {
                case OutputLine line:
                    output.AppendLine(line.Text);
                    break;
                case ProcessExited exited:
                    exit = exited.ExitCode;
                    break;
            }
        }

        return exit == 0
            ? output.ToString()
            : throw new InvalidOperationException(
                $"{file} {string.Join(' ', args)} exited with {exit}:\n{output}"
            );
    }
}
