using ImageForge.Core.Errors;
using ImageForge.Core.Inventory;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Dashboard.Common;

/// <summary>
/// The version page's SBOM table as its query string asks for it: <c>sbom_q</c> (a case-insensitive part of a
/// package's name, version, source or licence), <c>sbom_sort</c> (a column) and <c>sbom_dir</c> (<c>asc</c> or
/// <c>desc</c>). Versions sort as dpkg orders them. A column or direction it does not know is bad input (400).
/// </summary>
public sealed record SbomQuery(string? Search, string Sort, bool Descending)
{
    /// <summary>The sortable columns, as <c>sbom_sort</c> names them, with their headings.</summary>
    public static readonly IReadOnlyList<(string Column, string Heading)> Columns =
    [
        ("name", "Package"),
        ("version", "Version"),
        ("architecture", "Architecture"),
        ("source", "Source"),
        ("license", "Licence"),
    ];

    /// <summary>The whole table by name, ascending.</summary>
    public static SbomQuery Default { get; } = new(null, "name", false);

    internal static SbomQuery Parse(string? search, string? sort, string? direction)
    {
        var column = string.IsNullOrWhiteSpace(sort) ? "name" : sort.Trim();
        if (!Columns.Any(c => c.Column == column))
        {
            throw new InvalidInputException(
                $"sbom_sort: '{sort}' is not a column of the SBOM table; use one of "
                    + string.Join(", ", Columns.Select(c => c.Column))
            );
        }

        var descending = direction?.Trim() switch
        {
            null or "" or "asc" => false,
            "desc" => true,
            _ => throw new InvalidInputException(
                $"sbom_dir: '{direction}' is not a sort direction; use asc or desc"
            ),
        };
        return new SbomQuery(
            string.IsNullOrWhiteSpace(search) ? null : search.Trim(),
            column,
            descending
        );
    }

    /// <summary>The packages that match <see cref="Search"/>, in the asked order (then by name).</summary>
    public IReadOnlyList<InstalledPackage> Apply(IReadOnlyList<InstalledPackage> packages)
    {
        ArgumentNullException.ThrowIfNull(packages);
        var matching = packages.Where(Matches);
        IComparer<string> versions = packages.All(p => p.Type == PackageType.Deb)
            ? DebianVersionComparer.Instance
            : StringComparer.Ordinal;
        var ordered = Descending
            ? matching.OrderByDescending(
                p => Key(p),
                Sort == "version" ? versions : StringComparer.Ordinal
            )
            : matching.OrderBy(p => Key(p), Sort == "version" ? versions : StringComparer.Ordinal);
        return [.. ordered.ThenBy(p => p.Name, StringComparer.Ordinal)];
    }

    /// <summary>The query string that sorts by <paramref name="column"/>: ascending, or the other way when it is the current column.</summary>
    public string SortLink(string column) =>
        Link(Search, column, column == Sort ? !Descending : false);

    /// <summary>"ascending" or "descending" for the current column, "none" for the others (<c>aria-sort</c>).</summary>
    public string AriaSort(string column) =>
        column != Sort ? "none"
        : Descending ? "descending"
        : "ascending";

    private static string Link(string? search, string column, bool descending) =>
        "?"
        + (search is null ? "" : $"sbom_q={Uri.EscapeDataString(search)}&")
        + $"sbom_sort={column}&sbom_dir={(descending ? "desc" : "asc")}#sbom";

    private bool Matches(InstalledPackage package) =>
        Search is not { } s
        || package.Name.Contains(s, StringComparison.OrdinalIgnoreCase)
        || package.Version.Contains(s, StringComparison.OrdinalIgnoreCase)
        || package.SourceName.Contains(s, StringComparison.OrdinalIgnoreCase)
        || (package.License?.Contains(s, StringComparison.OrdinalIgnoreCase) ?? false);

    private string Key(InstalledPackage package) =>
        Sort switch
        {
            "version" => package.Version,
            "architecture" => package.Architecture,
            "source" => package.SourceName,
            "license" => package.License ?? "",
            _ => package.Name,
        };
}
