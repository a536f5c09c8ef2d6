namespace ImageForge.Core.Vulnerabilities;

/// <summary>One binary package of a Debian <c>Packages</c> index.</summary>
/// <param name="Name">The binary package name (<c>Package:</c>).</param>
/// <param name="Version">Its version (<c>Version:</c>).</param>
/// <param name="Architecture">amd64, arm64, all... (<c>Architecture:</c>); empty when the stanza has none.</param>
/// <param name="SourceName">Its source package: <c>Source:</c> without the version, or the package name.</param>
/// <param name="SourceVersion">The source version: given in parentheses after <c>Source:</c> (binNMUs), else <paramref name="Version"/>.</param>
/// <param name="Filename">The .deb's path below the mirror root (<c>Filename:</c>, pool/...).</param>
public sealed record DebianArchivePackage(
    string Name,
    string Version,
    string Architecture,
    string SourceName,
    string SourceVersion,
    string Filename
);

/// <summary>
/// The one reader of Debian <c>Packages</c> indexes (deb822 stanzas separated by blank lines), shared by the
/// security source and the mirror resolver. Stanzas without <c>Package</c>, <c>Version</c> or <c>Filename</c> are
/// skipped; continuation lines (multi-line fields such as <c>Description</c>) are ignored.
/// </summary>
public static class DebianPackagesIndex
{
    /// <summary>Every stanza of the index, in file order, read line by line (a full index is tens of MB).</summary>
    public static IEnumerable<DebianArchivePackage> Read(TextReader reader)
    {
        string? name = null,
            version = null,
            arch = null,
            source = null,
            filename = null;
        while (true)
        {
            var line = reader.ReadLine();
            if (line is null || line.Length == 0)
            {
                if (name is not null && version is not null && filename is not null)
                {
                    yield return Make(name, version, arch, source, filename);
                }
                if (line is null)
                {
                    yield break;
                }
                name = version = arch = source = filename = null;
                continue;
            }
            if (line[0] is ' ' or '\t')
            {
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }
            var value = line[(colon + 1)..].Trim();
            switch (line[..colon])
            {
                case "Package":
                    name = value;
                    break;
                case "Version":
                    version = value;
                    break;
                case "Architecture":
                    arch = value;
                    break;
                case "Source":
                    source = value;
                    break;
                case "Filename":
                    filename = value;
                    break;
            }
        }
    }

    /// <summary>
    /// The newest stanza of each package name (by Debian version order), keyed by name: what apt would choose from
    /// this one index.
    /// </summary>
    public static Dictionary<string, DebianArchivePackage> Newest(
        IEnumerable<DebianArchivePackage> packages
    )
    {
        var result = new Dictionary<string, DebianArchivePackage>(StringComparer.Ordinal);
        foreach (var candidate in packages)
        {
            if (
                !result.TryGetValue(candidate.Name, out var existing)
                || DebianVersionComparer.Instance.Compare(candidate.Version, existing.Version) > 0
            )
            {
                result[candidate.Name] = candidate;
            }
        }
        return result;
    }

    /// <summary>The newest stanza of each package name of an index held in memory.</summary>
    public static Dictionary<string, DebianArchivePackage> Parse(string index)
    {
        using var reader = new StringReader(index);
        return Newest(Read(reader));
    }

    private static DebianArchivePackage Make(
        string name,
        string version,
        string? arch,
        string? source,
        string filename
    )
    {
        // "Source: openssl" or, for binNMUs and version skew, "Source: openssl (1.1.1n-0+deb11u4)".
        var sourceName = name;
        var sourceVersion = version;
        if (source is not null)
        {
            var paren = source.IndexOf('(', StringComparison.Ordinal);
            sourceName = (paren >= 0 ? source[..paren] : source).Trim();
            sourceVersion = paren >= 0 ? source[(paren + 1)..].TrimEnd(')').Trim() : version;
        }
        return new DebianArchivePackage(
            name,
            version,
            arch ?? "",
            sourceName,
            sourceVersion,
            filename
        );
    }
}
