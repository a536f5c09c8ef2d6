namespace ImageForge.Toolchain.Processes;

/// <summary>Something that happened to a running process, in the order it was observed.</summary>
public abstract record ProcessEvent;

/// <summary>The process started, as the leader of its own process group (and session).</summary>
/// <param name="ProcessId">The process id.</param>
/// <param name="ProcessGroup">Its process group id; equal to <paramref name="ProcessId"/>. Record it to clean up after a crash.</param>
public sealed record ProcessStarted(int ProcessId, int ProcessGroup) : ProcessEvent;

/// <summary>One line the process wrote to standard output, secrets masked.</summary>
public sealed record OutputLine(string Text) : ProcessEvent;

/// <summary>One line the process wrote to standard error, secrets masked.</summary>
public sealed record ErrorLine(string Text) : ProcessEvent;

/// <summary>The process exited on its own (not stopped by cancellation or timeout); always the last event.</summary>
public sealed record ProcessExited(int ExitCode) : ProcessEvent;
