using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;

namespace ImageForge.Toolchain.Processes;

/// <summary>
/// Runs external tools as a stream of <see cref="ProcessEvent"/>s. Each tool leads its own process group and session
/// (it is started through util-linux <c>setsid</c>), so stopping it stops everything it started: on cancellation or
/// timeout the group gets SIGTERM, <see cref="ProcessSpec.GracePeriod"/> to exit, then SIGKILL, and the call returns
/// only once no process of the group is left.
/// </summary>
public sealed class ProcessRunner
{
    private const string SetsidExecutable = "setsid";

    // setsid() after exec is immediate, but Process.Start returns as soon as exec succeeded: give it this long.
    private static readonly TimeSpan GroupCheckTimeout = TimeSpan.FromSeconds(5);

    private readonly TimeProvider _timeProvider;

    /// <summary>Creates a runner that measures timeouts and grace periods with this clock.</summary>
    public ProcessRunner(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
    }

    /// <summary>The clock timeouts are measured with.</summary>
    internal TimeProvider TimeProvider => _timeProvider;

    /// <summary>
    /// Starts the process and yields <see cref="ProcessStarted"/>, then its output lines (secrets masked) as they
    /// arrive, then <see cref="ProcessExited"/>. Standard input is empty (closed at once).
    /// </summary>
    /// <exception cref="FileNotFoundException">The executable (or <c>setsid</c>) is not installed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; thrown after the whole process group is gone.</exception>
    /// <exception cref="ProcessTimedOutException">The timeout passed; thrown after the whole process group is gone.</exception>
    public async IAsyncEnumerable<ProcessEvent> StreamAsync(
        ProcessSpec spec,
        [EnumeratorCancellation] CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(spec);
        cancellationToken.ThrowIfCancellationRequested();

        var redactor = spec.Redactor;
        using var process = new Process { StartInfo = StartInfoFor(spec) };
        process.Start();
        process.StandardInput.Close();

        var pgid = await WaitForOwnGroupAsync(process);
        var events = Channel.CreateUnbounded<ProcessEvent>(
            new UnboundedChannelOptions { SingleReader = true }
        );
        var supervisor = SuperviseAsync(process, pgid, redactor, events.Writer);

        using var timeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _timeProvider);
        if (spec.Timeout is { } limit)
        {
            timeout.CancelAfter(limit);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(
            cancellationToken,
            timeout.Token
        );
        var completed = false;
        try
        {
            yield return new ProcessStarted(process.Id, pgid);

            bool? more;
            while ((more = await WaitToReadAsync(events.Reader, stop.Token)) == true)
            {
                while (events.Reader.TryRead(out var next))
                {
                    yield return next;
                }
            }

            // False: the supervisor completed the channel (exit seen, output drained). Null: stopped.
            completed = more == false;
        }
        finally
        {
            // Reached on cancellation, timeout, an exception in the caller's loop, or the caller stopping early:
            // in every case nothing of the group may outlive this call.
            if (!completed)
            {
                await ProcessGroup.KillAndWaitAsync(
                    pgid,
                    spec.GracePeriod,
                    _timeProvider,
                    CancellationToken.None
                );
            }

            await supervisor;
        }

        if (!completed)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new ProcessTimedOutException(spec.ToString(), spec.Timeout ?? TimeSpan.Zero);
        }
    }

    private static async Task<bool?> WaitToReadAsync(
        ChannelReader<ProcessEvent> reader,
        CancellationToken stop
    )
    {
        try
        {
            return await reader.WaitToReadAsync(stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return null;
        }
    }

    private static ProcessStartInfo StartInfoFor(ProcessSpec spec)
    {
        var path = spec.Environment.TryGetValue("PATH", out var own)
            ? own
            : Environment.GetEnvironmentVariable("PATH") ?? "";
        var executable = ResolveExecutable(spec.FileName, path, spec.WorkingDirectory);
        var setsid =
            ResolveExecutable(
                SetsidExecutable,
                Environment.GetEnvironmentVariable("PATH") ?? "",
                null
            )
            ?? throw new FileNotFoundException(
                "setsid (util-linux) is not on PATH; it is needed to run tools in their own process group. "
                    + "Install util-linux (apt-get install util-linux).",
                SetsidExecutable
            );

        var info = new ProcessStartInfo(setsid)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            UseShellExecute = false,
            WorkingDirectory = spec.WorkingDirectory ?? "",
        };

        // "--" so an executable path starting with a dash is not read as a setsid option.
        info.ArgumentList.Add("--");
        info.ArgumentList.Add(
            executable
                ?? throw new FileNotFoundException(
                    $"'{spec.FileName}' was not found (looked on PATH: {path}).",
                    spec.FileName
                )
        );
        foreach (var argument in spec.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in spec.Environment)
        {
            info.Environment[name] = value;
        }

        return info;
    }

    /// <summary>The path to run for a command name the way a shell finds it, or null when there is none.</summary>
    internal static string? ResolveExecutable(
        string fileName,
        string searchPath,
        string? workingDirectory
    )
    {
        if (fileName.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(fileName, workingDirectory ?? Environment.CurrentDirectory);
            return IsExecutableFile(full) ? full : null;
        }

        return searchPath
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, fileName))
            .FirstOrDefault(IsExecutableFile);
    }

    private static bool IsExecutableFile(string path) =>
        File.Exists(path)
        && (
            OperatingSystem.IsWindows()
            || (
                File.GetUnixFileMode(path)
                & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)
            ) != 0
        );

    /// <summary>
    /// setsid execs the tool in place when its caller does not lead a group (a freshly started child never does),
    /// so the tool's pid is its group and session id. Confirmed here rather than assumed: everything else relies on it.
    /// </summary>
    private async Task<int> WaitForOwnGroupAsync(Process process)
    {
        var pid = process.Id;
        var deadline = _timeProvider.GetUtcNow() + GroupCheckTimeout;
        while (true)
        {
            var stat = ProcessGroup.ReadStat(pid);
            if (stat is null || !stat.IsAlive || (stat.ProcessGroup == pid && stat.Session == pid))
            {
                // Exited already (nothing left to lead), or leading its own group and session as intended.
                return pid;
            }

            if (_timeProvider.GetUtcNow() > deadline)
            {
                process.Kill();
                throw new InvalidOperationException(
                    $"Process {pid} started through setsid is in group {stat.ProcessGroup}, session {stat.Session}: "
                        + "setsid did not make it a session leader, so its children could not be stopped reliably."
                );
            }

            await Task.Delay(TimeSpan.FromMilliseconds(1), _timeProvider);
        }
    }

    /// <summary>
    /// Forwards the output as events, waits for the exit and completes the channel. After a normal exit it SIGKILLs
    /// whatever is left in the group: those are orphans of the tool (a provisioner's background job, a daemon a
    /// script forgot) that would hold the output pipes open, so the end of output would never come, and keep
    /// mounts and files of the build busy. A build tool leaves nothing running behind it.
    /// </summary>
    private async Task SuperviseAsync(
        Process process,
        int pgid,
        Redactor redactor,
        ChannelWriter<ProcessEvent> writer
    )
    {
        try
        {
            var stdout = PumpAsync(
                process.StandardOutput,
                line => new OutputLine(redactor.Redact(line)),
                writer
            );
            var stderr = PumpAsync(
                process.StandardError,
                line => new ErrorLine(redactor.Redact(line)),
                writer
            );

            await process.WaitForExitAsync(CancellationToken.None);
            await ProcessGroup.KillRemainingAsync(pgid, _timeProvider, CancellationToken.None);
            await Task.WhenAll(stdout, stderr);

            writer.TryWrite(new ProcessExited(process.ExitCode));
            writer.TryComplete();
        }
        catch (Exception e)
        {
            writer.TryComplete(e);
            throw;
        }
    }

    private static async Task PumpAsync(
        StreamReader reader,
        Func<string, ProcessEvent> toEvent,
        ChannelWriter<ProcessEvent> writer
    )
    {
        while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
        {
            writer.TryWrite(toEvent(line));
        }
    }
}
