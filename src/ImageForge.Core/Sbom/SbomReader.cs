using System.Globalization;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;
using ImageForge.Core.Inventory;

namespace ImageForge.Core.Sbom;

/// <summary>Reads the package inventory back from a CycloneDX SBOM that ImageForge wrote (for re-scans).</summary>
internal static class SbomReader
{
    /// <summary>
    /// The packages of a CycloneDX JSON document; throws <see cref="InvalidInputException"/> naming the file (and the
    /// JSON path) when it is not one.
    /// </summary>
    public static PackageInventory ReadCycloneDx(string path)
    {
        const string What = "a CycloneDX JSON SBOM";
        using var doc = JsonInput.ParseObjectFile(path, What);
        var root = JsonValueAt.Root(doc, path);
        if (
            root.OptionalString("bomFormat") != "CycloneDX"
            || root.Optional("components") is not { } components
        )
        {
            throw root.Error("not a CycloneDX JSON SBOM with components");
        }

        var packages = new List<InstalledPackage>();
        foreach (var c in components.Items())
        {
            var props = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in c.Optional("properties")?.Items() ?? [])
            {
                props[p.Required("name").AsString()] = p.OptionalString("value") ?? "";
            }

            var name = c.Required("name").AsString();
            var version = c.Required("version").AsString();
            packages.Add(
                new InstalledPackage(
                    name,
                    version,
                    props.GetValueOrDefault("imageforge:package:architecture", ""),
                    props.GetValueOrDefault(SbomWriter.SourceNameProperty, name),
                    props.GetValueOrDefault(SbomWriter.SourceVersionProperty, version),
                    c.Optional("supplier")?.OptionalString("name") ?? "",
                    long.TryParse(
                        props.GetValueOrDefault("imageforge:package:installed_size_kib"),
                        NumberStyles.None,
                        CultureInfo.InvariantCulture,
                        out var kib
                    )
                        ? kib
                        : null,
                    null,
                    props.GetValueOrDefault(SbomWriter.TypeProperty) == "rpm"
                        ? PackageType.Rpm
                        : PackageType.Deb
                )
            );
        }

        return new PackageInventory(packages);
    }
}
