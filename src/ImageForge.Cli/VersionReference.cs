using ImageForge.Core.Builds;
using ImageForge.Core.Errors;

namespace ImageForge.Cli;

/// <summary>
/// How commands name a version: <c>image@YYYY.MM.DD.N</c>, or <c>image</c> alone for its latest version. Every
/// command that takes a version resolves it here, so they all accept the same forms and fail the same way.
/// </summary>
internal static class VersionReference
{
    /// <summary>Splits <c>image@version</c>; the version must look like YYYY.MM.DD.N.</summary>
    public static (string Image, string? Version) Parse(string text)
    {
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at < 0)
        {
            return (text, null);
        }

        var version = text[(at + 1)..];
        if (!System.Text.RegularExpressions.Regex.IsMatch(version, @"^\d{4}\.\d{2}\.\d{2}\.\d+$"))
        {
            throw new InvalidInputException(
                $"'{text}': a version looks like 2026.11.22.1 (YYYY.MM.DD.N)"
            );
        }

        return (text[..at], version);
    }

    /// <summary>The version an <c>image[@version]</c> argument names (the latest without a version).</summary>
    public static async Task<ImageVersion> ResolveAsync(
        ICatalog catalog,
        string text,
        CancellationToken ct
    )
    {
        var (image, version) = Parse(text);
        var latest = version is null ? await catalog.ListVersionsAsync(image, 1, ct) : [];
        var found = version is null
            ? (latest.Count > 0 ? latest[0] : null)
            : await catalog.GetVersionAsync(image, version, ct);
        if (found is not null)
        {
            return found;
        }

        throw new InvalidInputException(
            version is null || (await catalog.ListVersionsAsync(image, 1, ct)).Count == 0
                ? $"no versions of '{image}' in the catalog; 'imageforge images list' shows what is there"
                : $"{image} has no version {version}; 'imageforge images show {image}' lists its versions"
        );
    }
}
