using System.Text;
using ImageForge.Toolchain.Processes;

namespace ImageForge.E2E;

/// <summary>Runs a command-line tool to inspect what a build produced (through the project's own process runner).</summary>
internal static class Tools
{
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
