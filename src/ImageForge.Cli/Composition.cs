using ImageForge.Core.Builds;

namespace ImageForge.Cli;

/// <summary>Where the command line assembles the pipeline's parts.</summary>
internal static class Composition
{
    /// <summary>Evidence collectors, in the order they run after a successful target build.</summary>
    public static IReadOnlyList<IEvidenceCollector> EvidenceCollectors(CliContext ctx)
    {
        _ = ctx;
        return [];
    }
}
