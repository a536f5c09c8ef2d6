using ImageForge.Core.Errors;

namespace ImageForge.Toolchain.Processes;

/// <summary>A process ran longer than its <see cref="ProcessSpec.Timeout"/>; its whole process group was stopped.</summary>
public sealed class ProcessTimedOutException : ImageForgeException
{
    /// <summary>Creates the exception for a command (already masked) and its time limit.</summary>
    public ProcessTimedOutException(string command, TimeSpan timeout)
        : base(
            $"'{command}' did not finish within {timeout} and was stopped with its whole process group. "
                + "Raise the timeout if the work is legitimately slow, or look at its last output for where it hung."
        )
    {
        Command = command;
        Timeout = timeout;
    }

    /// <summary>The command line, secrets masked.</summary>
    public string Command { get; }

    /// <summary>The time limit that was exceeded.</summary>
    public TimeSpan Timeout { get; }

    /// <inheritdoc />
    public override int ExitCode => 3;
}
