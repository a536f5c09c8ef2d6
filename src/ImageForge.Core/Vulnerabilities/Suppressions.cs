namespace ImageForge.Core.Vulnerabilities;

/// <summary>VEX status of a suppression.</summary>
public enum SuppressionStatus
{
    /// <summary>The package is not affected (the vulnerable code is not present or not reachable).</summary>
    NotAffected,

    /// <summary>Affected, and the risk is accepted until the expiry date.</summary>
    Accepted,
}

/// <summary>
/// A VEX-style statement kept in a baseline: the advisory (or any of its aliases) in this package is not_affected
/// or accepted, why, and until when (inclusive). An expired suppression no longer suppresses.
/// </summary>
public sealed record Suppression(
    string Advisory,
    string Package,
    SuppressionStatus Status,
    string Justification,
    DateOnly Expires
)
{
    /// <summary>not_affected or accepted.</summary>
    public string StatusName =>
        Status == SuppressionStatus.NotAffected ? "not_affected" : "accepted";

    /// <summary>True when the advisory is the finding's id or one of its aliases and the package is its binary or source package.</summary>
    public bool Covers(Finding finding) =>
        finding.Ids.Any(id => string.Equals(id, Advisory, StringComparison.OrdinalIgnoreCase))
        && (
            string.Equals(finding.Package, Package, StringComparison.Ordinal)
            || string.Equals(finding.SourcePackage, Package, StringComparison.Ordinal)
        );
}

/// <summary>A finding kept out of the active list by a suppression.</summary>
public sealed record SuppressedFinding(Finding Finding, Suppression By);

/// <summary>Applies suppressions to findings on a given day.</summary>
internal static class SuppressionFilter
{
    /// <summary>
    /// Splits findings into active and suppressed. Suppressions whose expiry date is before <paramref name="today"/>
    /// are ignored and returned as expired, so the findings they covered are active again.
    /// </summary>
    public static (
        IReadOnlyList<Finding> Active,
        IReadOnlyList<SuppressedFinding> Suppressed,
        IReadOnlyList<Suppression> Expired
    ) Apply(IEnumerable<Finding> findings, IReadOnlyList<Suppression> suppressions, DateOnly today)
    {
        var valid = suppressions.Where(s => s.Expires >= today).ToList();
        var expired = suppressions.Where(s => s.Expires < today).ToList();
        var active = new List<Finding>();
        var suppressed = new List<SuppressedFinding>();
        foreach (var f in findings)
        {
            if (valid.FirstOrDefault(s => s.Covers(f)) is { } by)
            {
                suppressed.Add(new SuppressedFinding(f, by));
            }
            else
            {
                active.Add(f);
            }
        }
        return (active, suppressed, expired);
    }
}
