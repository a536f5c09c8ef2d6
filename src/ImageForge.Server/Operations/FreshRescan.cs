using System.Globalization;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Gates;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Server.Operations;

/// <summary>
/// Where promote's fresh re-scan gets its data: the scanner and the OSV database directory (null for none), both
/// asked for only when a channel's rule wants a re-scan. The command line and the worker pass their pipeline's.
/// </summary>
/// <param name="Scanner">Creates the vulnerability scanner.</param>
/// <param name="OsvDirectory">The OSV database directory, or null.</param>
public sealed record RescanSource(Func<VulnerabilityScanner> Scanner, Func<string?> OsvDirectory)
{
    /// <summary>The scanner and OSV directory of a pipeline, created only when a re-scan runs.</summary>
    public static RescanSource From(Func<Pipeline> pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        return new(() => pipeline().Scanner(), () => pipeline().OsvDirectory(null));
    }
}

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
        RescanSource source,
        TimeProvider time,
        CancellationToken cancellationToken
    )
    {
        if (baseline is null)
        {
            return
            [
                $"baseline '{definition.Baseline}' is missing or invalid; run 'imageforge validate'",
            ];
        }

        var rescan = await RecordAsync(
            catalog,
            version,
            definition,
            baseline,
            source,
            time,
            cancellationToken
        );
        var target = definition.FindTarget("local") ?? definition.Targets[0];
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
        );
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

    private static async Task<EvidenceDocument> RecordAsync(
        ICatalog catalog,
        ImageVersion version,
        ImageDefinition definition,
        Baseline baseline,
        RescanSource source,
        TimeProvider time,
        CancellationToken cancellationToken
    ) =>
        (
            await VersionRescan.ScanAndRecordAsync(
                catalog,
                version,
                definition,
                baseline,
                source.Scanner(),
                source.OsvDirectory(),
                [],
                time,
                cancellationToken
            )
        ).Evidence;
}

/// <summary>
/// Scans a stored version's inventory with the newest data of its baseline's sources, the same way for
/// <c>imageforge scan</c>, promote's fresh re-scan and the worker's CVE job.
/// </summary>
public static class VersionRescan
{
    /// <summary>The scan options a version's definition and baseline call for.</summary>
    public static ScanOptions OptionsFor(
        ImageDefinition definition,
        Baseline baseline,
        string? osvDirectory,
        IReadOnlyList<string> reports,
        DateTimeOffset now
    ) =>
        new(
            baseline.Vulnerabilities.Sources,
            osvDirectory,
            definition.FindTarget("local")?.Option("security_mirror")
                ?? VulnerabilityCollector.DefaultSecurityMirror,
            reports,
            baseline.Vulnerabilities.Suppressions,
            DateOnly.FromDateTime(now.UtcDateTime)
        );

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
        VulnerabilityScanner scanner,
        string? osvDirectory,
        IReadOnlyList<string> reports,
        TimeProvider time,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(scanner);
        ArgumentNullException.ThrowIfNull(time);
        var now = time.GetUtcNow();
        var result = await scanner.ScanAsync(
            EvidenceFiles.ReadInventory(version),
            definition.Os,
            OptionsFor(definition, baseline, osvDirectory, reports, now),
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
