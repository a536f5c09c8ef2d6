using ImageForge.Toolchain.Packer;

namespace ImageForge.Toolchain.Tests.Support;

/// <summary>
/// Runs something beside a build as soon as Packer has started, to signal or cancel it from outside as a user would:
/// pass <see cref="OnEvent"/> to the build, then await <see cref="Running"/>.
/// </summary>
internal sealed class WhenPackerStarts(Func<int, Task> meanwhile)
{
    /// <summary>Packer's process group, once it started.</summary>
    public int Group { get; private set; }

    /// <summary>What runs beside the build (completed until Packer started).</summary>
    public Task Running { get; private set; } = Task.CompletedTask;

    public void OnEvent(PackerEvent packerEvent)
    {
        if (packerEvent is PackerProcessStarted started)
        {
            Group = started.ProcessGroup;
            Running = meanwhile(started.ProcessGroup);
        }
    }
}
