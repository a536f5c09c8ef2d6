using System.Security.Cryptography;
using ImageForge.Core.Artifacts;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Inventory;

namespace ImageForge.Core.Sbom;

/// <summary>Writing evidence documents and finding the ones a version already has.</summary>
public static class EvidenceFiles
{
    /// <summary>Evidence kinds of this feature.</summary>
    public const string PackageInventory = "package-inventory";

    /// <inheritdoc cref="PackageInventory"/>
    public const string CycloneDx = "sbom-cyclonedx";

    /// <inheritdoc cref="PackageInventory"/>
    public const string Spdx = "sbom-spdx";

    /// <inheritdoc cref="PackageInventory"/>
    public const string VulnerabilityFindings = "vulnerability-findings";

    /// <summary>Writes the bytes atomically (<see cref="AtomicFile"/>) and describes them as evidence.</summary>
    public static async Task<EvidenceDocument> WriteAsync(
        string path,
        byte[] bytes,
        string kind,
        string mediaType,
        CancellationToken cancellationToken = default
    )
    {
        await AtomicFile.WriteAsync(path, bytes, cancellationToken);
        return new EvidenceDocument
        {
            Kind = kind,
            Location = path,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            SizeBytes = bytes.LongLength,
            MediaType = mediaType,
        };
    }

    /// <summary>The newest evidence document of a kind, or null.</summary>
    public static EvidenceDocument? Current(IEnumerable<EvidenceDocument> evidence, string kind) =>
        evidence.LastOrDefault(e => e.Kind == kind);

    /// <summary>
    /// The package inventory of a version: its stored CycloneDX SBOM when there is one, else its package-inventory
    /// document or artifact. Throws <see cref="InvalidInputException"/> when it has neither.
    /// </summary>
    public static PackageInventory ReadInventory(ImageVersion version)
    {
        if (Current(version.Evidence, CycloneDx) is { } sbom && File.Exists(sbom.Location))
        {
            return SbomReader.ReadCycloneDx(sbom.Location);
        }
        var tsv =
            Current(version.Evidence, PackageInventory)?.Location
            ?? version.Artifacts.LastOrDefault(a => a.Kind == PackageInventory)?.Location;
        return tsv is not null && File.Exists(tsv)
            ? Inventory.PackageInventory.Read(tsv)
            : throw new InvalidInputException(
                $"{version.Image}@{version.Version} has no SBOM and no package inventory on disk; rebuild it"
            );
    }
}
