using System.Globalization;
using System.Text.RegularExpressions;

namespace ImageForge.Providers.Azure;

/// <summary>
/// A version <c>YYYY.MM.DD.N</c> as a gallery image version name <c>Major.Minor.Patch</c>: Major is the year, Minor
/// the month times 100 plus the day, Patch the build of the day (2026.12.02.3 is 2026.1202.3). Reversible, and it
/// sorts as the versions do, so the gallery's "latest" is the newest version promoted.
/// </summary>
internal static partial class GalleryVersionName
{
    public static string For(string version)
    {
        var match = Version().Match(version);
        if (!match.Success)
        {
            throw new ArgumentException(
                $"'{version}' is not a version YYYY.MM.DD.N; a gallery version name cannot be made from it",
                nameof(version)
            );
        }

        var month = int.Parse(match.Groups["month"].Value, CultureInfo.InvariantCulture);
        var day = int.Parse(match.Groups["day"].Value, CultureInfo.InvariantCulture);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{int.Parse(match.Groups["year"].Value, CultureInfo.InvariantCulture)}.{(month * 100) + day}.{long.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture)}"
        );
    }

    /// <summary>The version a gallery version name was made from, or null when it was not made by <see cref="For"/>.</summary>
    public static string? VersionOf(string name)
    {
        var parts = name.Split('.');
        if (
            parts.Length != 3
            || !int.TryParse(
                parts[0],
                NumberStyles.None,
                CultureInfo.InvariantCulture,
                out var year
            )
            || !int.TryParse(
                parts[1],
                NumberStyles.None,
                CultureInfo.InvariantCulture,
                out var minor
            )
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            || minor / 100 is < 1 or > 12
            || minor % 100 is < 1 or > 31
        )
        {
            return null;
        }

        return string.Create(
            CultureInfo.InvariantCulture,
            $"{year:D4}.{minor / 100:D2}.{minor % 100:D2}.{n}"
        );
    }

    [GeneratedRegex(
        @"^(?<year>[0-9]{4})\.(?<month>0[1-9]|1[0-2])\.(?<day>0[1-9]|[12][0-9]|3[01])\.(?<n>[0-9]{1,9})$",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex Version();
}
