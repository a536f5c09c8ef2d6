using System.Diagnostics;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Toolchain.Tests.Support;

/// <summary>Small helpers for specs that start real processes (through the runner: it is the only way here).</summary>
internal static class LiveProcesses
{
    public static ProcessRunner Runner { get; } = new(TimeProvider.System);

    /// <summary>Runs a command to its end and returns its exit code and standard output lines.</summary>
    public static async Task<(int ExitCode, List<string> Output)> RunAsync(params string[] argv)
    {
        var output = new List<string>();
        var exitCode = -1;
        await foreach (
            var e in Runner.StreamAsync(new ProcessSpec(argv[0]).WithArguments(argv[1..]))
        )
        {
            switch (e)
            {
                case OutputLine line:
                    output.Add(line.Text);
                    break;
                case ProcessExited exited:
                    exitCode = exited.ExitCode;
                    break;
                default:
                    break;
            }
        }

        return (exitCode, output);
    }

    /// <summary>Mounts a small tmpfs (the tests run as root, like the image builds).</summary>
    public static async Task MountTmpfsAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        var (exitCode, _) = await RunAsync(
            "mount",
            "-t",
            "tmpfs",
            "-o",
            "size=1m",
            "imageforge-test",
            directory
        );
        exitCode.ShouldBe(0, $"mount -t tmpfs on {directory} (the specs run as root)");
    }

    /// <summary>Whether a process with this id is alive (not a zombie: PID 1 here never reaps orphans).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The command names of a group's live members.</summary>
    public static List<string> MemberNames(int pgid) =>
        ProcessGroup.Members(pgid).Select(pid => SafeRead($"/proc/{pid}/comm").Trim()).ToList();

    /// <summary>Polls a condition the specs cannot be told about (a child starting up).</summary>
    public static async Task WaitUntilAsync(
        Func<bool> condition,
        string what,
        TimeSpan? within = null
    )
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > (within ?? TimeSpan.FromSeconds(20)))
            {
                throw new TimeoutException($"Gave up waiting for {what}.");
            }

            await Task.Delay(20);
        }
    }

    private static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }
}
