namespace ImageForge.Core.Definitions;

/// <summary>The operating systems ImageForge builds, and how an <c>os</c> mapping is read.</summary>
public static class OsCatalog
{
    private static readonly Dictionary<string, string[]> ReleasesByFamily = new(
        StringComparer.Ordinal
    )
    {
        ["debian"] = ["11", "12"],
        ["ubuntu"] = ["22.04", "24.04"],
        ["rhel"] = ["8", "9"],
    };

    private static readonly Dictionary<string, string> DebianSuites = new(StringComparer.Ordinal)
    {
        ["11"] = "bullseye",
        ["12"] = "bookworm",
    };

    internal static IReadOnlyList<string> Families { get; } = ["debian", "ubuntu", "rhel"];

    internal static IReadOnlyList<string> Keys { get; } = ["family", "release"];

    /// <summary>Debian suites the local target can bootstrap, in release order.</summary>
    public static IReadOnlyList<string> DebianSuiteNames { get; } = ["bullseye", "bookworm"];

    /// <summary>The suite of a Debian release ("11": bullseye), or null.</summary>
    public static string? DebianSuiteOf(string release) => DebianSuites.GetValueOrDefault(release);

    /// <summary>The release of a Debian suite (bullseye: "11"), or null.</summary>
    public static string? DebianReleaseOf(string suite) =>
        DebianSuites.Where(p => p.Value == suite).Select(p => p.Key).FirstOrDefault();

    /// <summary>True when <paramref name="name"/> is a valid package name for the family's package manager.</summary>
    internal static bool IsValidPackageName(string? family, string name) =>
        family is "debian" or "ubuntu"
            ? Patterns.DebianPackage().IsMatch(name)
            : Patterns.RpmPackage().IsMatch(name);

    /// <summary>Reads the required <c>os</c> mapping of <paramref name="parent"/>; null (reported) when invalid.</summary>
    internal static OsSpec? Read(MappingReader parent)
    {
        const string Expectation =
            "a mapping with family (debian, ubuntu or rhel) and release, e.g. { family: debian, release: \"11\" }";
        var node = parent.Require("os", Expectation);
        if (node is null)
        {
            return null;
        }
        var os = MappingReader.Open(node, parent.PathOf("os"), Expectation, parent.Problems, Keys);
        if (os is null)
        {
            return null;
        }
        var family = os.RequireScalar("family", "one of: " + string.Join(", ", Families));
        var release = os.RequireScalar(
            "release",
            "a release such as \"11\" (debian), \"22.04\" (ubuntu) or \"9\" (rhel)"
        );
        var valid = true;
        if (family is not null && !ReleasesByFamily.ContainsKey(family))
        {
            parent.Problems.Add(
                os.LineOf("family"),
                os.PathOf("family"),
                MappingReader.UnknownMessage("os family", family, Families)
            );
            valid = false;
        }
        if (
            family is not null
            && release is not null
            && ReleasesByFamily.TryGetValue(family, out var releases)
        )
        {
            if (!releases.Contains(release, StringComparer.Ordinal))
            {
                parent.Problems.Add(
                    os.LineOf("release"),
                    os.PathOf("release"),
                    $"unsupported {family} release '{release}'; expected one of: {string.Join(", ", releases)}"
                );
                valid = false;
            }
        }
        return valid && family is not null && release is not null
            ? new OsSpec(family, release)
            : null;
    }
}
