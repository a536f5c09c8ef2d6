using System.Globalization;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Gates;
using ImageForge.Core.Providers;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Application.Operations;

/// <summary>
/// A channel's <c>rescan: true</c> rule: scan the version's stored SBOM with the newest data, record the findings as
/// new <c>vulnerability-findings</c> evidence (as <c>imageforge scan</c> does), then judge the version's current
/// evidence by the baseline's gates again.
/// </summary>
internal static class FreshRescan
{
    /// <summary>The failing gate violations of the fresh decision, each prefixed "fresh re-scan: "; empty when it passes.</summary>
    public static async Task<IReadOnlyList<string>> RefusalsAsync(
        ICatalog catalog,
        ImageVersion version,
        ImageDefinition definition,
        Baseline? baseline,
        Pipeline pipeline,
        CancellationToken cancellationToken
    )
    {
        var time = pipeline.Host.Time;
        if (baseline is null)
        {
            return
            [
                $"baseline '{definition.Baseline}' is missing or invalid; run 'imageforge validate'",
            ];
        }

        var rescan = (
            await VersionRescan.ScanAndRecordAsync(
                catalog,
                version,
                definition,
                baseline,
                pipeline,
                pipeline.OsvDirectory(null),
                [],
                cancellationToken
            )
        ).Evidence;
        var target = VersionRescan.TargetOf(version, definition);
        var evidence = new EvidenceContext(
            definition,
            baseline,
            target,
            version.Version,
            version.BuildId,
            version.Artifacts,
            [.. version.Evidence, rescan],
            Path.GetDirectoryName(rescan.Location)!,
            time.GetUtcNow()
        )
        {
            BaseImage = pipeline.Providers.Get(target.Provider).BaseImage(definition, target),
        };
        var decision = GateEvaluator.Evaluate(
            baseline.Name,
            baseline.Gates,
            GateEvidence.From(
                evidence,
                await NoRevocationData.Instance.LookupAsync(
                    target.Provider,
                    target.BaseImage,
                    cancellationToken
                )
            ),
            time.GetUtcNow()
        );
        return decision.Decision == GateOutcome.Fail
            ?
            [
                .. decision
                    .Violations.Where(v => v.Outcome == GateOutcome.Fail)
                    .Select(v => $"fresh re-scan: {v}"),
            ]
            : [];
    }
}

/// <summary>
/// Scans a stored version's inventory with the newest data of its baseline's sources, the same way for
/// <c>imageforge scan</c>, promote's fresh re-scan and the worker's CVE job.
/// </summary>
public static class VersionRescan
{
    /// <summary>
    /// The target the version was built for (its artifacts name it), else the definition's first: its provider says
    /// where its security updates come from.
    /// </summary>
    public static TargetSpec TargetOf(ImageVersion version, ImageDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(definition);
        return version
                .Artifacts.Select(a => definition.FindTarget(a.Target))
                .FirstOrDefault(t => t is not null)
            ?? definition.Targets[0];
    }

    /// <summary>The scan options a version's definition and baseline call for.</summary>
    public static ScanOptions OptionsFor(
        ImageVersion version,
        ImageDefinition definition,
        Baseline baseline,
        ProviderRegistry providers,
        string? osvDirectory,
        IReadOnlyList<string> reports,
        DateTimeOffset now
    )
    {
        ArgumentNullException.ThrowIfNull(providers);
        ArgumentNullException.ThrowIfNull(baseline);
        var target = TargetOf(version, definition);
        return new(
            baseline.Vulnerabilities.Sources,
            osvDirectory,
            providers.Get(target.Provider).SecurityMirror(target)
                ?? VulnerabilityCollector.DefaultSecurityMirror,
            reports,
            baseline.Vulnerabilities.Suppressions,
            DateOnly.FromDateTime(now.UtcDateTime)
        );
    }

    /// <summary>Scans the version and records the findings as new evidence beside its other evidence.</summary>
    public static async Task<(
        FindingsDocument Document,
        EvidenceDocument Evidence,
        ScanResult Result
    )> ScanAndRecordAsync(
        ICatalog catalog,
        ImageVersion version,
        ImageDefinition definition,
        Baseline baseline,
        Pipeline pipeline,
        string? osvDirectory,
        IReadOnlyList<string> reports,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(pipeline);
        var now = pipeline.Host.Time.GetUtcNow();
        var result = await pipeline
            .Scanner()
            .ScanAsync(
                EvidenceFiles.ReadInventory(version),
                definition.Os,
                OptionsFor(
                    version,
                    definition,
                    baseline,
                    pipeline.Providers,
                    osvDirectory,
                    reports,
                    now
                ),
                cancellationToken
            );
        var document = FindingsDocument.From(version.Image, version.Version, now, result);
        var evidence = await EvidenceFiles.WriteAsync(
            Path.Combine(
                EvidenceDirectory(version),
                $"vulnerabilities-{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}.json"
            ),
            document.ToJson(),
            EvidenceFiles.VulnerabilityFindings,
            FindingsDocument.MediaType,
            cancellationToken
        );
        await catalog.AddEvidenceAsync(
            version.Image,
            version.Version,
            [evidence],
            now,
            cancellationToken
        );
        return (document, evidence, result);
    }

    private static string EvidenceDirectory(ImageVersion version)
    {
        var existing =
            version.Evidence.Select(e => e.Location).FirstOrDefault()
            ?? version
                .Artifacts.Where(a => a.Sha256 is not null)
                .Select(a => a.Location)
                .FirstOrDefault()
            ?? throw new InvalidInputException(
                $"{version.Image}@{version.Version} has no files on disk to scan"
            );
        var dir = Path.GetDirectoryName(existing)!;
        return Path.GetFileName(dir) == "evidence" ? dir : Path.Combine(dir, "evidence");
    }
}
