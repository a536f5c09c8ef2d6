using ImageForge.Application;
using ImageForge.Application.Views;
using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Errors;
using ImageForge.Core.Gates;
using ImageForge.Core.Inventory;
using ImageForge.Core.Promotion;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;
using ImageForge.Signing;

namespace ImageForge.Dashboard.Common;

/// <summary>
/// Everything the version page shows, read with the one reader of each document (gate decision, compliance summary,
/// SBOM, findings) and the signature checked live by <see cref="VersionVerifier"/> against the worker's trust store.
/// A document that cannot be read is named in <see cref="Problems"/>, not thrown: the page still shows the rest. The
/// anomalies are the API's and the command line's <see cref="AnomaliesView"/>; a stored report that cannot be read is
/// <see cref="AnomaliesProblem"/>, shown in their section.
/// </summary>
public sealed record VersionEvidence(
    ImageVersion Version,
    GateDecision? Gate,
    ComplianceSummary? Compliance,
    IReadOnlyList<InstalledPackage> Packages,
    FindingsDocument? Findings,
    VerificationReport Verification,
    IReadOnlyList<string> Problems
)
{
    /// <summary>The anomaly report with its acknowledgements; null without one (or when it is unreadable).</summary>
    public AnomaliesView? Anomalies { get; init; }

    /// <summary>Why the stored anomaly report cannot be read (version, file, JSON path); null when it can.</summary>
    public string? AnomaliesProblem { get; init; }

    internal static async Task<VersionEvidence> ReadAsync(
        ImageVersion version,
        Pipeline pipeline,
        IPromotionStore store,
        CancellationToken cancellationToken
    )
    {
        var problems = new List<string>();
        T? Try<T>(Func<T?> read)
            where T : class
        {
            try
            {
                return read();
            }
            catch (InvalidInputException e)
            {
                problems.Add(e.Message);
                return null;
            }
        }

        var gate = Try(() => GateDecision.Current(version)?.Decision);
        var compliance = Try(() =>
            EvidenceFiles.Current(version.Evidence, ComplianceCollector.SummaryKind) is { } doc
                ? ComplianceSummary.Read(doc.Location)
                : null
        );
        var packages = HasInventory(version)
            ? Try(() => EvidenceFiles.ReadInventory(version))?.Packages
            : null;
        var findings = Try(() =>
            EvidenceFiles.Current(version.Evidence, EvidenceFiles.VulnerabilityFindings) is { } doc
                ? FindingsDocument.Read(doc.Location)
                : null
        );
        // Checked now; a file unchanged since the worker last hashed it keeps its digest (Pipeline.FileDigests).
        var verification = await VersionVerifier.VerifyAsync(
            version,
            null,
            pipeline.TrustStore(),
            pipeline.FileDigests,
            cancellationToken
        );
        AnomaliesView? anomalies = null;
        string? anomaliesProblem = null;
        try
        {
            anomalies = await AnomaliesView.LoadAsync(version, store, cancellationToken);
        }
        catch (EvidenceUnreadableException e)
        {
            anomaliesProblem = e.Message;
        }

        return new VersionEvidence(
            version,
            gate,
            compliance,
            packages ?? [],
            findings,
            verification,
            problems
        )
        {
            Anomalies = anomalies,
            AnomaliesProblem = anomaliesProblem,
        };
    }

    private static bool HasInventory(ImageVersion version) =>
        version.Evidence.Any(e =>
            e.Kind is EvidenceFiles.CycloneDx or EvidenceFiles.PackageInventory
        ) || version.Artifacts.Any(a => a.Kind == EvidenceFiles.PackageInventory);
}
