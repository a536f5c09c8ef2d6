using System.Security.Cryptography;
using System.Text;

namespace ImageForge.Core.Anomalies;

/// <summary>How serious an anomaly is; gates and promotion act on high and critical.</summary>
public enum AnomalySeverity
{
    /// <summary>Shown, never acted on.</summary>
    Info,

    /// <summary>Worth a look.</summary>
    Low,

    /// <summary>A gate may warn.</summary>
    Medium,

    /// <summary>A restricted channel needs an acknowledgement.</summary>
    High,

    /// <summary>Always serious: a restricted channel needs an acknowledgement.</summary>
    Critical,
}

/// <summary>How a detector reached its verdict.</summary>
public enum AnomalyDetectorKind
{
    /// <summary>A member of a fact set absent from every build of the window.</summary>
    FirstSeen,

    /// <summary>A measurement far from the window's median, in MADs.</summary>
    RobustZ,

    /// <summary>An exponentially weighted moving average out of its control limits.</summary>
    Ewma,

    /// <summary>A rule that is always serious (uid 0, NOPASSWD, PermitRootLogin yes, a new trust anchor).</summary>
    Rule,
}

/// <summary>The numbers a measurement was compared with.</summary>
/// <param name="Value">This build's value.</param>
/// <param name="Median">Median of the window.</param>
/// <param name="Mad">Median absolute deviation of the window (before the floor).</param>
/// <param name="Score">The robust z-score, or the EWMA's distance in control-limit units.</param>
public sealed record MeasurementEvidence(double Value, double Median, double Mad, double Score);

/// <summary>One thing that changed in a build and should not have, explained in one line.</summary>
public sealed record Anomaly
{
    /// <summary>Stable within a version: the signal and a hash of what appeared (<c>setuid_file-3fa2b1c4</c>).</summary>
    public required string Id { get; init; }

    /// <summary>The signal: a fact set (setuid_file), a measurement (size.disk_bytes) or a rule (uid0_account).</summary>
    public required string Signal { get; init; }

    /// <summary>Which detector raised it.</summary>
    public required AnomalyDetectorKind Detector { get; init; }

    /// <summary>How serious it is.</summary>
    public required AnomalySeverity Severity { get; init; }

    /// <summary>What appeared (a set's member) or the measurement's name.</summary>
    public required string Subject { get; init; }

    /// <summary>The numbers of a measurement; null for a set member.</summary>
    public MeasurementEvidence? Measurement { get; init; }

    /// <summary>What it was compared with: "absent in the last 20 builds", "median 2.1 GB, MAD 12 MB over 20 builds".</summary>
    public required string Baseline { get; init; }

    /// <summary>The one line users read.</summary>
    public required string Explanation { get; init; }

    /// <summary>The same difference appeared in the parent's change: shown, not raised.</summary>
    public bool Inherited { get; init; }

    /// <summary>The expected change of the baseline that suppresses it, with its reason; null when none does.</summary>
    public string? SuppressedBy { get; init; }

    /// <summary>Raised: neither inherited nor suppressed. Only raised anomalies reach gates and promotion.</summary>
    public bool Raised => !Inherited && SuppressedBy is null;

    /// <summary>The id of an anomaly of <paramref name="signal"/> about <paramref name="subject"/>.</summary>
    public static string IdOf(string signal, string subject) =>
        signal
        + "-"
        + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(subject)))[..8];
}

/// <summary>The names of severities as configuration and documents spell them.</summary>
public static class AnomalySeverities
{
    /// <summary>"info", "low", "medium", "high", "critical".</summary>
    public static string Name(AnomalySeverity severity) => severity.ToString().ToLowerInvariant();

    /// <summary>Parses a name; null when it is none.</summary>
    public static AnomalySeverity? Parse(string? text) =>
        Enum.GetValues<AnomalySeverity>()
            .Where(s => Name(s) == text)
            .Cast<AnomalySeverity?>()
            .FirstOrDefault();
}
