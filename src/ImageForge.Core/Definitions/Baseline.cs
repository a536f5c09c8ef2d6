namespace ImageForge.Core.Definitions;

/// <summary>
/// A security baseline (<c>baselines/&lt;name&gt;.yaml</c>): how an image is hardened and what it must prove. Later
/// versions add vulnerability thresholds, package rules, gates and promotion rules as further properties.
/// </summary>
public sealed record Baseline
{
    /// <summary>Baseline name; equal to the file name without its extension.</summary>
    public required string Name { get; init; }

    /// <summary>What the baseline is, in a sentence.</summary>
    public required string Description { get; init; }

    /// <summary>The operating system the baseline applies to; images using it must have the same.</summary>
    public required OsSpec Os { get; init; }

    /// <summary>Directory of the hardening scripts, relative to the hardening root (e.g. cis/debian-11); contains run.sh.</summary>
    public required string Hardening { get; init; }

    /// <summary>OpenSCAP datastream and profile that measure compliance.</summary>
    public required ScapSpec Scap { get; init; }

    /// <summary>Minimum compliance score (0 to 100) after hardening.</summary>
    public required int MinScore { get; init; }

    /// <summary>Accepted deviations from the profile, each with a reason, an owner and an expiry date.</summary>
    public required IReadOnlyList<Waiver> Waivers { get; init; }

    /// <summary>Rules of the profile turned off for this baseline, each with its justification (an XCCDF tailoring).</summary>
    public IReadOnlyList<TailoredRule> Tailoring { get; init; } = [];

    /// <summary>Vulnerability sources and suppressions (the <c>vulnerabilities:</c> section); both sources and none when absent.</summary>
    public ImageForge.Core.Vulnerabilities.VulnerabilityPolicy Vulnerabilities { get; init; } =
        ImageForge.Core.Vulnerabilities.VulnerabilityPolicy.Default;

    /// <summary>What a version must meet to enter each channel (the <c>promotion:</c> section); none when absent.</summary>
    public ImageForge.Core.Promotion.PromotionRules Promotion { get; init; } =
        ImageForge.Core.Promotion.PromotionRules.None;

    /// <summary>Release gates (the <c>gates:</c> section) every version is judged by; none when absent.</summary>
    public ImageForge.Core.Gates.GatePolicy Gates { get; init; } =
        ImageForge.Core.Gates.GatePolicy.None;

    /// <summary>When the worker rebuilds an image on its own (the <c>rebuild:</c> section); never when absent.</summary>
    public RebuildPolicy Rebuild { get; init; } = RebuildPolicy.None;

    /// <summary>How far a revocation goes in the clouds (the <c>revocation:</c> section); deprecate only when absent.</summary>
    public RevocationPolicy Revocation { get; init; } = RevocationPolicy.Deprecate;

    /// <summary>How builds are compared with their history (the <c>anomalies:</c> section); the defaults when absent.</summary>
    public ImageForge.Core.Anomalies.AnomalySettings Anomalies { get; init; } =
        ImageForge.Core.Anomalies.AnomalySettings.Default;

    /// <summary>The file the baseline was read from, as it was given to the loader.</summary>
    public required string SourceFile { get; init; }
}

/// <summary>The SCAP content a baseline is measured with: datastream file name and XCCDF profile id.</summary>
public sealed record ScapSpec(string Datastream, string Profile);

/// <summary>
/// An accepted failure of one rule: why, who owns the decision, and the last day (inclusive) it is accepted.
/// </summary>
public sealed record Waiver(string Rule, string Reason, string Owner, DateOnly Expires);

/// <summary>A rule of the SCAP profile that this baseline does not evaluate, and why (written into an XCCDF tailoring).</summary>
public sealed record TailoredRule(string Rule, string Justification);

/// <summary>
/// A baseline's <c>rebuild:</c> section: when the worker queues a patch build of a version a channel points at
/// without anyone asking (docs/worker.md, CVE-driven rebuilds).
/// </summary>
/// <param name="CveMinSeverity">
/// <c>on_fixable_cve.min_severity</c>: a fixable advisory of at least this severity queues a rebuild; null when the
/// baseline does not opt in.
/// </param>
public sealed record RebuildPolicy(ImageForge.Core.Vulnerabilities.Severity? CveMinSeverity)
{
    /// <summary>No automatic rebuilds: what a baseline without the section gets.</summary>
    public static RebuildPolicy None { get; } =
        new((ImageForge.Core.Vulnerabilities.Severity?)null);
}
