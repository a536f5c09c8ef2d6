namespace ImageForge.TestUtils;

/// <summary>Copies of whole directories, as a backup restored elsewhere would be.</summary>
public static class DirectoryTrees
{
    /// <summary>Copies every directory and file below <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (
            var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories)
        )
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
