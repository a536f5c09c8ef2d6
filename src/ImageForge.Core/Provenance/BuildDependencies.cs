using System.Security.Cryptography;
using ImageForge.Core.Definitions;

namespace ImageForge.Core.Provenance;

/// <summary>
/// The resolved dependencies of a build: the definition and baseline files, every file of the target's Packer
/// templates, every hardening script of the baseline's profile and the shared hardening library (hardening/lib, which
/// profiles source), the base image (as the target's provider module describes it), and the tool versions. Files are named relative to the content root.
/// </summary>
public static class BuildDependencies
{
    /// <summary>Collects the dependencies in a stable order: files by path (ordinal), then base image, then tools.</summary>
    /// <param name="content">Where the build's content came from.</param>
    /// <param name="definition">The image definition.</param>
    /// <param name="baseline">Its baseline.</param>
    /// <param name="target">The target that was built.</param>
    /// <param name="baseImage">The base the target built from, as its provider module describes it.</param>
    /// <param name="tools">Tool name to version, e.g. packer -> 1.6.6.</param>
    public static IReadOnlyList<ResolvedDependency> Collect(
        ContentPaths content,
        ImageDefinition definition,
        Baseline baseline,
        TargetSpec target,
        ResolvedDependency baseImage,
        IReadOnlyDictionary<string, string> tools
    )
    {
        ArgumentNullException.ThrowIfNull(baseImage);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(tools);
        var root = Path.GetDirectoryName(Path.GetFullPath(content.Baselines))!;
        var files = new List<(string File, string Role)>
        {
            (definition.SourceFile, "definition"),
            (baseline.SourceFile, "baseline"),
        };
        files.AddRange(
            FilesBelow(Path.Combine(content.PackerTemplates, target.Provider))
                .Select(f => (f, "packer-template"))
        );
        files.AddRange(
            FilesBelow(Path.Combine(content.Hardening, baseline.Hardening))
                .Concat(FilesBelow(Path.Combine(content.Hardening, "lib")))
                .Select(f => (f, "hardening"))
        );

        var result = files
            .Select(f => (Name: Relative(root, f.File), f.File, f.Role))
            .DistinctBy(f => f.Name, StringComparer.Ordinal)
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => new ResolvedDependency
            {
                Name = f.Name,
                Sha256 = HashFile(f.File),
                Annotations = new Dictionary<string, string> { ["role"] = f.Role },
            })
            .ToList();
        result.Add(baseImage);
        result.AddRange(
            tools
                .OrderBy(t => t.Key, StringComparer.Ordinal)
                .Select(t => new ResolvedDependency
                {
                    Name = t.Key,
                    Uri = $"pkg:generic/{t.Key}@{t.Value}",
                    Annotations = new Dictionary<string, string>
                    {
                        ["role"] = "tool",
                        ["version"] = t.Value,
                    },
                })
        );
        return result;
    }

    private static IEnumerable<string> FilesBelow(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            : [];

    private static string Relative(string root, string file) =>
        Path.GetRelativePath(root, Path.GetFullPath(file)).Replace('\\', '/');

    private static string HashFile(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
