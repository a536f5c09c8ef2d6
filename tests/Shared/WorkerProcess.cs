using System.Collections.Concurrent;
using ImageForge.Toolchain.Processes;

namespace ImageForge.TestSupport;

/// <summary>A real <c>imageforge worker</c> process: its process group once started, its output, its exit code.</summary>
internal sealed class WorkerProcess
{
    private readonly TaskCompletionSource<int> _group = new(
        TaskCreationOptions.RunContinuationsAsynchronously
    );
    private readonly ConcurrentQueue<string> _output = new();

    public WorkerProcess(ProcessSpec spec)
    {
        Exited = Task.Run(async () =>
        {
            var exit = -1;
            await foreach (var e in new ProcessRunner(TimeProvider.System).StreamAsync(spec))
            {
                switch (e)
                {
                    case ProcessStarted started:
                        _group.TrySetResult(started.ProcessGroup);
                        break;
                    case OutputLine line:
                        _output.Enqueue(line.Text);
                        break;
                    case ErrorLine line:
                        _output.Enqueue(line.Text);
                        break;
                    case ProcessExited exited:
                        exit = exited.ExitCode;
                        break;
                }
            }

            return exit;
        });
    }

    public Task<int> Group => _group.Task;

    public Task<int> Exited { get; }

    public string Output() => string.Join('\n', _output);

    /// <summary>Whether a line it printed so far contains <paramref name="text"/>.</summary>
    public bool Said(string text) => _output.Any(l => l.Contains(text, StringComparison.Ordinal));
}
