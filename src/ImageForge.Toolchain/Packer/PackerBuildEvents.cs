using ImageForge.Core.Builds;

namespace ImageForge.Toolchain.Packer;

/// <summary>
/// What a target builder's sink makes of Packer's events, for every template ImageForge runs: the process group of
/// the run, the stage scripts' <c>imageforge-step: stage | detail</c> lines as progress, every other line as log.
/// </summary>
public static class PackerBuildEvents
{
    private const string StepMarker = "imageforge-step: ";

    /// <summary>Passes one Packer event on to the sink.</summary>
    public static void Forward(PackerEvent e, ITargetBuildSink sink)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(sink);
        switch (e)
        {
            case PackerProcessStarted started:
                sink.ToolStarted(started.ProcessGroup);
                break;
            case PackerUi ui:
                foreach (var line in ui.Text.Split('\n'))
                {
                    var marker = line.IndexOf(StepMarker, StringComparison.Ordinal);
                    if (marker >= 0)
                    {
                        var parts = line[(marker + StepMarker.Length)..].Split(" | ", 2);
                        sink.Progress(parts[0].Trim(), parts.Length > 1 ? parts[1].Trim() : "");
                    }
                    else
                    {
                        sink.Log(ui.Level == PackerUiLevel.Error ? "error" : "packer", line);
                    }
                }

                break;
            case PackerError error:
                sink.Log("error", error.Text);
                break;
            case PackerStderr stderr:
                sink.Log("stderr", stderr.Text);
                break;
        }
    }
}
