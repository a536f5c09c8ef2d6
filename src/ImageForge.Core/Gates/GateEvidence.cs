using ImageForge.Core.Anomalies;
using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Errors;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Core.Gates;

/// <summary>A finding as gates see it: its severity, whether a fix exists, and whether a suppression covers it.</summary>
public sealed record GateFinding(
    string Advisory,
    string Package,
    Severity Severity,
    string? FixedVersion,
    bool Suppressed
);

/// <summary>The compliance facts gates read: the score after hardening and each rule's outcome after hardening.</summary>
/// <param name="Score">Score after hardening; null when no rule was decided.</param>
/// <param name="Rules">Outcome of each rule after hardening; null when the results are not available.</param>
public sealed record ComplianceFacts(
    double? Score,
    IReadOnlyDictionary<string, RuleOutcome>? Rules
);

/// <summary>
/// What the gates of one version are evaluated against: facts read from its evidence documents and artifacts (or,
/// in policy tests, written inline). A null fact means the evidence is missing, and a gate that needs it fails.
/// </summary>
public sealed record GateEvidence
{
    /// <summary>Compliance facts (evidence kind compliance-summary); null when absent.</summary>
    public ComplianceFacts? Compliance { get; init; }

    /// <summary>Every finding, suppressed ones included (evidence kind vulnerability-findings); null when absent.</summary>
    public IReadOnlyList<GateFinding>? Findings { get; init; }

    /// <summary>Vulnerability sources that failed during the scan, with their detail.</summary>
    public IReadOnlyList<string> FailedSources { get; init; } = [];

    /// <summary>Installed packages by name, with version (SBOM or package inventory); null when absent.</summary>
    public IReadOnlyDictionary<string, string>? Packages { get; init; }

    /// <summary>Size in bytes of each artifact kind the version has.</summary>
    public IReadOnlyDictionary<string, long> ArtifactSizes { get; init; } =
        new Dictionary<string, long>();

    /// <summary>The boot test's result (evidence kind boot-test); null when the version has none.</summary>
    public BootTestFacts? BootTest { get; init; }

    /// <summary>The image tests' result (evidence kind image-tests); null when the version has none.</summary>
    public ImageTestFacts? ImageTests { get; init; }

    /// <summary>Every anomaly of the version's report (evidence kind anomalies); null when it has none.</summary>
    public IReadOnlyList<Anomaly>? Anomalies { get; init; }

    /// <summary>Kinds of the evidence documents the version has.</summary>
    public IReadOnlyCollection<string> EvidenceKinds { get; init; } = [];

    /// <summary>The base image the version was built from.</summary>
    public string BaseImage { get; init; } = "";

    /// <summary>Revocation state of the base image.</summary>
    public RevocationState Revocation { get; init; } = new(false, NoRevocationData.Detail);

    /// <summary>Why an evidence document of a kind could not be read (instead of "no &lt;kind&gt; evidence").</summary>
    public IReadOnlyDictionary<string, string> Unreadable { get; init; } =
        new Dictionary<string, string>();

    /// <summary>Reads the facts from the evidence and artifacts a build has produced so far.</summary>
    public static GateEvidence From(EvidenceContext context, RevocationState revocation)
    {
        ArgumentNullException.ThrowIfNull(context);
        var unreadable = new Dictionary<string, string>(StringComparer.Ordinal);

        ComplianceFacts? compliance = null;
        if (EvidenceFiles.Current(context.Evidence, ComplianceCollector.SummaryKind) is { } s)
        {
            try
            {
                var summary = ComplianceSummary.Read(s.Location);
                IReadOnlyDictionary<string, RuleOutcome>? rules = null;
                var after = EvidenceFiles.Current(
                    context.Evidence,
                    ComplianceCollector.AfterResultsKind
                );
                if (after is not null)
                {
                    rules = RuleOutcomes(XccdfResultsReader.Read(after.Location), summary);
                }
                compliance = new ComplianceFacts(summary.After.Score, rules);
            }
            catch (Exception e)
                when (e
                        is InvalidInputException
                            or FormatException
                            or IOException
                            or System.Xml.XmlException
                )
            {
                unreadable[ComplianceCollector.SummaryKind] = $"unreadable: {e.Message}";
            }
        }

        List<GateFinding>? findings = null;
        var failedSources = new List<string>();
        if (EvidenceFiles.Current(context.Evidence, EvidenceFiles.VulnerabilityFindings) is { } f)
        {
            try
            {
                var document = FindingsDocument.Read(f.Location);
                findings = [.. FromDocument(document)];
                failedSources.AddRange(
                    document
                        .Sources.Where(x => x.Status == "failed")
                        .Select(x => $"{x.Name}: {x.Detail}")
                );
            }
            catch (InvalidInputException e)
            {
                unreadable[EvidenceFiles.VulnerabilityFindings] = $"unreadable: {e.Message}";
            }
        }

        Dictionary<string, string>? packages = null;
        var inventoryPath =
            EvidenceFiles.Current(context.Evidence, EvidenceFiles.PackageInventory)?.Location
            ?? context
                .Artifacts.LastOrDefault(a => a.Kind == EvidenceFiles.PackageInventory)
                ?.Location;
        if (inventoryPath is not null)
        {
            try
            {
                packages = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var p in Inventory.PackageInventory.Read(inventoryPath).Packages)
                {
                    packages.TryAdd(p.Name, p.Version);
                }
            }
            catch (Exception e) when (e is InvalidInputException or IOException)
            {
                packages = null;
                unreadable[EvidenceFiles.PackageInventory] = $"unreadable: {e.Message}";
            }
        }

