using System.Globalization;
using ImageForge.Core.Compliance;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Core.Gates;

/// <summary>One policy test case run: what it expected, what the gates decided, and what differs.</summary>
public sealed record PolicyCaseResult(
    string Baseline,
    string Case,
    string File,
    string? Description,
    GateOutcome Expected,
    GateDecision Decision,
    IReadOnlyList<string> MissingReasons,
    IReadOnlyList<string> UnexpectedReasons
)
{
    /// <summary>True when the decision and the non-passing reasons are as expected.</summary>
    public bool Passed =>
        Expected == Decision.Decision && MissingReasons.Count == 0 && UnexpectedReasons.Count == 0;
}

/// <summary>Every case of every baseline given, the malformed case files, and the baselines without cases.</summary>
public sealed record PolicyTestReport(
    IReadOnlyList<PolicyCaseResult> Cases,
    IReadOnlyList<InputProblem> Problems,
    IReadOnlyList<Baseline> Untested
);

/// <summary>
/// Policy tests (<c>imageforge policy test</c>): the cases in <c>tests/&lt;baseline&gt;/*.yaml</c> beside each baseline
/// file, each an evidence set in and the expected decision and non-passing reasons out (reference: docs/gates.md).
/// </summary>
public static class PolicyTests
{
    private const long MaxFileBytes = 1024 * 1024;

    private static readonly IReadOnlyList<string> CaseKeys = ["description", "evidence", "expect"];
    private static readonly IReadOnlyList<string> EvidenceKeys =
    [
        "compliance",
        "compliance_summary",
        "vulnerabilities",
        "vulnerability_findings",
        "packages",
        "artifacts",
        "evidence_kinds",
        "base_image",
        "revoked",
        "boot_test",
        "image_tests",
    ];
    private static readonly IReadOnlyList<string> ComplianceKeys = ["score", "rules"];
    private static readonly IReadOnlyList<string> BootTestKeys = ["passed", "seconds", "summary"];
    private static readonly IReadOnlyList<string> ImageTestKeys = ["passed", "summary"];
    private static readonly IReadOnlyList<string> VulnerabilityKeys =
    [
        "findings",
        "failed_sources",
    ];
    private static readonly IReadOnlyList<string> FindingKeys =
    [
        "advisory",
        "package",
        "severity",
        "fixed_version",
        "suppressed",
    ];
    private static readonly IReadOnlyList<string> ExpectKeys = ["decision", "reasons"];
    private static readonly IReadOnlyList<string> ReasonKeys = ["gate", "rule", "found", "outcome"];
    private static readonly IReadOnlyList<string> Outcomes = ["pass", "warn", "fail"];
    private static readonly IReadOnlyList<string> NonPassing = ["warn", "fail"];
    private static readonly IReadOnlyList<string> RuleOutcomeNames = Enum.GetValues<RuleOutcome>()
        .Select(o => o.ToString().ToLowerInvariant())
        .ToList();

