using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Providers;

namespace ImageForge.Core.Builds;

/// <summary>
/// Which targets one build makes: the target whose builder runs (the disk, or one native build), and the targets that
/// import its disk. Without <c>--target</c> a build makes every target of the definition; naming an import target
/// brings the disk's target in, since that is where its disk comes from.
/// </summary>
internal static class BuildTargets
{
    /// <param name="definition">The image definition.</param>
    /// <param name="requested">
    /// A target's provider, several joined by ',' (as a build row records them), or null for all targets.
    /// </param>
    /// <param name="providers">The providers, for which of them build disks.</param>
    public static (TargetSpec Target, IReadOnlyList<TargetSpec> Imports) Select(
        ImageDefinition definition,
        string? requested,
        ProviderRegistry providers
    )
    {
        var wanted = requested is null
            ? definition.Targets
            : requested
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(name =>
                    definition.FindTarget(name)
                    ?? throw new InvalidInputException(
                        $"{definition.SourceFile}: '{definition.Name}' has no target '{name}'; its targets are "
                            + $"{string.Join(", ", definition.Targets.Select(t => t.Provider))}."
                    )
                )
                .ToList();
        var imports = wanted.Where(t => t.Build == BuildMode.Import).ToList();
        var built = wanted.Where(t => t.Build != BuildMode.Import).ToList();
        if (imports.Count > 0)
        {
            // Validation made sure the definition has one: the target whose builder makes the disk.
            var disk = definition.Targets.First(t =>
                providers.Find(t.Provider)?.Rules.BuildsDisks == true
            );
            var others = built.Where(t => t.Provider != disk.Provider).ToList();
            return others.Count == 0
                ? (disk, imports)
                : throw TooMany(definition, [disk, .. others]);
        }

        return built.Count == 1 ? (built[0], []) : throw TooMany(definition, built);
    }

    private static InvalidInputException TooMany(
        ImageDefinition definition,
        IReadOnlyList<TargetSpec> targets
    ) =>
        new(
            $"{definition.SourceFile}: '{definition.Name}' has targets {string.Join(", ", targets.Select(t => t.Provider))} "
                + "that each build on their own (build: native, or no disk to share); build them one at a time with --target."
        );
}