        BootTestFacts? bootTest = null;
        if (EvidenceFiles.Current(context.Evidence, BootTestEvidence.Kind) is { } b)
        {
            try
            {
                bootTest = BootTestEvidence.Read(b.Location);
            }
            catch (Exception e) when (e is FormatException or IOException)
            {
                unreadable[BootTestEvidence.Kind] = $"unreadable: {e.Message}";
            }
        }

        ImageTestFacts? imageTests = null;
        if (EvidenceFiles.Current(context.Evidence, ImageTestsEvidence.Kind) is { } t)
        {
            try
            {
                imageTests = ImageTestsEvidence.Read(t.Location);
            }
            catch (Exception e) when (e is FormatException or IOException)
            {
                unreadable[ImageTestsEvidence.Kind] = $"unreadable: {e.Message}";
            }
        }

        IReadOnlyList<Anomaly>? anomalies = null;
        if (EvidenceFiles.Current(context.Evidence, AnomalyReport.Kind) is { } r)
        {
            try
            {
                anomalies = AnomalyReport.Read(r.Location).Anomalies;
            }
            catch (InvalidInputException e)
            {
                unreadable[AnomalyReport.Kind] = $"unreadable: {e.Message}";
            }
        }

        return new GateEvidence
        {
            Compliance = compliance,
            Anomalies = anomalies,
            Findings = findings,
            FailedSources = failedSources,
            Packages = packages,
            BootTest = bootTest,
            ImageTests = imageTests,
            ArtifactSizes = context
                .Artifacts.Where(a => a.SizeBytes is not null)
                .GroupBy(a => a.Kind, StringComparer.Ordinal)
                .ToDictionary(
                    g => g.Key,
                    g => g.Max(a => a.SizeBytes!.Value),
                    StringComparer.Ordinal
                ),
            EvidenceKinds = context.Evidence.Select(e => e.Kind).ToHashSet(StringComparer.Ordinal),
            BaseImage = context.Target.BaseImage,
            Revocation = revocation,
            Unreadable = unreadable,
        };
    }

    /// <summary>The findings of a stored document, suppressed ones marked.</summary>
    public static IEnumerable<GateFinding> FromDocument(FindingsDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return document
            .Findings.Select(x => new GateFinding(
                x.Advisory,
                x.Package,
                x.Severity,
                x.FixedVersion,
                false
            ))
            .Concat(
                document.Suppressed.Select(x => new GateFinding(
                    x.Advisory,
                    x.Package,
                    x.Severity,
                    x.FixedVersion,
                    true
                ))
            );
    }

    // The XCCDF results do not know the baseline's waivers; the summary does.
    private static Dictionary<string, RuleOutcome> RuleOutcomes(
        XccdfScan scan,
        ComplianceSummary summary
    )
    {
        var waived = summary
            .Waivers.Where(w => w.State == WaiverState.Applied)
            .Select(w => w.Rule)
            .ToHashSet(StringComparer.Ordinal);
        var rules = new Dictionary<string, RuleOutcome>(StringComparer.Ordinal);
        foreach (var rule in scan.Rules)
        {
            rules[rule.RuleId] =
                rule.Outcome == RuleOutcome.Fail && waived.Contains(rule.RuleId)
                    ? RuleOutcome.Waived
                    : rule.Outcome;
        }
        return rules;
    }
}
