using ImageForge.Core.Definitions;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Core.Worker;

/// <summary>
/// Decides which advisories call for a CVE-driven rebuild (docs/worker.md): the distinct advisory ids of the
/// findings that are not suppressed, have a fixed version and are rated at least the baseline's
/// <c>rebuild.on_fixable_cve.min_severity</c>, sorted ordinally. The set is what the catalog remembers per image and
/// target, so an unchanged set never queues a second build. Pure: no clock, no I/O.
/// </summary>
public static class CveRebuildPlanner
{
    /// <summary>How many ids a build reason names before it summarises the rest.</summary>
    public const int ReasonIdLimit = 20;

    /// <summary>
    /// The advisory set of a scan. The scanner has already applied the baseline's suppressions:
    /// <see cref="ScanResult.Findings"/> holds only the active findings (suppressed ones are in
    /// <see cref="ScanResult.Suppressed"/>, expired suppressions no longer suppress), so they are not applied again.
    /// Empty when the baseline does not opt in.
    /// </summary>
    public static IReadOnlyList<string> AdvisorySet(ScanResult scan, RebuildPolicy policy) =>
        AdvisorySet(scan.Findings, policy);

    /// <summary>
    /// The advisory set of findings that did not go through the scanner (imported or stored ones): the suppressions
    /// in force on <paramref name="today"/> are applied first, as the scanner would.
    /// </summary>
    public static IReadOnlyList<string> AdvisorySet(
        IEnumerable<Finding> findings,
        RebuildPolicy policy,
        IReadOnlyList<Suppression> suppressions,
        DateOnly today
    ) => AdvisorySet(SuppressionFilter.Apply(findings, suppressions, today).Active, policy);

    /// <summary>The advisory set of findings that are already free of suppressed ones (see the overloads).</summary>
    public static IReadOnlyList<string> AdvisorySet(
        IEnumerable<Finding> activeFindings,
        RebuildPolicy policy
    )
    {
        if (policy.CveMinSeverity is not { } minimum)
        {
            return [];
        }
        // Severity.Unknown sorts below Low, so a finding no source rated never meets a threshold on its own.
        return
        [
            .. activeFindings
                .Where(f => !string.IsNullOrWhiteSpace(f.FixedVersion) && f.Severity >= minimum)
                .Select(f => f.Advisory)
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal),
        ];
    }

    /// <summary>
    /// The reason a CVE build carries: <c>fixable advisories: CVE-2026-1234, DSA-5678-1</c>. Beyond
    /// <see cref="ReasonIdLimit"/> ids it names the first ones and how many more there are (the set itself, kept by
    /// the catalog, is complete). An empty set (nothing to rebuild for) reads <c>no fixable advisories</c>.
    /// </summary>
    public static string Reason(IReadOnlyList<string> advisories)
    {
        if (advisories.Count == 0)
        {
            return "no fixable advisories";
        }
        var shown = string.Join(", ", advisories.Take(ReasonIdLimit));
        var more = advisories.Count - ReasonIdLimit;
        return more > 0
            ? $"fixable advisories: {shown} and {more} more ({advisories.Count} in all)"
            : $"fixable advisories: {shown}";
    }
}
