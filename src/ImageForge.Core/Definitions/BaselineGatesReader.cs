using System.Globalization;
using ImageForge.Core.Gates;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Core.Definitions;

/// <summary>
/// Reads a baseline's <c>gates:</c> section (reference: docs/gates.md):
/// <code>
/// gates:
///   vulnerabilities: { max: { critical: 0, high: 0 }, only_fixable: true, on_violation: fail }
///   compliance: { min_score: 75, required_rules: [xccdf_org.ssgproject.content_rule_sshd_disable_root_login] }
///   packages: { denied: [telnetd], required: [openssh-server] }
///   image_size: { artifact: disk-raw, max: 2G }
///   evidence: { required: [compliance-summary, sbom-cyclonedx] }
///   base_image: { not_revoked: true }
///   boot_test: { passed: true }
///   image_tests: { passed: true }
/// </code>
/// Each gate is given at most once; <c>on_violation</c> (<c>fail</c> or <c>warn</c>, default fail) is accepted by
/// every gate.
/// </summary>
internal static class BaselineGatesReader
{
    private const string OnViolation = "on_violation";
    private static readonly IReadOnlyList<string> Violations = ["fail", "warn"];
    private static readonly IReadOnlyList<string> SeverityNames =
    [
        "critical",
        "high",
        "medium",
        "low",
        "negligible",
        "unknown",
    ];

    public static GatePolicy Read(MappingReader baseline)
    {
        var node = baseline.Get("gates");
        if (node is null)
        {
            return GatePolicy.None;
        }
        var map = MappingReader.Open(
            node,
            "gates",
            "a mapping of gates (" + string.Join(", ", GateEvaluator.Kinds) + ")",
            baseline.Problems,
            null
        );
        if (map is null)
        {
            return GatePolicy.None;
        }
        foreach (var entry in map.Entries)
        {
            if (!GateEvaluator.Kinds.Contains(entry.Key.Value, StringComparer.Ordinal))
            {
                map.Problems.Add(
                    entry.Key.Line,
                    map.PathOf(entry.Key.Value),
                    MappingReader.UnknownMessage("gate", entry.Key.Value, GateEvaluator.Kinds)
                );
            }
        }
        return new GatePolicy
        {
            Vulnerabilities = ReadVulnerabilities(map),
            Compliance = ReadCompliance(map),
            Packages = ReadPackages(map),
            ImageSize = ReadImageSize(map),
            Evidence = ReadEvidence(map),
            BaseImage = ReadBaseImage(map),
            BootTest = ReadBootTest(map),
            ImageTests = ReadImageTests(map),
            Anomalies = ReadAnomalies(map),
        };
    }

    private static MappingReader? OpenGate(MappingReader gates, string gate, params string[] keys)
    {
        var node = gates.Get(gate);
        return node is null
            ? null
            : MappingReader.Open(
                node,
                gates.PathOf(gate),
                $"a mapping with {string.Join(", ", keys)}",
                gates.Problems,
                [.. keys, OnViolation]
            );
    }

    private static GateViolation ReadViolation(MappingReader gate)
    {
        var text = gate.OptionalScalar(OnViolation, "fail or warn");
        switch (text)
        {
            case null or "fail":
                return GateViolation.Fail;
            case "warn":
                return GateViolation.Warn;
            default:
                gate.Problems.Add(
                    gate.LineOf(OnViolation),
                    gate.PathOf(OnViolation),
                    MappingReader.UnknownMessage("on_violation", text, Violations)
                );
                return GateViolation.Fail;
        }
    }

    private static VulnerabilityGate? ReadVulnerabilities(MappingReader gates)
    {
        var gate = OpenGate(gates, "vulnerabilities", "max", "only_fixable");
        if (gate is null)
        {
            return null;
        }
        const string MaxExpectation =
            "a mapping of severity (critical, high, medium, low, negligible, unknown) to the most findings allowed, e.g. { critical: 0, high: 0 }";
        var maxNode = gate.Require("max", MaxExpectation);
        var max = new Dictionary<Severity, int>();
        var maxMap = maxNode is null
            ? null
            : MappingReader.Open(maxNode, gate.PathOf("max"), MaxExpectation, gates.Problems, null);
        if (maxMap is not null)
        {
            foreach (var entry in maxMap.Entries)
            {
                var name = entry.Key.Value;
                if (!SeverityNames.Contains(name, StringComparer.Ordinal))
                {
                    gates.Problems.Add(
                        entry.Key.Line,
                        maxMap.PathOf(name),
                        MappingReader.UnknownMessage("severity", name, SeverityNames)
                    );
                    continue;
                }
                if (ReadCount(maxMap, name) is { } count)
                {
                    max[Severities.Parse(name)] = count;
                }
            }
            if (maxMap.Entries.Count == 0)
            {
                gates.Problems.Add(
                    maxMap.Line,
                    gate.PathOf("max"),
                    $"is empty: expected {MaxExpectation}"
                );
            }
        }
        var onlyFixable = gate.OptionalBool("only_fixable") ?? false;
        return new VulnerabilityGate(max, onlyFixable, ReadViolation(gate));
    }

