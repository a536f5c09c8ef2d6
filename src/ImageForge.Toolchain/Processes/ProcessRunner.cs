using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using CliWrap;

namespace ImageForge.Toolchain.Processes;

/// <summary>
/// Runs external tools as a stream of <see cref="ProcessEvent"/>s. Each tool leads its own process group and session
/// (it is started through util-linux <c>setsid</c>), so stopping it stops everything it started: on cancellation or
/// timeout the group gets SIGTERM, <see cref="ProcessSpec.GracePeriod"/> to exit, then SIGKILL, and the call returns
/// only once no process of the group is left.
/// </summary>
/// <remarks>
/// CliWrap starts the process and reads its output; the group handling is ours. CliWrap's own cancellation stops less
/// than the group: its graceful one sends SIGINT to the PID (Packer 1.6.6 ignores it), its forceful one SIGKILLs the
/// process tree, so a child that left the tree survives and nothing gets SIGTERM. docs/architecture.md has the
/// measurements.
/// </remarks>
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
    /// Runs the process to its end: its exit code and its output and error lines (secrets masked), for tools whose
    /// whole answer is read at once. Throws as <see cref="StreamAsync"/> does.
    /// </summary>
    public async Task<(int Exit, List<string> Output, List<string> Errors)> RunToEndAsync(
        ProcessSpec spec,
        CancellationToken cancellationToken = default
    )
    {
        var output = new List<string>();
        var errors = new List<string>();
        var exit = -1;
        await foreach (var e in StreamAsync(spec, cancellationToken))
        {
            switch (e)
            {
                case OutputLine line:
                    output.Add(line.Text);
                    break;
                case ErrorLine line:
                    errors.Add(line.Text);
                    break;
                case ProcessExited exited:
                    exit = exited.ExitCode;
                    break;
            }
        }
        return (exit, output, errors);
    }

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

        var events = Channel.CreateUnbounded<ProcessEvent>(
            new UnboundedChannelOptions { SingleReader = true }
        );
        var run = Start(spec, events.Writer);
        var pgid = await WaitForOwnGroupAsync(run);
        var supervisor = SuperviseAsync(run, pgid, events.Writer);

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
            yield return new ProcessStarted(run.ProcessId, pgid);

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

    /// <summary>
    /// Starts <c>setsid -- TOOL ARGS...</c> with standard input closed, each output line masked and written to the
    /// channel as it is read. Nothing is passed to CliWrap's cancellation: stopping is the group's business.
    /// </summary>
    private static RunningProcess Start(ProcessSpec spec, ChannelWriter<ProcessEvent> events)
    {
        var path = spec.Environment.TryGetValue("PATH", out var own)
            ? own
            : Environment.GetEnvironmentVariable("PATH") ?? "";
        var executable =
            ResolveExecutable(spec.FileName, path, spec.WorkingDirectory)
            ?? throw new FileNotFoundException(
                $"'{spec.FileName}' was not found (looked on PATH: {path}).",
                spec.FileName
            );
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

        var redactor = spec.Redactor;
        var command = Cli.Wrap(setsid)
            .WithEnvironmentVariables(
                spec.Environment.ToDictionary(v => v.Key, string? (v) => v.Value)
            )
            .WithStandardOutputPipe(
                PipeTarget.ToDelegate(
                    line => events.TryWrite(new OutputLine(redactor.Redact(line))),
                    Encoding.UTF8
                )
            )
            .WithStandardErrorPipe(
                PipeTarget.ToDelegate(
                    line => events.TryWrite(new ErrorLine(redactor.Redact(line))),
                    Encoding.UTF8
                )
            )
            .WithValidation(CommandResultValidation.None);
        if (spec.WorkingDirectory is { } workingDirectory)
        {
            command = command.WithWorkingDirectory(workingDirectory);
        }

        Process? process = null;
        Task? exited = null;
        var task = command.ExecuteAsync(
            // CliWrap joins its argument list into one string that .NET splits again; the spec promises a vector.
            // "--" so an executable path starting with a dash is not read as a setsid option.
            info =>
            {
                info.ArgumentList.Add("--");
                info.ArgumentList.Add(executable);
                foreach (var argument in spec.Arguments)
                {
                    info.ArgumentList.Add(argument);
                }
            },
            // CliWrap's task ends only when both pipes are closed, but the tool's own exit is needed earlier (see
            // SuperviseAsync). Asked for here, before CliWrap's execution starts: a quick tool could otherwise be
            // gone, and its Process disposed by CliWrap, by the time ExecuteAsync returns.
            started =>
            {
                process = started;
                exited = started.WaitForExitAsync(CancellationToken.None);
            },
            CancellationToken.None,
            CancellationToken.None
        );

        if (process is not { } tool || exited is null)
        {
            throw new InvalidOperationException("CliWrap started no process.");
        }

        return new RunningProcess(task.ProcessId, exited, task.Task, Kill);

        void Kill()
        {
            try
            {
                tool.Kill();
            }
            catch (InvalidOperationException)
            {
                // It exited meanwhile and CliWrap disposed its Process: nothing left to kill.
            }
        }
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
    private async Task<int> WaitForOwnGroupAsync(RunningProcess process)
    {
        var pid = process.ProcessId;
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
        RunningProcess process,
        int pgid,
        ChannelWriter<ProcessEvent> writer
    )
    {
        try
        {
            await process.Exited;
            await ProcessGroup.KillRemainingAsync(pgid, _timeProvider, CancellationToken.None);
            var result = await process.Completed;

            writer.TryWrite(new ProcessExited(result.ExitCode));
            writer.TryComplete();
        }
        catch (Exception e)
        {
            writer.TryComplete(e);
            throw;
        }
    }

    /// <param name="ProcessId">The pid of setsid, which became the tool when it exec'd it.</param>
    /// <param name="Exited">Completes when the tool itself exits, even while an orphan still holds its pipes.</param>
    /// <param name="Completed">Completes when the tool exited and both pipes were read to their end.</param>
    /// <param name="Kill">SIGKILLs the tool alone (when it is not in its own group, so the group cannot be used).</param>
    private sealed record RunningProcess(
        int ProcessId,
        Task Exited,
        Task<CommandResult> Completed,
        Action Kill
    );
}
