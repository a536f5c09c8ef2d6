using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;

namespace ImageForge.Core.Compliance;

/// <summary>
/// Counts of one scan's rule outcomes and its score.
/// <para>
/// Score = 100 × pass / (pass + fail + waived + error), rounded to one decimal; null when that denominator is 0.
/// Rules that are not applicable, not selected, not checked, informational or unknown are left out: nothing about
/// the image can be concluded from them. A waived failure stays in the denominator: a waiver accepts a deviation
/// for the verdict, it does not make the image comply, so the score measures the image as it is.
/// </para>
/// </summary>
public sealed record ScanCounts
{
    /// <summary>Rules the image satisfies.</summary>
    public int Pass { get; init; }

    /// <summary>Failures that no waiver in force covers.</summary>
    public int Fail { get; init; }

    /// <summary>Rules that do not apply to the image.</summary>
    [JsonPropertyName("notapplicable")]
    public int NotApplicable { get; init; }

    /// <summary>Checks the engine could not complete.</summary>
    public int Error { get; init; }

    /// <summary>Failures a waiver in force accepts.</summary>
    public int Waived { get; init; }

    /// <summary>Rules the engine could not decide (e.g. probes without an offline mode).</summary>
    public int Unknown { get; init; }

    /// <summary>Rules without an automated check, and informational rules.</summary>
    [JsonPropertyName("notchecked")]
    public int NotChecked { get; init; }

    /// <summary>The score as defined above; null when no rule was decided.</summary>
    public double? Score { get; init; }

    /// <summary>Counts the outcomes of a scan whose waivers were already applied.</summary>
    public static ScanCounts Of(IReadOnlyList<RuleResult> rules)
    {
        int Count(RuleOutcome o) => rules.Count(r => r.Outcome == o);
        var pass = Count(RuleOutcome.Pass);
        var fail = Count(RuleOutcome.Fail);
        var waived = Count(RuleOutcome.Waived);
        var error = Count(RuleOutcome.Error);
        var decided = pass + fail + waived + error;
        return new ScanCounts
        {
            Pass = pass,
            Fail = fail,
            NotApplicable = Count(RuleOutcome.NotApplicable),
            Error = error,
            Waived = waived,
            Unknown = Count(RuleOutcome.Unknown),
            NotChecked = Count(RuleOutcome.NotChecked) + Count(RuleOutcome.Informational),
            Score = decided == 0 ? null : Math.Round(100.0 * pass / decided, 1),
        };
    }
}

/// <summary>A rule that failed (or could not be checked) after hardening, with its title.</summary>
public sealed record FailedRule(string Rule, string Title, string Severity, RuleOutcome Outcome);

/// <summary>A waiver of the baseline and what became of it in this evaluation.</summary>
public sealed record WaiverStatus(
    string Rule,
    string Title,
    string Reason,
    string Owner,
    DateOnly Expires,
    WaiverState State
);

/// <summary>Whether a waiver counted.</summary>
public enum WaiverState
{
    /// <summary>In force and it covered a failure of the scan after hardening.</summary>
    Applied,

    /// <summary>In force, but the rule did not fail (passes, not applicable, not evaluated): the waiver can go.</summary>
    Unused,

    /// <summary>Its expiry date has passed: it covers nothing and fails the baseline.</summary>
    Expired,
}

/// <summary>A rule the baseline's tailoring turned off, with its justification.</summary>
public sealed record TailoredRuleStatus(string Rule, string Title, string Justification);

/// <summary>The baseline verdict: pass or fail, with every reason, and whether it stopped the build.</summary>
/// <param name="Passed">True when no reason below exists.</param>
/// <param name="Reasons">Why the baseline failed: score under the minimum, unwaived failures, expired waivers.</param>
/// <param name="Notes">Worth knowing, not failing: unknown results, unused waivers.</param>
/// <param name="Enforced">
/// False for now: a failing verdict is recorded and reported but does not fail the build (the release gate decides).
/// </param>
public sealed record ComplianceVerdict(
    bool Passed,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> Notes,
    bool Enforced
);

