using System.Globalization;
using System.Xml;

namespace ImageForge.Core.Compliance;

/// <summary>The outcome of one rule in one scan (XCCDF 1.2 result values, plus <see cref="Waived"/>).</summary>
public enum RuleOutcome
{
    /// <summary>The target satisfies the rule (XCCDF <c>pass</c>, and <c>fixed</c>).</summary>
    Pass,

    /// <summary>The target does not satisfy the rule and no waiver in force covers it.</summary>
    Fail,

    /// <summary>A failure accepted by a waiver of the baseline that is in force (not expired).</summary>
    Waived,

    /// <summary>The checking engine could not complete the check.</summary>
    Error,

    /// <summary>The engine could not tell (e.g. a probe that has no offline mode).</summary>
    Unknown,

    /// <summary>The rule does not apply to this target (its platform does not match).</summary>
    NotApplicable,

    /// <summary>The rule has no automated check (<c>notchecked</c>).</summary>
    NotChecked,

    /// <summary>The rule is informational only.</summary>
    Informational,

    /// <summary>The profile (or its tailoring) does not select the rule.</summary>
    NotSelected,
}

/// <summary>One rule's result in a scan, with the title and severity the benchmark gives it.</summary>
public sealed record RuleResult(string RuleId, string Title, string Severity, RuleOutcome Outcome);

/// <summary>What one <c>oscap xccdf eval --results</c> file says.</summary>
public sealed record XccdfScan(
    string Benchmark,
    string Profile,
    DateTimeOffset? StartTime,
    DateTimeOffset? EndTime,
    IReadOnlyList<RuleResult> Rules
);

/// <summary>
/// Reads an XCCDF 1.2 results document as <c>oscap xccdf eval --results</c> writes it: the resolved benchmark (for
/// rule titles) followed by one TestResult. Streams the file (results of a full profile are several megabytes).
/// </summary>
public static class XccdfResultsReader
{
    private const string Ns = "http://checklists.nist.gov/xccdf/1.2";

    /// <summary>Reads the results file; throws <see cref="FormatException"/> when it holds no TestResult.</summary>
    public static XccdfScan Read(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads results from a stream; <paramref name="name"/> names it in errors.</summary>
    public static XccdfScan Read(Stream stream, string name)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreWhitespace = true,
        };
        var titles = new Dictionary<string, string>(StringComparer.Ordinal);
        var results = new List<(string Id, string Severity, string Result)>();
        string benchmark = "";
        string? profile = null;
        DateTimeOffset? start = null,
            end = null;
        var sawTestResult = false;
        string? currentRule = null;

        using var reader = XmlReader.Create(stream, settings);
        while (reader.Read())
        {
            if (reader.NodeType != XmlNodeType.Element || reader.NamespaceURI != Ns)
            {
                continue;
            }
            switch (reader.LocalName)
            {
                case "Benchmark" when benchmark.Length == 0:
                    benchmark = reader.GetAttribute("id") ?? "";
                    break;
                case "Rule":
                    currentRule = reader.GetAttribute("id");
                    break;
                case "title" when currentRule is not null && reader.Depth > 0:
                    var title = reader.ReadElementContentAsString().Trim();
                    titles.TryAdd(currentRule, title);
                    currentRule = null;
                    break;
                case "TestResult":
                    sawTestResult = true;
                    start = Time(reader.GetAttribute("start-time"));
                    end = Time(reader.GetAttribute("end-time"));
                    break;
                case "profile" when sawTestResult:
                    profile = reader.GetAttribute("idref");
                    break;
                case "rule-result" when sawTestResult:
                    var id = reader.GetAttribute("idref") ?? "";
                    var severity = reader.GetAttribute("severity") ?? "unknown";
                    using (var sub = reader.ReadSubtree())
                    {
                        string? value = null;
                        while (sub.Read())
                        {
                            if (
                                sub.NodeType == XmlNodeType.Element
                                && sub.NamespaceURI == Ns
                                && sub.LocalName == "result"
                            )
                            {
                                value = sub.ReadElementContentAsString().Trim();
                                break;
                            }
                        }
                        results.Add((id, severity, value ?? "unknown"));
                    }
                    break;
            }
        }

        if (!sawTestResult)
        {
            throw new FormatException(
                $"{name}: no XCCDF 1.2 TestResult; expected the file 'oscap xccdf eval --results' writes"
            );
        }

        var rules = results
            .Select(r => new RuleResult(
                r.Id,
                titles.GetValueOrDefault(r.Id, r.Id),
                r.Severity,
                Outcome(r.Result, name, r.Id)
            ))
            .ToList();
        return new XccdfScan(benchmark, profile ?? "", start, end, rules);
    }

    private static RuleOutcome Outcome(string value, string name, string rule) =>
        value switch
        {
            "pass" or "fixed" => RuleOutcome.Pass,
            "fail" => RuleOutcome.Fail,
            "error" => RuleOutcome.Error,
            "unknown" => RuleOutcome.Unknown,
            "notapplicable" => RuleOutcome.NotApplicable,
            "notchecked" => RuleOutcome.NotChecked,
            "informational" => RuleOutcome.Informational,
            "notselected" => RuleOutcome.NotSelected,
            _ => throw new FormatException($"{name}: rule {rule} has an unknown result '{value}'"),
        };

    private static DateTimeOffset? Time(string? text) =>
        DateTimeOffset.TryParse(
            text,
            CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal,
            out var t
        )
            ? t
            : null;
}