    private static ComplianceGate? ReadCompliance(MappingReader gates)
    {
        var gate = OpenGate(gates, "compliance", "min_score", "required_rules");
        if (gate is null)
        {
            return null;
        }
        const string ScoreExpectation = "a score from 0 to 100, e.g. 75 or 72.5";
        double? minScore = null;
        if (gate.OptionalScalar("min_score", ScoreExpectation) is { } text)
        {
            if (
                double.TryParse(
                    text,
                    NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign,
                    CultureInfo.InvariantCulture,
                    out var score
                ) && score is >= 0 and <= 100
            )
            {
                minScore = score;
            }
            else
            {
                gates.Problems.Add(
                    gate.LineOf("min_score"),
                    gate.PathOf("min_score"),
                    text.StartsWith('-')
                        ? $"threshold below zero ('{text}'); expected {ScoreExpectation}"
                        : $"expected {ScoreExpectation}, found '{text}'"
                );
            }
        }
        var rules = ReadNames(
            gate,
            "required_rules",
            "rule ids",
            "a full XCCDF rule id, e.g. xccdf_org.ssgproject.content_rule_sshd_disable_root_login",
            Patterns.RuleId()
        );
        if (gate.Get("min_score") is null && gate.Get("required_rules") is null)
        {
            gates.Problems.Add(
                gate.Line,
                gates.PathOf("compliance"),
                "the gate checks nothing; give min_score, required_rules or both"
            );
        }
        return new ComplianceGate(minScore, rules, ReadViolation(gate));
    }

    private static PackageGate? ReadPackages(MappingReader gates)
    {
        var gate = OpenGate(gates, "packages", "denied", "required");
        if (gate is null)
        {
            return null;
        }
        const string Item = "a package name, e.g. openssh-server";
        var denied = ReadNames(gate, "denied", "package names", Item, Patterns.RpmPackage());
        var required = ReadNames(gate, "required", "package names", Item, Patterns.RpmPackage());
        if (gate.Get("denied") is null && gate.Get("required") is null)
        {
            gates.Problems.Add(
                gate.Line,
                gates.PathOf("packages"),
                "the gate checks nothing; give denied, required or both"
            );
        }
        foreach (var name in denied.Intersect(required, StringComparer.Ordinal))
        {
            gates.Problems.Add(
                gate.LineOf("required"),
                gate.PathOf("required"),
                $"package '{name}' is both denied and required; keep it in one list"
            );
        }
        return new PackageGate(denied, required, ReadViolation(gate));
    }

    private static ImageSizeGate? ReadImageSize(MappingReader gates)
    {
        var gate = OpenGate(gates, "image_size", "artifact", "max");
        if (gate is null)
        {
            return null;
        }
        var artifact = gate.RequireScalar(
            "artifact",
            "an artifact kind, e.g. disk-raw or rootfs-tar-zst"
        );
        if (artifact is not null && !Patterns.ImageName().IsMatch(artifact))
        {
            gates.Problems.Add(
                gate.LineOf("artifact"),
                gate.PathOf("artifact"),
                $"invalid artifact kind '{artifact}'; expected lowercase letters, digits and '-', e.g. disk-raw"
            );
        }
        const string MaxExpectation =
            "a size in bytes with an optional K, M, G or T suffix (powers of 1024), e.g. 2G or 1536M";
        var text = gate.RequireScalar("max", MaxExpectation);
        long? max = null;
        if (text is not null)
        {
            max = Sizes.Parse(text);
            if (max is null)
            {
                gates.Problems.Add(
                    gate.LineOf("max"),
                    gate.PathOf("max"),
                    text.TrimStart().StartsWith('-')
                        ? $"threshold below zero ('{text}'); expected {MaxExpectation}"
                        : $"expected {MaxExpectation}, found '{text}'"
                );
            }
        }
        var onViolation = ReadViolation(gate);
        return artifact is null || max is null
            ? null
            : new ImageSizeGate(artifact, max.Value, text!.Trim(), onViolation);
    }

    private static EvidenceGate? ReadEvidence(MappingReader gates)
    {
        var gate = OpenGate(gates, "evidence", "required");
        if (gate is null)
        {
            return null;
        }
        if (
            gate.Require(
                "required",
                "a list of evidence kinds, e.g. [compliance-summary, sbom-cyclonedx]"
            )
            is null
        )
        {
            return null;
        }
        var kinds = ReadNames(
            gate,
            "required",
            "evidence kinds",
            "an evidence kind, e.g. compliance-summary",
            Patterns.ImageName()
        );
        foreach (var late in kinds.Where(k => k is GateDecision.Kind or "provenance"))
        {
            gates.Problems.Add(
                gate.LineOf("required"),
                gate.PathOf("required"),
                $"'{late}' is written after the gates are evaluated, so it can never be present; remove it"
            );
        }
        return new EvidenceGate(kinds, ReadViolation(gate));
    }

