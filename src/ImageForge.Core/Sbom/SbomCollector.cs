using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Inventory;

namespace ImageForge.Core.Sbom;

/// <summary>
/// Turns the build's package inventory into a CycloneDX 1.6 and an SPDX 2.3 SBOM whose subject is the new image
/// version: evidence kinds sbom-cyclonedx and sbom-spdx (sbom.cdx.json, sbom.spdx.json).
/// </summary>
public sealed class SbomCollector : IEvidenceCollector
{
    /// <inheritdoc />
    public string Name => "writing SBOMs (CycloneDX 1.6, SPDX 2.3)";

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvidenceDocument>> CollectAsync(
        EvidenceContext context,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        var inventory = ReadInventory(context);
        var subject = new SbomSubject(
            context.Definition.Name,
            context.Version,
            context.BuildId,
            context.Definition.Description,
            context.Definition.Os
        );
        var cdx = await EvidenceFiles.WriteAsync(
            Path.Combine(context.EvidenceDirectory, "sbom.cdx.json"),
            SbomWriter.CycloneDx(inventory, subject, context.At, Guid.NewGuid()),
            EvidenceFiles.CycloneDx,
            SbomWriter.CycloneDxMediaType,
            cancellationToken
        );
        var spdx = await EvidenceFiles.WriteAsync(
            Path.Combine(context.EvidenceDirectory, "sbom.spdx.json"),
            SbomWriter.Spdx(
                inventory,
                subject,
                context.At,
                SbomWriter.SpdxNamespace(subject, Guid.NewGuid())
            ),
            EvidenceFiles.Spdx,
            SbomWriter.SpdxMediaType,
            cancellationToken
        );
        sink.Log(
            "stdout",
            $"sbom: {inventory.Packages.Count} packages in {cdx.Location} and {spdx.Location}"
        );
        return [cdx, spdx];
    }

    /// <summary>The package-inventory document of the build (evidence, or an artifact of that kind).</summary>
    internal static PackageInventory ReadInventory(EvidenceContext context)
    {
        var path =
            EvidenceFiles.Current(context.Evidence, EvidenceFiles.PackageInventory)?.Location
            ?? context
                .Artifacts.LastOrDefault(a => a.Kind == EvidenceFiles.PackageInventory)
                ?.Location
            ?? throw new InvalidInputException(
                $"build {context.BuildId} produced no package inventory; the target's inventory step must run before SBOMs are written"
            );
        return PackageInventory.Read(path);
    }
}
