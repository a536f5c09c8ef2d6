namespace ImageForge.TestUtils;

/// <summary>Copies of the repository's content (templates, baselines, hardening) that a test or benchmark changes.</summary>
public static class ContentCopy
{
    /// <summary>Copies templates, baselines and hardening below <paramref name="root"/>, a content root.</summary>
    public static string Create(string root)
    {
        foreach (var folder in new[] { "templates", "baselines", "hardening" })
        {
            var source = Path.Combine(RepoPaths.Root, folder);
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var to = Path.Combine(root, folder, Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(file, to);
            }
        }

        return root;
    }

    /// <summary>
    /// Adds the baseline <c>open</c> to a content copy: the shipped baseline cut before its waivers, so it has no waivers,
    /// promotion rules, rebuild triggers or gates: for specs whose images are made by a test module, not hardened for real.
    /// </summary>
    public static void AddOpenBaseline(string root)
    {
        var shipped = File.ReadAllText(Path.Combine(root, "baselines", "debian-11-anssi.yaml"));
        File.WriteAllText(
            Path.Combine(root, "baselines", "open.yaml"),
            shipped[..shipped.IndexOf("# Failures accepted", StringComparison.Ordinal)]
                .Replace("name: debian-11-anssi", "name: open", StringComparison.Ordinal)
        );
    }

    /// <summary>Rewrites a file of a content copy; throws when the change changes nothing (the content moved on).</summary>
    public static void Edit(string root, string relativePath, Func<string, string> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var path = Path.Combine(root, relativePath);
        var before = File.ReadAllText(path);
        var after = change(before);
        if (after == before)
        {
            throw new InvalidOperationException($"the edit of {relativePath} changed nothing");
        }
        File.WriteAllText(path, after);
    }
}