    /// <summary>The directory holding the cases of <paramref name="baseline"/>.</summary>
    public static string CaseDirectory(Baseline baseline)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        return Path.Combine(
            Path.GetDirectoryName(baseline.SourceFile) ?? ".",
            "tests",
            baseline.Name
        );
    }

    /// <summary>Runs every case of every baseline; <paramref name="at"/> is the evaluation time written into decisions.</summary>
    public static PolicyTestReport Run(IEnumerable<Baseline> baselines, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(baselines);
        var results = new List<PolicyCaseResult>();
        var problems = new List<InputProblem>();
        var untested = new List<Baseline>();
        foreach (var baseline in baselines)
        {
            var directory = CaseDirectory(baseline);
            var files = Directory.Exists(directory)
                ? Directory
                    .EnumerateFiles(directory)
                    .Where(f =>
                        f.EndsWith(".yaml", StringComparison.Ordinal)
                        || f.EndsWith(".yml", StringComparison.Ordinal)
                    )
                    .Order(StringComparer.Ordinal)
                    .ToList()
                : [];
            if (files.Count == 0)
            {
                untested.Add(baseline);
                continue;
            }
            foreach (var file in files)
            {
                var sink = new ProblemSink(file, problems);
                var testCase = ReadCase(file, sink);
                if (testCase is null || sink.Count > 0)
                {
                    continue;
                }
                var decision = GateEvaluator.Evaluate(
                    baseline.Name,
                    baseline.Gates,
                    testCase.Evidence,
                    at
                );
                results.Add(Compare(baseline, file, testCase, decision));
            }
        }
        return new PolicyTestReport(results, problems, untested);
    }

    private sealed record ExpectedReason(
        string Gate,
        string? Rule,
        string? Found,
        GateOutcome Outcome
    )
    {
        public bool Matches(GateReason r) =>
            r.Gate == Gate
            && r.Outcome == Outcome
            && (Rule is null || r.Rule == Rule)
            && (Found is null || r.Found.Contains(Found, StringComparison.Ordinal));

        public override string ToString() =>
            $"{GateDecision.Name(Outcome)} {Gate}"
            + (Rule is null ? "" : $": {Rule}")
            + (Found is null ? "" : $" (found containing '{Found}')");
    }

    private sealed record PolicyCase(
        string? Description,
        GateEvidence Evidence,
        GateOutcome Decision,
        IReadOnlyList<ExpectedReason>? Reasons
    );

    private static PolicyCaseResult Compare(
        Baseline baseline,
        string file,
        PolicyCase testCase,
        GateDecision decision
    )
    {
        var missing = new List<string>();
        var unexpected = new List<string>();
        if (testCase.Reasons is { } expected)
        {
            var actual = decision.Violations.ToList();
            foreach (var e in expected)
            {
                var match = actual.FirstOrDefault(e.Matches);
                if (match is null)
                {
                    missing.Add(e.ToString());
                }
                else
                {
                    actual.Remove(match);
                }
            }
            unexpected.AddRange(
                actual.Where(a => !expected.Any(e => e.Matches(a))).Select(a => a.ToString())
            );
        }
        return new PolicyCaseResult(
            baseline.Name,
            Path.GetFileNameWithoutExtension(file),
            file,
            testCase.Description,
            testCase.Decision,
            decision,
            missing,
            unexpected
        );
    }

    private static PolicyCase? ReadCase(string file, ProblemSink problems)
    {
        var read = TextInput.ReadUtf8(
            file,
            MaxFileBytes,
            "a test case is a few kilobytes (put big documents in files)"
        );
        if (read.Text is not { } text)
        {
            problems.Add(read.Line, YamlTreeReader.DocumentField, read.Problem!);
            return null;
        }
        var root = YamlTreeReader.Read(text, problems);
        if (root is null)
        {
            if (problems.Count == 0)
            {
                problems.Add(
                    1,
                    YamlTreeReader.DocumentField,
                    "the file is empty; expected a test case with evidence and expect"
                );
            }
            return null;
        }
        var map = MappingReader.Open(
            root,
            "",
            "a test case mapping (description, evidence, expect)",
            problems,
            CaseKeys
        );
        if (map is null)
        {
            return null;
        }
        var description = map.OptionalScalar("description", "what the case shows, in a sentence");
        var evidenceNode = map.Require(
            "evidence",
            "a mapping of evidence facts (see docs/gates.md)"
        );
        var evidence = evidenceNode is null
            ? null
            : ReadEvidence(evidenceNode, Path.GetDirectoryName(file) ?? ".", problems);
        var expectNode = map.Require("expect", "a mapping with decision and reasons");
        GateOutcome? decision = null;
        IReadOnlyList<ExpectedReason>? reasons = null;
        if (
            expectNode is not null
            && MappingReader.Open(
                expectNode,
                "expect",
                "a mapping with decision and reasons",
                problems,
                ExpectKeys
            )
                is { } expect
        )
        {
            decision = ReadOutcome(expect, "decision", Outcomes);
            reasons = ReadReasons(expect);
        }
        return evidence is null || decision is null
            ? null
            : new PolicyCase(description, evidence, decision.Value, reasons);
    }

    private static GateOutcome? ReadOutcome(
        MappingReader map,
        string key,
        IReadOnlyList<string> allowed
    )
    {
        var text = map.RequireScalar(key, string.Join(" or ", allowed));
        if (text is null)
        {
            return null;
        }
        if (!allowed.Contains(text, StringComparer.Ordinal))
        {
            map.Problems.Add(
                map.LineOf(key),
                map.PathOf(key),
                MappingReader.UnknownMessage(key, text, allowed)
            );
            return null;
        }
        return Enum.Parse<GateOutcome>(text, ignoreCase: true);
    }

    private static List<ExpectedReason>? ReadReasons(MappingReader expect)
    {
        var node = expect.Get("reasons");
        if (node is null)
        {
            return null;
        }
        var items = Schema.List(
            node,
            expect.PathOf("reasons"),
            "expected reasons (mappings with gate, rule, found, outcome)",
            expect.Problems
        );
        if (items is null)
        {
            return null;
        }
        var result = new List<ExpectedReason>();
        foreach (var (item, path) in items)
        {
            var r = MappingReader.Open(
                item,
                path,
                "a reason mapping with gate, outcome and optionally rule and found",
                expect.Problems,
                ReasonKeys
            );
            if (r is null)
            {
                continue;
            }
            var gate = r.RequireScalar(
                "gate",
                "a gate kind: " + string.Join(", ", GateEvaluator.Kinds)
            );
            if (gate is not null && !GateEvaluator.Kinds.Contains(gate, StringComparer.Ordinal))
            {
                r.Problems.Add(
                    r.LineOf("gate"),
                    r.PathOf("gate"),
                    MappingReader.UnknownMessage("gate", gate, GateEvaluator.Kinds)
                );
                gate = null;
            }
            var rule = r.OptionalScalar(
                "rule",
                "the rule as the decision names it, e.g. max critical findings"
            );
            var found = r.OptionalScalar("found", "text the reason's found value contains");
            var outcome = ReadOutcome(r, "outcome", NonPassing);
            if (gate is not null && outcome is not null)
            {
                result.Add(new ExpectedReason(gate, rule, found, outcome.Value));
            }
        }
        return result;
    }

    private static GateEvidence? ReadEvidence(YNode node, string directory, ProblemSink problems)
    {
        var map = MappingReader.Open(
            node,
            "evidence",
            "a mapping of evidence facts (see docs/gates.md)",
            problems,
            EvidenceKeys
        );
        if (map is null)
        {
            return null;
        }
        var before = problems.Count;
        var kinds = new HashSet<string>(StringComparer.Ordinal);

        ComplianceFacts? compliance = null;
        if (
            map.OptionalScalar(
                "compliance_summary",
                "a compliance-summary.json file, relative to the case"
            ) is
            { } summaryFile
        )
        {
            var path = Path.Combine(directory, summaryFile);
            try
            {
                var summary = ComplianceSummary.Read(path);
                compliance = new ComplianceFacts(summary.After.Score, null);
                kinds.Add(ComplianceCollector.SummaryKind);
            }
            catch (InvalidInputException e)
            {
                problems.Add(
                    map.LineOf("compliance_summary"),
                    map.PathOf("compliance_summary"),
                    e.Message
                );
            }
        }
        if (map.Get("compliance") is { } complianceNode)
        {
            compliance = ReadCompliance(complianceNode, map, compliance, kinds);
        }

        List<GateFinding>? findings = null;
        var failedSources = new List<string>();
        if (
            map.OptionalScalar(
                "vulnerability_findings",
                "a vulnerabilities.json file, relative to the case"
            ) is
            { } findingsFile
        )
        {
            var path = Path.Combine(directory, findingsFile);
            try
            {
                var document = FindingsDocument.Read(path);
                findings = [.. GateEvidence.FromDocument(document)];
                failedSources.AddRange(
                    document
                        .Sources.Where(s => s.Status == "failed")
                        .Select(s => $"{s.Name}: {s.Detail}")
                );
                kinds.Add(EvidenceFiles.VulnerabilityFindings);
            }
            catch (InvalidInputException e)
            {
                problems.Add(
                    map.LineOf("vulnerability_findings"),
                    map.PathOf("vulnerability_findings"),
                    e.Message
                );
            }
        }
        if (map.Get("vulnerabilities") is { } vulnerabilityNode)
        {
            findings = ReadFindings(vulnerabilityNode, map, failedSources);
            kinds.Add(EvidenceFiles.VulnerabilityFindings);
        }

        Dictionary<string, string>? packages = null;
        if (map.Get("packages") is { } packageNode)
        {
            packages = ReadPackages(packageNode, map);
            kinds.Add(EvidenceFiles.PackageInventory);
        }

        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        if (
            map.Get("artifacts") is { } artifactNode
            && MappingReader.Open(
                artifactNode,
                "evidence.artifacts",
                "a mapping of artifact kind to size, e.g. { disk-raw: 2G }",
                problems,
                null
            )
                is { } artifacts
        )
        {
            foreach (var entry in artifacts.Entries)
            {
                var text = artifacts.RequireScalar(
                    entry.Key.Value,
                    "a size such as 1G or 1073741824"
                );
                if (text is null)
                {
                    continue;
                }
                if (Sizes.Parse(text) is { } bytes)
                {
                    sizes[entry.Key.Value] = bytes;
                }
                else
                {
                    problems.Add(
                        entry.Value.Line,
                        artifacts.PathOf(entry.Key.Value),
                        $"expected a size such as 1G, 1536M or 1073741824, found '{text}'"
                    );
                }
            }
        }

        BootTestFacts? bootTest = null;
        if (map.Get("boot_test") is { } bootNode)
        {
            bootTest = ReadBootTest(bootNode, map);
            kinds.Add(BootTestEvidence.Kind);
        }

        ImageTestFacts? imageTests = null;
        if (map.Get("image_tests") is { } testsNode)
        {
            imageTests = ReadImageTests(testsNode, map);
            kinds.Add(ImageTestsEvidence.Kind);
        }

        if (
            map.Get("evidence_kinds") is { } kindsNode
            && Schema.ScalarList(
                kindsNode,
                "evidence.evidence_kinds",
                "evidence kinds",
                "an evidence kind, e.g. sbom-cyclonedx",
                problems
            )
                is { } listed
        )
        {
            kinds = listed.Select(k => k.Value).ToHashSet(StringComparer.Ordinal);
        }

        var revoked = false;
        if (map.OptionalScalar("revoked", "true or false") is { } revokedText)
        {
            if (!bool.TryParse(revokedText, out revoked))
            {
                problems.Add(
                    map.LineOf("revoked"),
                    map.PathOf("revoked"),
                    $"expected true or false, found '{revokedText}'"
                );
            }
        }

        if (problems.Count > before)
        {
            return null;
        }
        return new GateEvidence
        {
            Compliance = compliance,
            Findings = findings,
            FailedSources = failedSources,
            Packages = packages,
            BootTest = bootTest,
            ImageTests = imageTests,
            ArtifactSizes = sizes,
            EvidenceKinds = kinds,
            BaseImage =
                map.OptionalScalar("base_image", "the base image, e.g. bullseye") ?? "bullseye",
            Revocation = revoked
                ? new RevocationState(true, "revoked (as the test case says)")
                : new RevocationState(false, NoRevocationData.Detail),
        };
    }

    private static BootTestFacts? ReadBootTest(YNode node, MappingReader evidence)
    {
        var map = MappingReader.Open(
            node,
            "evidence.boot_test",
            "a mapping with passed (true or false), seconds and summary",
            evidence.Problems,
            BootTestKeys
        );
        if (map is null)
        {
            return null;
        }
        var passedText = map.RequireScalar("passed", "true or false");
        if (passedText is null)
        {
            return null;
        }
        if (!bool.TryParse(passedText, out var passed))
        {
            evidence.Problems.Add(
                map.LineOf("passed"),
                map.PathOf("passed"),
                $"expected true or false, found '{passedText}'"
            );
            return null;
        }
        double? seconds = null;
        if (map.OptionalScalar("seconds", "seconds to the marker, e.g. 41.5") is { } secondsText)
        {
            if (
                double.TryParse(
                    secondsText,
                    NumberStyles.AllowDecimalPoint,
                    CultureInfo.InvariantCulture,
                    out var value
                )
            )
            {
                seconds = value;
            }
            else
            {
                evidence.Problems.Add(
                    map.LineOf("seconds"),
                    map.PathOf("seconds"),
                    $"expected a number of seconds such as 41.5, found '{secondsText}'"
                );
            }
        }
        var summary =
            map.OptionalScalar("summary", "what the boot test saw, one line")
            ?? (passed ? "boot test passed" : "boot test failed");
        return new BootTestFacts(passed, summary, seconds);
    }

    private static ImageTestFacts? ReadImageTests(YNode node, MappingReader evidence)
    {
        var map = MappingReader.Open(
            node,
            "evidence.image_tests",
            "a mapping with passed (true or false) and summary",
            evidence.Problems,
            ImageTestKeys
        );
        var passedText = map?.RequireScalar("passed", "true or false");
        if (map is null || passedText is null)
        {
            return null;
        }
        if (!bool.TryParse(passedText, out var passed))
        {
            evidence.Problems.Add(
                map.LineOf("passed"),
                map.PathOf("passed"),
                $"expected true or false, found '{passedText}'"
            );
            return null;
        }
        var summary =
            map.OptionalScalar("summary", "what the image tests found, one line")
            ?? (passed ? "image tests passed" : "image tests failed");
        return new ImageTestFacts(passed, summary);
    }

    private static ComplianceFacts? ReadCompliance(
        YNode node,
        MappingReader evidence,
        ComplianceFacts? fromFile,
        HashSet<string> kinds
    )
    {
        var map = MappingReader.Open(
            node,
            "evidence.compliance",
            "a mapping with score and rules",
            evidence.Problems,
            ComplianceKeys
        );
        if (map is null)
        {
            return fromFile;
        }
        var score = fromFile?.Score;
        if (map.OptionalScalar("score", "the score after hardening, e.g. 79.1, or n/a") is { } text)
        {
            if (text == "n/a")
            {
                score = null;
            }
            else if (
                double.TryParse(
                    text,
                    NumberStyles.AllowDecimalPoint,
                    CultureInfo.InvariantCulture,
                    out var value
                )
                && value <= 100
            )
            {
                score = value;
            }
            else
            {
                evidence.Problems.Add(
                    map.LineOf("score"),
                    map.PathOf("score"),
                    $"expected a score from 0 to 100 or n/a, found '{text}'"
                );
            }
        }
        kinds.Add(ComplianceCollector.SummaryKind);
        Dictionary<string, RuleOutcome>? rules = null;
        if (
            map.Get("rules") is { } rulesNode
            && MappingReader.Open(
                rulesNode,
                map.PathOf("rules"),
                "a mapping of rule id to outcome (pass, fail, waived...)",
                evidence.Problems,
                null
            )
                is { } ruleMap
        )
        {
            rules = new Dictionary<string, RuleOutcome>(StringComparer.Ordinal);
            kinds.Add(ComplianceCollector.AfterResultsKind);
            foreach (var entry in ruleMap.Entries)
            {
                var outcome = ruleMap.RequireScalar(
                    entry.Key.Value,
                    "a rule outcome: " + string.Join(", ", RuleOutcomeNames)
                );
                if (outcome is null)
                {
                    continue;
                }
                if (!RuleOutcomeNames.Contains(outcome, StringComparer.Ordinal))
                {
                    evidence.Problems.Add(
                        entry.Value.Line,
                        ruleMap.PathOf(entry.Key.Value),
                        MappingReader.UnknownMessage("rule outcome", outcome, RuleOutcomeNames)
                    );
                    continue;
                }
                rules[entry.Key.Value] = Enum.Parse<RuleOutcome>(outcome, ignoreCase: true);
            }
        }
        return new ComplianceFacts(score, rules);
    }

    private static List<GateFinding>? ReadFindings(
        YNode node,
        MappingReader evidence,
        List<string> failedSources
    )
    {
        var map = MappingReader.Open(
            node,
            "evidence.vulnerabilities",
            "a mapping with findings and failed_sources",
            evidence.Problems,
            VulnerabilityKeys
        );
        if (map is null)
        {
            return null;
        }
        if (
            map.Get("failed_sources") is { } failedNode
            && Schema.ScalarList(
                failedNode,
                map.PathOf("failed_sources"),
                "failed sources",
                "a source and what went wrong, e.g. 'osv: database missing'",
                evidence.Problems
            )
                is { } failed
        )
        {
            failedSources.AddRange(failed.Select(f => f.Value));
        }
        var result = new List<GateFinding>();
        if (map.Get("findings") is not { } findingsNode)
        {
            return result;
        }
        var items = Schema.List(
            findingsNode,
            map.PathOf("findings"),
            "findings (mappings with advisory, package, severity, fixed_version, suppressed)",
            evidence.Problems
        );
        foreach (var (item, path) in items ?? [])
        {
            var f = MappingReader.Open(
                item,
                path,
                "a finding mapping with advisory, package, severity",
                evidence.Problems,
                FindingKeys
            );
            if (f is null)
            {
                continue;
            }
            var advisory = f.RequireScalar("advisory", "an advisory id, e.g. CVE-2024-1234");
            var package = f.RequireScalar("package", "a package name, e.g. openssl");
            var severityText = f.RequireScalar(
                "severity",
                "critical, high, medium, low, negligible or unknown"
            );
            var severity = severityText is null ? (Severity?)null : Severities.Parse(severityText);
            if (
                severityText is not null
                && severity == Severity.Unknown
                && severityText != "unknown"
            )
            {
                evidence.Problems.Add(
                    f.LineOf("severity"),
                    f.PathOf("severity"),
                    MappingReader.UnknownMessage(
                        "severity",
                        severityText,
                        ["critical", "high", "medium", "low", "negligible", "unknown"]
                    )
                );
                severity = null;
            }
            var fixedVersion = f.OptionalScalar("fixed_version", "the first fixed version");
            var suppressedText = f.OptionalScalar("suppressed", "true or false");
            var suppressed = false;
            if (suppressedText is not null && !bool.TryParse(suppressedText, out suppressed))
            {
                evidence.Problems.Add(
                    f.LineOf("suppressed"),
                    f.PathOf("suppressed"),
                    $"expected true or false, found '{suppressedText}'"
                );
            }
            if (advisory is not null && package is not null && severity is not null)
            {
                result.Add(
                    new GateFinding(advisory, package, severity.Value, fixedVersion, suppressed)
                );
            }
        }
        return result;
    }

    private static Dictionary<string, string>? ReadPackages(YNode node, MappingReader evidence)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is YMapping)
        {
            var map = MappingReader.Open(
                node,
                "evidence.packages",
                "package names to versions",
                evidence.Problems,
                null
            );
            foreach (var entry in map?.Entries ?? [])
            {
                result[entry.Key.Value] = map!.OptionalScalar(entry.Key.Value, "a version") ?? "?";
            }
            return result;
        }
        var items = Schema.ScalarList(
            node,
            "evidence.packages",
            "installed package names (or a mapping of name to version)",
            "a package name",
            evidence.Problems
        );
        foreach (var (value, _, _) in items ?? [])
        {
            result[value] = "?";
        }
        return result;
    }
}
