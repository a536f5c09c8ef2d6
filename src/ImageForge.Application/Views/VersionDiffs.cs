using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Inventory;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Application.Views;

/// <summary>A package added (From null), removed (To null) or changed between two versions.</summary>
public sealed record PackageChange(string Name, string Architecture, string? From, string? To);

/// <summary>A finding fixed or introduced between two versions.</summary>
public sealed record FindingChange(
    string Advisory,
    string Package,
    string Source,
    string Severity,
    string InstalledVersion,
    string? FixedVersion
);

/// <summary>What changed from one version to another (<c>imageforge diff</c>, the dashboard's diff page).</summary>
public sealed record VersionDiff(
    string From,
    string To,
    IReadOnlyList<PackageChange> Added,
    IReadOnlyList<PackageChange> Removed,
    IReadOnlyList<PackageChange> Changed,
    bool FindingsCompared,
    IReadOnlyList<FindingChange> FindingsFixed,
    IReadOnlyList<FindingChange> FindingsIntroduced
)
{
    /// <summary>Whether both versions have a compliance summary, so rules could be compared.</summary>
    public bool ComplianceCompared { get; init; }

    /// <summary>Rules failed in the older version that pass (or are gone) in the newer one.</summary>
    public IReadOnlyList<RuleFlip> RulesFixed { get; init; } = [];

    /// <summary>Rules that pass in the older version and fail in the newer one.</summary>
    public IReadOnlyList<RuleFlip> RulesBroken { get; init; } = [];
}

/// <summary>A compliance rule whose outcome flipped between two versions.</summary>
public sealed record RuleFlip(string Rule, string Title, string Severity);

/// <summary>
/// The one comparison of two versions: packages added, removed and changed (from each version's SBOM or inventory),
/// findings fixed and introduced (by source, advisory and package, from each version's newest findings) and compliance
/// rules that flipped (from each version's compliance summary).
/// </summary>
public static class VersionDiffs
{
    public static VersionDiff Compute(ImageVersion a, ImageVersion b)
    {
        static Dictionary<(string, string), InstalledPackage> Index(PackageInventory i) =>
            i
                .Packages.DistinctBy(p => (p.Name, p.Architecture))
                .ToDictionary(p => (p.Name, p.Architecture));
        var pa = Index(EvidenceFiles.ReadInventory(a));
        var pb = Index(EvidenceFiles.ReadInventory(b));
        var added = pb
            .Keys.Except(pa.Keys)
            .Select(k => new PackageChange(k.Item1, k.Item2, null, pb[k].Version));
        var removed = pa
            .Keys.Except(pb.Keys)
            .Select(k => new PackageChange(k.Item1, k.Item2, pa[k].Version, null));
        var changed = pa
            .Keys.Intersect(pb.Keys)
            .Where(k => pa[k].Version != pb[k].Version)
            .Select(k => new PackageChange(k.Item1, k.Item2, pa[k].Version, pb[k].Version));

        var fa = Findings(a);
        var fb = Findings(b);
        IReadOnlyList<FindingChange> Changes(
            Dictionary<string, FindingEntry> x,
            Dictionary<string, FindingEntry> y
        ) =>
            x
                .Keys.Except(y.Keys)
                .Select(k => x[k])
                .Select(f => new FindingChange(
                    f.Advisory,
                    f.Package,
                    f.Source,
                    Severities.Name(f.Severity),
                    f.InstalledVersion,
                    f.FixedVersion
                ))
                .OrderBy(f => f.Package, StringComparer.Ordinal)
                .ThenBy(f => f.Advisory, StringComparer.Ordinal)
                .ToList();
        var compared = fa is not null && fb is not null;
        return new VersionDiff(
            $"{a.Image}@{a.Version}",
            $"{b.Image}@{b.Version}",
            Sorted(added),
            Sorted(removed),
            Sorted(changed),
            compared,
            compared ? Changes(fa!, fb!) : [],
            compared ? Changes(fb!, fa!) : []
        );
    }

    private static List<PackageChange> Sorted(IEnumerable<PackageChange> changes) =>
        changes
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ThenBy(c => c.Architecture, StringComparer.Ordinal)
            .ToList();

    // Rules failed in x and not in y, by rule id.
    private static List<RuleFlip> Flips(
        Dictionary<string, FailedRule> x,
        Dictionary<string, FailedRule> y
    ) =>
        x
            .Keys.Except(y.Keys)
            .Order(StringComparer.Ordinal)
            .Select(k => new RuleFlip(k, x[k].Title, x[k].Severity))
            .ToList();

    private static Dictionary<string, FailedRule>? FailedRules(ImageVersion v) =>
        EvidenceFiles.Current(v.Evidence, ComplianceCollector.SummaryKind) is { } doc
        && File.Exists(doc.Location)
            ? ComplianceSummary
                .Read(doc.Location)
                .FailedRules.DistinctBy(r => r.Rule)
                .ToDictionary(r => r.Rule, StringComparer.Ordinal)
            : null;

    private static Dictionary<string, FindingEntry>? Findings(ImageVersion v) =>
        EvidenceFiles.Current(v.Evidence, EvidenceFiles.VulnerabilityFindings) is { } doc
        && File.Exists(doc.Location)
            ? FindingsDocument
                .Read(doc.Location)
                .Findings.DistinctBy(f => f.Key)
                .ToDictionary(f => f.Key)
            : null;
}
