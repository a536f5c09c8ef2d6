using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Core.Gates;

/// <summary>What a gate's violation does to the decision: fail it (the default) or only warn.</summary>
public enum GateViolation
{
    /// <summary>The version is rejected.</summary>
    Fail,

    /// <summary>The decision becomes warn (unless another gate fails); the version stays promotable.</summary>
    Warn,
}

/// <summary>
/// The release gates of a baseline (the <c>gates:</c> section): every gate that is given is evaluated against the
/// evidence of each version; a gate left out is not evaluated. <see cref="None"/> when the section is absent.
/// </summary>
public sealed record GatePolicy
{
    /// <summary>No gates: every version passes (with no reasons).</summary>
    public static GatePolicy None { get; } = new();

    /// <summary>Maximum finding counts per severity.</summary>
    public VulnerabilityGate? Vulnerabilities { get; init; }

    /// <summary>Minimum compliance score after hardening and rules that must pass.</summary>
    public ComplianceGate? Compliance { get; init; }

    /// <summary>Packages that must not, or must, be installed.</summary>
    public PackageGate? Packages { get; init; }

    /// <summary>Maximum size of an artifact.</summary>
    public ImageSizeGate? ImageSize { get; init; }

    /// <summary>Evidence kinds every version must have.</summary>
    public EvidenceGate? Evidence { get; init; }

    /// <summary>The base image must not be revoked.</summary>
    public BaseImageGate? BaseImage { get; init; }

    /// <summary>The version's disk must have booted in the boot test.</summary>
    public BootTestGate? BootTest { get; init; }

    /// <summary>Every check of the image's tests must have passed in the booted guest.</summary>
    public ImageTestsGate? ImageTests { get; init; }

    /// <summary>Raised anomalies at or above a severity fail or warn (docs/anomalies.md).</summary>
    public AnomaliesGate? Anomalies { get; init; }

    /// <summary>True when no gate is configured.</summary>
    public bool IsEmpty =>
        Vulnerabilities is null
        && Compliance is null
        && Packages is null
        && ImageSize is null
        && Evidence is null
        && BaseImage is null
        && BootTest is null
        && ImageTests is null
        && Anomalies is null;
}

/// <summary>
/// At most <see cref="Max"/> findings of each listed severity (severities not listed are not limited). Suppressed
/// findings never count; with <see cref="OnlyFixable"/> only findings with a fixed version count.
/// </summary>
public sealed record VulnerabilityGate(
    IReadOnlyDictionary<Severity, int> Max,
    bool OnlyFixable,
    GateViolation OnViolation
);

/// <summary>Score after hardening of at least <see cref="MinScore"/> (when given) and every required rule passing.</summary>
public sealed record ComplianceGate(
    double? MinScore,
    IReadOnlyList<string> RequiredRules,
    GateViolation OnViolation
);

/// <summary>None of <see cref="Denied"/> installed and all of <see cref="Required"/> installed.</summary>
public sealed record PackageGate(
    IReadOnlyList<string> Denied,
    IReadOnlyList<string> Required,
    GateViolation OnViolation
);

/// <summary>The artifact of kind <see cref="Artifact"/> is at most <see cref="MaxBytes"/> bytes.</summary>
public sealed record ImageSizeGate(
    string Artifact,
    long MaxBytes,
    string MaxText,
    GateViolation OnViolation
);

/// <summary>Every kind in <see cref="Required"/> has an evidence document.</summary>
public sealed record EvidenceGate(IReadOnlyList<string> Required, GateViolation OnViolation);

/// <summary>The version's base image is not revoked.</summary>
public sealed record BaseImageGate(GateViolation OnViolation);

/// <summary>
/// The version has boot-test evidence and the boot test passed. A version without a boot test (turned off, or a
/// target that has none) fails the gate whatever <see cref="OnViolation"/> says: nothing was proven.
/// </summary>
public sealed record BootTestGate(GateViolation OnViolation);

/// <summary>
/// The version has image-tests evidence and every check passed. A version without it (no tests, or no boot test)
/// fails the gate whatever <see cref="OnViolation"/> says, like <see cref="BootTestGate"/>.
/// </summary>
public sealed record ImageTestsGate(GateViolation OnViolation);

/// <summary>
/// Raised anomalies (neither inherited nor expected) of the version's anomaly report: one at or above
/// <see cref="FailAt"/> fails the gate, one at or above <see cref="WarnAt"/> warns. A version without a report (its
/// target collects no facts) fails the gate, like every gate whose evidence is missing.
/// </summary>
public sealed record AnomaliesGate(
    ImageForge.Core.Anomalies.AnomalySeverity? FailAt,
    ImageForge.Core.Anomalies.AnomalySeverity? WarnAt
);
