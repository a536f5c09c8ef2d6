namespace ImageForge.TestUtils;

/// <summary>Locations in the repository, found from the test binary's directory.</summary>
public static class RepoPaths
{
    /// <summary>The directory holding ImageForge.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// tests/specs: the official API models, schemas and sample outputs the tests read (copied into the repository
    /// with their SOURCE notes, so a clone tests itself with nothing beside it).
    /// </summary>
    public static string Specs { get; } = Path.Combine(Root, "tests", "specs");

    private static string FindRoot()
    {
        for (
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            dir is not null;
            dir = dir.Parent
        )
        {
            if (File.Exists(Path.Combine(dir.FullName, "ImageForge.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no ImageForge.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>A fresh directory under the system temp directory, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "imageforge-test")
    {
        Path = Directory.CreateTempSubdirectory(prefix + "-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a test that failed may leave a busy file; the OS temp cleaner gets it.
        }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A clock tests move by hand.</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public void Advance(TimeSpan by) => _now += by;

    public void Set(DateTimeOffset to) => _now = to;
}
