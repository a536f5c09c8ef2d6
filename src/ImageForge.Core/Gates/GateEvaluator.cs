using System.Globalization;
using ImageForge.Core.Anomalies;
using ImageForge.Core.Compliance;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Core.Gates;

/// <summary>
/// Evaluates a baseline's gates against the facts of one version. Every rule checked becomes a reason; a gate whose
/// evidence is missing fails ("no &lt;kind&gt; evidence") whatever its <c>on_violation</c>, because nothing was proven.
/// </summary>
public static class GateEvaluator
{
    /// <summary>Gate kinds, in the order they are evaluated and written in a baseline.</summary>
    public static IReadOnlyList<string> Kinds { get; } =
    [
        "vulnerabilities",
        "compliance",
        "packages",
        "image_size",
        "evidence",
        "base_image",
        "boot_test",
        "image_tests",
        "anomalies",
    ];

    /// <summary>The decision of <paramref name="policy"/> over <paramref name="evidence"/>.</summary>
    public static GateDecision Evaluate(
        string baseline,
        GatePolicy policy,
        GateEvidence evidence,
        DateTimeOffset at
    )
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(evidence);
        var reasons = new List<GateReason>();
        if (policy.Vulnerabilities is { } v)
        {
            Vulnerabilities(v, evidence, reasons);
        }
        if (policy.Compliance is { } c)
        {
            ComplianceRules(c, evidence, reasons);
        }
        if (policy.Packages is { } p)
        {
            Packages(p, evidence, reasons);
        }
        if (policy.ImageSize is { } s)
        {
            ImageSize(s, evidence, reasons);
        }
        if (policy.Evidence is { } e)
        {
            foreach (var kind in e.Required)
            {
                var present = evidence.EvidenceKinds.Contains(kind);
                reasons.Add(
                    Reason(
                        "evidence",
                        $"evidence {kind}",
                        "present",
                        present ? "present" : Missing(evidence, kind),
                        present,
                        e.OnViolation
                    )
                );
            }
        }
        if (policy.BaseImage is { } b)
        {
            reasons.Add(
                Reason(
                    "base_image",
                    $"base image {evidence.BaseImage} not revoked",
                    "not revoked",
                    evidence.Revocation.Detail,
                    !evidence.Revocation.Revoked,
                    b.OnViolation
                )
            );
        }
        if (policy.BootTest is { } t)
        {
            reasons.Add(
                evidence.BootTest is { } boot
                    ? Reason(
                        "boot_test",
                        "boot test passed",
                        "passed",
                        BootTestEvidence.Describe(boot),
                        boot.Passed,
                        t.OnViolation
                    )
                    : MissingEvidence(
                        "boot_test",
                        "boot test passed",
                        Missing(evidence, BootTestEvidence.Kind)
                    )
            );
        }
        if (policy.ImageTests is { } i)
        {
            reasons.Add(
                evidence.ImageTests is { } tests
                    ? Reason(
                        "image_tests",
                        "image tests passed",
                        "passed",
                        tests.Summary,
                        tests.Passed,
                        i.OnViolation
                    )
                    : MissingEvidence(
                        "image_tests",
                        "image tests passed",
                        Missing(evidence, ImageTestsEvidence.Kind)
                    )
            );
        }
        if (policy.Anomalies is { } a)
        {
            AnomaliesGateReasons(a, evidence, reasons);
        }
        return GateDecision.Of(baseline, at, reasons);
    }

    private static void Vulnerabilities(
        VulnerabilityGate gate,
        GateEvidence evidence,
        List<GateReason> reasons
    )
    {
        const string Gate = "vulnerabilities";
        if (evidence.Findings is null)
        {
            reasons.Add(
                MissingEvidence(
                    Gate,
                    "findings",
                    Missing(evidence, EvidenceFiles.VulnerabilityFindings)
                )
            );
            return;
        }
        foreach (var source in evidence.FailedSources)
        {
            reasons.Add(
                Reason(
                    Gate,
                    "every source scanned",
                    "no failed source",
                    $"failed {source}",
                    false,
                    gate.OnViolation
                )
            );
        }
        foreach (var (severity, max) in gate.Max.OrderByDescending(m => m.Key))
        {
            var name = Severities.Name(severity);
            var ofSeverity = evidence.Findings.Where(f => f.Severity == severity).ToList();
            var counted = ofSeverity
                .Where(f => !f.Suppressed && (!gate.OnlyFixable || f.FixedVersion is not null))
                .ToList();
            var found = counted.Count.ToString(CultureInfo.InvariantCulture);
            if (counted.Count > 0)
            {
                found +=
                    " ("
                    + string.Join(", ", counted.Take(5).Select(f => $"{f.Advisory} in {f.Package}"))
                    + (counted.Count > 5 ? $", and {counted.Count - 5} more" : "")
                    + ")";
            }
            var suppressed = ofSeverity.Count(f => f.Suppressed);
            var unfixed = gate.OnlyFixable
                ? ofSeverity.Count(f => !f.Suppressed && f.FixedVersion is null)
                : 0;
            var notCounted = new List<string>();
            if (suppressed > 0)
            {
                notCounted.Add($"{suppressed} suppressed");
            }
            if (unfixed > 0)
            {
                notCounted.Add($"{unfixed} without a fix");
            }
            if (notCounted.Count > 0)
            {
                found += $"; not counted: {string.Join(", ", notCounted)}";
            }
            reasons.Add(
                Reason(
                    Gate,
                    gate.OnlyFixable ? $"max {name} findings with a fix" : $"max {name} findings",
                    $"at most {max}",
                    found,
                    counted.Count <= max,
                    gate.OnViolation
                )
            );
        }
    }

    private static void ComplianceRules(
        ComplianceGate gate,
        GateEvidence evidence,
        List<GateReason> reasons
    )
    {
        const string Gate = "compliance";
        if (evidence.Compliance is null)
        {
            reasons.Add(
                MissingEvidence(
                    Gate,
                    "compliance after hardening",
                    Missing(evidence, ComplianceCollector.SummaryKind)
                )
            );
            return;
        }
        if (gate.MinScore is { } min)
        {
            var score = evidence.Compliance.Score;
            reasons.Add(
                Reason(
                    Gate,
                    "min score after hardening",
                    $"at least {ComplianceSummary.FormatScore(min)}",
                    score is null
                        ? "no score (no rule was decided)"
                        : ComplianceSummary.FormatScore(score),
                    score >= min,
                    gate.OnViolation
                )
            );
        }
        foreach (var rule in gate.RequiredRules)
        {
            if (evidence.Compliance.Rules is null)
            {
                reasons.Add(
                    MissingEvidence(
                        Gate,
                        $"required rule {rule}",
                        Missing(evidence, ComplianceCollector.AfterResultsKind)
                    )
                );
                continue;
            }
            var found = evidence.Compliance.Rules.TryGetValue(rule, out var outcome)
                ? OutcomeName(outcome)
                : "not evaluated (not in the scan results)";
            reasons.Add(
                Reason(
                    Gate,
                    $"required rule {rule}",
                    "pass",
                    found,
                    outcome == RuleOutcome.Pass && found == "pass",
                    gate.OnViolation
                )
            );
        }
    }

    private static void Packages(PackageGate gate, GateEvidence evidence, List<GateReason> reasons)
    {
        const string Gate = "packages";
        if (evidence.Packages is null)
        {
            reasons.Add(
                MissingEvidence(
                    Gate,
                    "installed packages",
                    Missing(evidence, EvidenceFiles.PackageInventory)
                )
            );
            return;
        }
        foreach (var name in gate.Denied)
        {
            var installed = evidence.Packages.TryGetValue(name, out var version);
            reasons.Add(
                Reason(
                    Gate,
                    $"denied package {name}",
                    "not installed",
                    installed ? $"installed ({version})" : "not installed",
                    !installed,
                    gate.OnViolation
                )
            );
        }
        foreach (var name in gate.Required)
        {
            var installed = evidence.Packages.TryGetValue(name, out var version);
            reasons.Add(
                Reason(
                    Gate,
                    $"required package {name}",
                    "installed",
                    installed ? $"installed ({version})" : "not installed",
                    installed,
                    gate.OnViolation
                )
            );
        }
    }

    private static void ImageSize(
        ImageSizeGate gate,
        GateEvidence evidence,
        List<GateReason> reasons
    )
    {
        var rule = $"max size of {gate.Artifact}";
        if (!evidence.ArtifactSizes.TryGetValue(gate.Artifact, out var size))
        {
            reasons.Add(
                MissingEvidence("image_size", rule, $"no {gate.Artifact} artifact evidence")
            );
            return;
        }
        reasons.Add(
            Reason(
                "image_size",
                rule,
                $"at most {gate.MaxText} ({gate.MaxBytes} bytes)",
                $"{Sizes.Format(size)} ({size} bytes)",
                size <= gate.MaxBytes,
                gate.OnViolation
            )
        );
    }

    private static string OutcomeName(RuleOutcome outcome) => outcome.ToString().ToLowerInvariant();

    private static void AnomaliesGateReasons(
        AnomaliesGate gate,
        GateEvidence evidence,
        List<GateReason> reasons
    )
    {
        foreach (
            var (at, violation) in new[]
            {
                (gate.FailAt, GateViolation.Fail),
                (gate.WarnAt, GateViolation.Warn),
            }
        )
        {
            if (at is not { } severity)
            {
                continue;
            }
            var rule = $"no raised anomaly at or above {AnomalySeverities.Name(severity)}";
            if (evidence.Anomalies is not { } anomalies)
            {
                reasons.Add(
                    MissingEvidence("anomalies", rule, Missing(evidence, AnomalyReport.Kind))
                );
                continue;
            }
            var over = anomalies.Where(x => x.Raised && x.Severity >= severity).ToList();
            reasons.Add(
                Reason(
                    "anomalies",
                    rule,
                    "none",
                    over.Count == 0
                        ? "none"
                        : string.Join(
                            "; ",
                            over.Select(x =>
                                $"{x.Id} ({AnomalySeverities.Name(x.Severity)}): {x.Explanation}"
                            )
                        ),
                    over.Count == 0,
                    violation
                )
            );
        }
    }

    private static string Missing(GateEvidence evidence, string kind) =>
        evidence.Unreadable.TryGetValue(kind, out var why)
            ? $"{kind} evidence {why}"
            : $"no {kind} evidence";

    private static GateReason MissingEvidence(string gate, string rule, string found) =>
        new(gate, rule, "evidence to check", found, GateOutcome.Fail);

    private static GateReason Reason(
        string gate,
        string rule,
        string expected,
        string found,
        bool met,
        GateViolation onViolation
    ) =>
        new(
            gate,
            rule,
            expected,
            found,
            met ? GateOutcome.Pass
                : onViolation == GateViolation.Warn ? GateOutcome.Warn
                : GateOutcome.Fail
        );
}

/// <summary>Byte sizes written the way disk sizes are (binary units): 512, 300K, 1536M, 2G, 1T.</summary>
internal static class Sizes
{
    /// <summary>Parses a whole number of bytes with an optional K, M, G or T suffix (powers of 1024); null when malformed.</summary>
    public static long? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        var multiplier = 1L;
        if (t.Length > 0 && char.IsLetter(t[^1]))
        {
            multiplier = char.ToUpperInvariant(t[^1]) switch
            {
                'K' => 1L << 10,
                'M' => 1L << 20,
                'G' => 1L << 30,
                'T' => 1L << 40,
                _ => 0,
            };
            t = t[..^1];
        }
        if (
            multiplier == 0
            || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            || n > long.MaxValue / multiplier
        )
        {
            return null;
        }
        return n * multiplier;
    }

    /// <summary>"1.0 GiB", "512 MiB", "300 bytes".</summary>
    public static string Format(long bytes)
    {
        string[] units = ["KiB", "MiB", "GiB", "TiB"];
        if (bytes < 1024)
        {
            return $"{bytes} bytes";
        }
        double value = bytes;
        var unit = -1;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
