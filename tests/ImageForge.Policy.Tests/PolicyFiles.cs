using ImageForge.TestUtils;

namespace ImageForge.Policy.Tests;

/// <summary>The shipped policy directory, and copies of it that a spec changes.</summary>
internal static class PolicyFiles
{
    public static string Shipped { get; } = Path.Combine(RepoPaths.Root, "policies");

    /// <summary>Copies the shipped rules and bindings (and their fixtures when asked) into <paramref name="dir"/>.</summary>
    public static string Copy(TempDirectory dir, bool fixtures = false)
    {
        var root = dir.Combine("policies");
        foreach (var file in Directory.EnumerateFiles(Shipped, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Shipped, file);
            if (!fixtures && relative.StartsWith("tests", StringComparison.Ordinal))
            {
                continue;
            }
            var to = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        return root;
    }

    /// <summary>Rewrites a file of a copy; throws when the change changes nothing (the shipped file moved on).</summary>
    public static void Edit(string root, string relative, Func<string, string> change) =>
        ContentCopy.Edit(root, relative, change);

    /// <summary>A plan file in <paramref name="dir"/> with <paramref name="json"/>.</summary>
    public static string Plan(TempDirectory dir, string json, string name = "plan.json")
    {
        var path = dir.Combine(name);
        File.WriteAllText(path, json);
        return path;
    }
}
