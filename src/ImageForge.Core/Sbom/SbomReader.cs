using System.Globalization;
using System.Text.Json;
using ImageForge.Core.Errors;
using ImageForge.Core.Inventory;

namespace ImageForge.Core.Sbom;

/// <summary>Reads the package inventory back from a CycloneDX SBOM that ImageForge wrote (for re-scans).</summary>
internal static class SbomReader
{
    /// <summary>The packages of a CycloneDX JSON document; throws <see cref="InvalidInputException"/> naming the file when it is not one.</summary>
    public static PackageInventory ReadCycloneDx(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var doc = JsonDocument.Parse(stream);
            var root = doc.RootElement;
            if (
                !root.TryGetProperty("bomFormat", out var format)
                || format.GetString() != "CycloneDX"
                || !root.TryGetProperty("components", out var components)
            )
            {
                throw new InvalidInputException(
                    $"{path}: not a CycloneDX JSON SBOM with components"
                );
            }
            var packages = new List<InstalledPackage>();
            foreach (var c in components.EnumerateArray())
            {
                var props = new Dictionary<string, string>(StringComparer.Ordinal);
                if (c.TryGetProperty("properties", out var list))
                {
                    foreach (var p in list.EnumerateArray())
                    {
                        props[p.GetProperty("name").GetString()!] = p.GetProperty("value")
                            .GetString()!;
                    }
                }
                var name = c.GetProperty("name").GetString()!;
                var version = c.GetProperty("version").GetString()!;
                packages.Add(
                    new InstalledPackage(
                        name,
                        version,
                        props.GetValueOrDefault("imageforge:package:architecture", ""),
                        props.GetValueOrDefault(SbomWriter.SourceNameProperty, name),
                        props.GetValueOrDefault(SbomWriter.SourceVersionProperty, version),
                        c.TryGetProperty("supplier", out var s)
                        && s.TryGetProperty("name", out var sn)
                            ? sn.GetString() ?? ""
                            : "",
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
        catch (Exception e)
            when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidInputException($"{path}: not a readable CycloneDX SBOM: {e.Message}");
        }
    }
}
