using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;

namespace ImageForge.Toolchain.Processes;

/// <summary>
/// Signals and inspects a whole process group. Every tool ImageForge runs leads its own group, so the group is how
/// its children (shell-local scripts, mmdebstrap, sleep) are found and stopped, even after the tool itself died.
/// </summary>
public static class ProcessGroup
{
    // /proc has no change notification: poll often enough that cleanup is not the slow part of a cancel.
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// Sends a signal to every process of the group (<c>kill(-pgid, signal)</c>). Returns false when the group has
    /// no process left.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is not a group this process may stop: 0, 1, negative, or its own group.</exception>
    /// <exception cref="Win32Exception">The kernel refused (for example no permission).</exception>
    public static bool Signal(int pgid, int signal)
    {
        GuardGroup(pgid);
        if (LibC.Kill(-pgid, signal) == 0)
        {
            return true;
        }

        var error = Marshal.GetLastPInvokeError();
        return error == LibC.ESRCH
            ? false
            : throw new Win32Exception(
                error,
                $"Cannot send signal {signal} to process group {pgid}."
            );
    }

    /// <summary>
    /// The ids of the live processes whose process group is <paramref name="pgid"/> (field 5 of
    /// <c>/proc/PID/stat</c>). Zombies are left out: they run nothing, and where PID 1 does not reap orphans they
    /// would never go away.
    /// </summary>
    public static IReadOnlyList<int> Members(int pgid)
    {
        var members = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (
                int.TryParse(
                    Path.GetFileName(directory),
                    NumberStyles.None,
                    CultureInfo.InvariantCulture,
                    out var pid
                )
                && ReadStat(pid) is { } stat
                && stat.ProcessGroup == pgid
                && stat.IsAlive
            )
            {
                members.Add(pid);
            }
        }

        return members;
    }

    /// <summary>Whether a process with this id exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => ReadStat(pid) is { IsAlive: true };

    /// <summary>
    /// Stops a process group for good: SIGTERM, up to <paramref name="grace"/> for it to exit, then SIGKILL, then
    /// waits until no process of the group is left. Usable for the leftover group of an owner that died (its group id
    /// was recorded from <see cref="ProcessStarted"/>). Returns at once when the group is already empty.
    /// </summary>
    public static Task KillAndWaitAsync(
        int pgid,
        TimeSpan grace,
        CancellationToken cancellationToken = default
    ) => KillAndWaitAsync(pgid, grace, TimeProvider.System, cancellationToken);

    internal static async Task KillAndWaitAsync(
        int pgid,
        TimeSpan grace,
        TimeProvider timeProvider,
        CancellationToken cancellationToken
    )
    {
        GuardGroup(pgid);
        if (!Signal(pgid, LibC.SIGTERM))
        {
            return;
        }

        var deadline = timeProvider.GetUtcNow() + grace;
        while (Members(pgid).Count > 0 && timeProvider.GetUtcNow() < deadline)
        {
            await Task.Delay(PollInterval, timeProvider, cancellationToken);
        }

        await KillRemainingAsync(pgid, timeProvider, cancellationToken);
    }

    /// <summary>SIGKILLs the group until no live process is left in it.</summary>
    internal static async Task KillRemainingAsync(
        int pgid,
        TimeProvider timeProvider,
        CancellationToken cancellationToken
    )
    {
        // SIGKILL again on every round: a process forked while the previous signal was being delivered is missed.
        while (Members(pgid).Count > 0 && Signal(pgid, LibC.SIGKILL))
        {
            await Task.Delay(PollInterval, timeProvider, cancellationToken);
        }
    }

    internal static ProcessStat? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e)
            when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            // The process exited between listing /proc and reading it.
            return null;
        }

        // The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return new ProcessStat(
            fields[0][0],
            int.Parse(fields[2], CultureInfo.InvariantCulture),
            int.Parse(fields[3], CultureInfo.InvariantCulture)
        );
    }

    private static void GuardGroup(int pgid)
    {
        // kill(0) and kill(-1) mean "my group" and "everything": never what a caller with a bad id wants.
        if (pgid <= 1 || pgid == ReadStat(Environment.ProcessId)?.ProcessGroup)
        {
            throw new ArgumentOutOfRangeException(
                nameof(pgid),
                pgid,
                "Not a process group ImageForge may signal (0, 1, negative, or ImageForge's own group)."
            );
        }
    }

    /// <summary>The fields of <c>/proc/PID/stat</c> the cleanup needs.</summary>
    internal sealed record ProcessStat(char State, int ProcessGroup, int Session)
    {
        /// <summary>False for zombies (Z) and dead tasks (X, x).</summary>
        public bool IsAlive => State is not ('Z' or 'X' or 'x');
    }
}
