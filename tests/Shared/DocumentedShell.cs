using System.Text;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;

namespace ImageForge.TestSupport;

/// <summary>Runs what the documentation tells users to type: docs/signing.md's openssl block, sha256sum.</summary>
internal static class DocumentedShell
{
    /// <summary>The shell commands of docs/signing.md's <c>openssl-verify</c> block.</summary>
    public static string OpensslCommands()
    {
        var doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "signing.md"));
        var marker = doc.IndexOf("<!-- openssl-verify", StringComparison.Ordinal);
        marker.ShouldBeGreaterThan(0, "docs/signing.md lost its openssl-verify block");
        var start = doc.IndexOf("```sh\n", marker, StringComparison.Ordinal) + "```sh\n".Length;
        return doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)];
    }

    /// <summary>Runs <paramref name="script"/> with <c>sh -e</c> in <paramref name="directory"/>: exit code and output.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(string script, string directory)
    {
        var output = new StringBuilder();
        var exit = -1;
        var spec = new ProcessSpec("sh")
            .WithArguments("-e", "-c", script)
            .WithWorkingDirectory(directory)
            .WithTimeout(TimeSpan.FromSeconds(30));
        await foreach (var e in new ProcessRunner(TimeProvider.System).StreamAsync(spec))
        {
            switch (e)
            {
                case OutputLine line:
                    output.AppendLine(line.Text);
                    break;
                case ErrorLine line:
                    output.AppendLine(line.Text);
                    break;
                case ProcessExited exited:
                    exit = exited.ExitCode;
                    break;
            }
        }

        return (exit, output.ToString());
    }
}