/// <summary>
/// The compliance evidence of one version (<c>compliance-summary.json</c>): what was scanned with which content,
/// counts and score before and after hardening, the failures left, the waivers and tailoring, and the verdict.
/// </summary>
public sealed record ComplianceSummary
{
    /// <summary>Format identifier of this document.</summary>
    public string Schema { get; init; } = SchemaId;

    /// <summary>The format identifier written by this version of ImageForge.</summary>
    public const string SchemaId = "imageforge.compliance-summary/1";

    /// <summary>Image name.</summary>
    public required string Image { get; init; }

    /// <summary>Version the summary documents.</summary>
    public required string Version { get; init; }

    /// <summary>Baseline name.</summary>
    public required string Baseline { get; init; }

    /// <summary>SCAP datastream file name.</summary>
    public required string Datastream { get; init; }

    /// <summary>XCCDF profile of the baseline (the tailored profile extends it).</summary>
    public required string Profile { get; init; }

    /// <summary>Minimum score the baseline demands after hardening.</summary>
    public required int MinScore { get; init; }

    /// <summary>When the summary was made.</summary>
    public required DateTimeOffset EvaluatedAt { get; init; }

    /// <summary>How the score is computed, in words (so the document explains itself to an auditor).</summary>
    public string ScoreDefinition { get; init; } = ScoreDefinitionText;

    /// <summary>The score definition written into every summary.</summary>
    public const string ScoreDefinitionText =
        "100 * pass / (pass + fail + waived + error); notapplicable, notselected, notchecked, informational and "
        + "unknown results are left out; a waived failure counts as not passing";

    /// <summary>Scan of the base, before hardening.</summary>
    public required ScanCounts Before { get; init; }

    /// <summary>Scan after hardening.</summary>
    public required ScanCounts After { get; init; }

    /// <summary>Rules that fail or error after hardening with no waiver in force.</summary>
    public required IReadOnlyList<FailedRule> FailedRules { get; init; }

    /// <summary>Rules whose result the scan could not decide after hardening.</summary>
    public required IReadOnlyList<FailedRule> UnknownRules { get; init; }

    /// <summary>Every waiver of the baseline and its state.</summary>
    public required IReadOnlyList<WaiverStatus> Waivers { get; init; }

    /// <summary>Rules turned off by the baseline's tailoring.</summary>
    public required IReadOnlyList<TailoredRuleStatus> Tailoring { get; init; }

    /// <summary>The baseline verdict.</summary>
    public required ComplianceVerdict Verdict { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters =
        {
            new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false),
        },
    };

    /// <summary>The document as JSON (snake_case, enums as lower-case strings).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    private static readonly JsonSerializerOptions ReadOptions = JsonInput.Strict(JsonOptions);

    private const string What = "an ImageForge compliance summary";

    /// <summary>
    /// Reads a stored summary; throws <see cref="InvalidInputException"/> naming the file (and the JSON path) when it
    /// is not one.
    /// </summary>
    public static ComplianceSummary Read(string path) =>
        FromJson(JsonInput.ReadFile(path, What), path);

    /// <summary>
    /// Reads a summary from its JSON; <paramref name="name"/> names it in the <see cref="InvalidInputException"/> for
    /// another format.
    /// </summary>
    public static ComplianceSummary FromJson(ReadOnlySpan<byte> json, string name)
    {
        var summary = JsonInput.Deserialize<ComplianceSummary>(json, ReadOptions, name, What);
        return summary.Schema == SchemaId
            ? summary
            : throw new InvalidInputException(
                $"{name}: expected schema {SchemaId}, found {summary.Schema}"
            );
    }

    /// <summary>A score for people: "79.1" or "n/a".</summary>
    public static string FormatScore(double? score) =>
        score is null ? "n/a" : score.Value.ToString("0.0", CultureInfo.InvariantCulture);
}
