using ImageForge.Core.Builds;

namespace ImageForge.Toolchain.Packer;

/// <summary>
/// What a target builder tells its sink about a Packer run: the process group, each <c>imageforge-step: stage |
/// step</c> line a template's script prints as progress, every other line as log, errors as errors.
/// </summary>
public static class PackerBuildSink
{
    private const string StepMarker = "imageforge-step: ";

    /// <summary>Passes one event of <see cref="PackerClient.BuildAsync"/> on to <paramref name="sink"/>.</summary>
    public static void Forward(PackerEvent packerEvent, ITargetBuildSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        switch (packerEvent)
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
