using System.Globalization;
using ImageForge.Core.Errors;

namespace ImageForge.Core.Inventory;

/// <summary>The package manager whose database an inventory was read from.</summary>
public enum PackageType
{
    Deb,
    Rpm,
}

/// <summary>One installed package as the image's package manager records it.</summary>
/// <param name="Name">Binary package name.</param>
/// <param name="Version">Full version: <c>[epoch:]upstream[-revision]</c> (deb) or <c>[epoch:]version-release</c> (rpm).</param>
/// <param name="Architecture">amd64, arm64, all (deb); x86_64, noarch (rpm).</param>
/// <param name="SourceName">Source package it was built from (its own name when it has none).</param>
/// <param name="SourceVersion">Source package version.</param>
/// <param name="Maintainer">Maintainer (deb) or vendor (rpm), as recorded.</param>
/// <param name="InstalledSizeKiB">Installed size in KiB, when recorded.</param>
/// <param name="License">Declared license: the DEP-5 <c>Files: *</c> license (deb) or the rpm License tag; null when not machine-readable.</param>
/// <param name="Type">The package manager: deb or rpm.</param>
public sealed record InstalledPackage(
    string Name,
    string Version,
    string Architecture,
    string SourceName,
    string SourceVersion,
    string Maintainer,
    long? InstalledSizeKiB,
    string? License,
    PackageType Type = PackageType.Deb
);

/// <summary>
/// The package inventory of one image: <c>packages.tsv</c> as the inventory collectors write it (tab-separated,
/// header first, columns found by name so new columns can be added after the existing ones).
/// </summary>
public sealed record PackageInventory(IReadOnlyList<InstalledPackage> Packages)
{
    /// <summary>The columns the collectors write, in order.</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "name",
        "version",
        "architecture",
        "source_name",
        "source_version",
        "maintainer",
        "installed_size",
        "license",
        "type",
    ];

    /// <summary>Reads a packages.tsv file. Throws <see cref="InvalidInputException"/> naming the file and line when it is malformed.</summary>
    public static PackageInventory Read(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    /// <summary>Parses packages.tsv text; <paramref name="file"/> names it in errors.</summary>
    public static PackageInventory Parse(TextReader reader, string file)
    {
        var header = reader.ReadLine();
        if (header is null)
        {
            throw new InvalidInputException(
                $"{file}: empty package inventory (expected a header line)"
            );
        }
        var columns = header.Split('\t');
        int Column(string name, bool required)
        {
            var index = Array.IndexOf(columns, name);
            return index < 0 && required
                ? throw new InvalidInputException(
                    $"{file}:1: package inventory has no '{name}' column; expected the columns {string.Join(", ", Columns)}"
                )
                : index;
        }
        var name = Column("name", true);
        var version = Column("version", true);
        var arch = Column("architecture", true);
        var sourceName = Column("source_name", false);
        var sourceVersion = Column("source_version", false);
        var maintainer = Column("maintainer", false);
        var size = Column("installed_size", false);
        var license = Column("license", false);
        var type = Column("type", false);
        var packages = new List<InstalledPackage>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            var f = line.Split('\t');
            if (f.Length < columns.Length)
            {
                throw new InvalidInputException(
                    $"{file}:{lineNumber}: expected {columns.Length} tab-separated fields, found {f.Length}"
                );
            }
            string? Get(int i) => i < 0 || f[i].Length == 0 ? null : f[i];
            packages.Add(
                new InstalledPackage(
                    f[name],
                    f[version],
                    f[arch],
                    Get(sourceName) ?? f[name],
                    Get(sourceVersion) ?? f[version],
                    Get(maintainer) ?? "",
                    long.TryParse(
                        Get(size),
                        NumberStyles.None,
                        CultureInfo.InvariantCulture,
                        out var kib
                    )
                        ? kib
                        : null,
                    Get(license),
                    Get(type) == "rpm" ? PackageType.Rpm : PackageType.Deb
                )
            );
        }
        return new PackageInventory(
            packages
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .ThenBy(p => p.Architecture, StringComparer.Ordinal)
                .ToList()
        );
    }

    /// <summary>Writes the inventory in the collectors' format (used by tests and benchmarks).</summary>
    public void Write(TextWriter writer)
    {
        writer.Write(string.Join('\t', Columns) + "\n");
        foreach (var p in Packages)
        {
            writer.Write(
                string.Join(
                    '\t',
                    p.Name,
                    p.Version,
                    p.Architecture,
                    p.SourceName,
                    p.SourceVersion,
                    p.Maintainer,
                    p.InstalledSizeKiB?.ToString(CultureInfo.InvariantCulture) ?? "",
                    p.License ?? "",
                    p.Type == PackageType.Rpm ? "rpm" : "deb"
                ) + "\n"
            );
        }
    }
}