    // gates.anomalies: { fail_at: critical, warn_at: medium }; on_violation has no meaning here (each level says).
    private static AnomaliesGate? ReadAnomalies(MappingReader gates)
    {
        var node = gates.Get("anomalies");
        if (node is null)
        {
            return null;
        }
        var gate = MappingReader.Open(
            node,
            gates.PathOf("anomalies"),
            "a mapping with fail_at and/or warn_at, e.g. { fail_at: critical, warn_at: medium }",
            gates.Problems,
            ["fail_at", "warn_at"]
        );
        if (gate is null)
        {
            return null;
        }
        var failAt = ReadAnomalySeverity(gate, "fail_at");
        var warnAt = ReadAnomalySeverity(gate, "warn_at");
        if (gate.Get("fail_at") is null && gate.Get("warn_at") is null)
        {
            gates.Problems.Add(
                gate.Line,
                gates.PathOf("anomalies"),
                "expected fail_at or warn_at (a severity: info, low, medium, high or critical), found neither"
            );
        }
        return new AnomaliesGate(failAt, warnAt);
    }

    private static Anomalies.AnomalySeverity? ReadAnomalySeverity(MappingReader gate, string key)
    {
        var text = gate.OptionalScalar(key, "a severity: info, low, medium, high or critical");
        if (text is null)
        {
            return null;
        }
        if (Anomalies.AnomalySeverities.Parse(text) is { } severity)
        {
            return severity;
        }
        gate.Problems.Add(
            gate.LineOf(key),
            gate.PathOf(key),
            MappingReader.UnknownMessage(
                "severity",
                text,
                [
                    .. Enum.GetValues<Anomalies.AnomalySeverity>()
                        .Select(Anomalies.AnomalySeverities.Name),
                ]
            )
        );
        return null;
    }

    private static BaseImageGate? ReadBaseImage(MappingReader gates) =>
        ReadSwitchGate(gates, "base_image", "not_revoked") is { } on ? new BaseImageGate(on) : null;

    private static BootTestGate? ReadBootTest(MappingReader gates) =>
        ReadSwitchGate(gates, "boot_test", "passed") is { } on ? new BootTestGate(on) : null;

    private static ImageTestsGate? ReadImageTests(MappingReader gates) =>
        ReadSwitchGate(gates, "image_tests", "passed") is { } on ? new ImageTestsGate(on) : null;

    // A gate switched on by one required `<key>: true`: its on_violation when on, null when absent or false.
    private static GateViolation? ReadSwitchGate(MappingReader gates, string name, string key)
    {
        var gate = OpenGate(gates, name, key);
        if (gate is null)
        {
            return null;
        }
        var on = gate.OptionalBool(key);
        if (gate.Get(key) is null)
        {
            gates.Problems.Add(
                gate.Line,
                gate.PathOf(key),
                $"missing required field '{key}': expected true (or remove the gate)"
            );
        }
        var onViolation = ReadViolation(gate);
        return on == true ? onViolation : null;
    }

    private static int? ReadCount(MappingReader map, string key)
    {
        const string Expectation = "a whole number of findings, 0 or more";
        var text = map.RequireScalar(key, Expectation);
        if (text is null)
        {
            return null;
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return count;
        }
        map.Problems.Add(
            map.LineOf(key),
            map.PathOf(key),
            int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
                ? $"threshold below zero ({text}); expected {Expectation}"
                : $"expected {Expectation}, found '{text}'"
        );
        return null;
    }

    private static List<string> ReadNames(
        MappingReader map,
        string key,
        string itemsDescription,
        string itemExpectation,
        System.Text.RegularExpressions.Regex pattern
    )
    {
        var node = map.Get(key);
        if (node is null)
        {
            return [];
        }
        var items = Schema.ScalarList(
            node,
            map.PathOf(key),
            itemsDescription,
            itemExpectation,
            map.Problems
        );
        if (items is null)
        {
            return [];
        }
        Schema.ReportRepeats(items, itemsDescription.TrimEnd('s'), map.Problems);
        var result = new List<string>();
        foreach (var (value, line, path) in items)
        {
            if (!pattern.IsMatch(value))
            {
                map.Problems.Add(
                    line,
                    path,
                    $"invalid value '{value}'; expected {itemExpectation}"
                );
            }
            else if (!result.Contains(value))
            {
                result.Add(value);
            }
        }
        return result;
    }
}
