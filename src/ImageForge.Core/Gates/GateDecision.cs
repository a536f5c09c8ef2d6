using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;

namespace ImageForge.Core.Gates;

/// <summary>The outcome of one gate rule, and of a whole decision: pass, warn or fail.</summary>
public enum GateOutcome
{
    /// <summary>Met.</summary>
    Pass,

    /// <summary>Not met, and the gate only warns.</summary>
    Warn,

    /// <summary>Not met: the version is rejected.</summary>
    Fail,
}

/// <summary>One rule a gate checked: what was expected, what was found, and the outcome.</summary>
/// <param name="Gate">The gate kind, as written in the baseline (<c>vulnerabilities</c>, <c>compliance</c>...).</param>
/// <param name="Rule">What was checked, e.g. <c>max critical findings</c>.</param>
/// <param name="Expected">The limit or requirement.</param>
/// <param name="Found">What the evidence shows.</param>
/// <param name="Outcome">Pass, or the gate's <c>on_violation</c> when not met.</param>
public sealed record GateReason(
    string Gate,
    string Rule,
    string Expected,
    string Found,
    GateOutcome Outcome
)
{
    /// <summary>"fail compliance: min score: expected at least 75.0, found 70.2".</summary>
    public override string ToString() =>
        $"{GateDecision.Name(Outcome)} {Gate}: {Rule}: expected {Expected}, found {Found}";
}

/// <summary>
/// The gate decision of one version (evidence kind <see cref="Kind"/>, <c>gate-decision.json</c>): the worst outcome
/// of its reasons, and every reason, passing ones included, so a reader sees what was checked.
/// </summary>
public sealed record GateDecision
{
    /// <summary>Evidence kind of the decision document.</summary>
    public const string Kind = "gate-decision";

    /// <summary>File name of the decision in the evidence directory.</summary>
    public const string FileName = "gate-decision.json";

    /// <summary>Media type recorded with the evidence.</summary>
    public const string MediaType = "application/json";

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters =
        {
            new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false),
        },
    };

    private static readonly JsonSerializerOptions ReadOptions = JsonInput.Strict(Options);

    /// <summary>Pass, warn or fail: the worst outcome among the reasons (pass when there are none).</summary>
    public required GateOutcome Decision { get; init; }

    /// <summary>The baseline whose gates were evaluated.</summary>
    public required string Baseline { get; init; }

    /// <summary>When the gates were evaluated.</summary>
    public required DateTimeOffset EvaluatedAt { get; init; }

    /// <summary>Every rule checked, in gate order.</summary>
    public required IReadOnlyList<GateReason> Reasons { get; init; }

    /// <summary>The reasons that did not pass.</summary>
    [JsonIgnore]
    public IEnumerable<GateReason> Violations => Reasons.Where(r => r.Outcome != GateOutcome.Pass);

    /// <summary>A decision over the given reasons.</summary>
    public static GateDecision Of(
        string baseline,
        DateTimeOffset at,
        IReadOnlyList<GateReason> reasons
    ) =>
        new()
        {
            Decision = reasons.Count == 0 ? GateOutcome.Pass : reasons.Max(r => r.Outcome),
            Baseline = baseline,
            EvaluatedAt = at,
            Reasons = reasons,
        };

    /// <summary>"pass", "warn" or "fail".</summary>
    public static string Name(GateOutcome outcome) => outcome.ToString().ToLowerInvariant();

    /// <summary>UTF-8 JSON bytes with a trailing newline.</summary>
    public byte[] ToJson()
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(this, Options);
        return [.. bytes, (byte)'\n'];
    }

    /// <summary>
    /// Reads a stored decision: the one reader of the document. Throws <see cref="InvalidInputException"/> naming the
    /// file when it is missing, unreadable or not a decision.
    /// </summary>
    public static GateDecision Read(string path)
    {
        const string What = "a gate decision document";
        return JsonInput.Deserialize<GateDecision>(
            JsonInput.ReadFile(path, What),
            ReadOptions,
            path,
            What
        );
    }

    /// <summary>
    /// The newest decision among <paramref name="evidence"/>, with its document; null when none was recorded.
    /// Throws <see cref="InvalidInputException"/> when the newest one cannot be read.
    /// </summary>
    public static RecordedGateDecision? Current(IReadOnlyList<EvidenceDocument> evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var document = evidence.LastOrDefault(e => e.Kind == Kind);
        return document is null
            ? null
            : new RecordedGateDecision(Read(document.Location), document);
    }

    /// <summary>The version's current decision (see <see cref="Current(IReadOnlyList{EvidenceDocument})"/>).</summary>
    public static RecordedGateDecision? Current(ImageVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return Current(version.Evidence);
    }
}

/// <summary>A gate decision as recorded with a version: the decision and the evidence document holding it.</summary>
public sealed record RecordedGateDecision(GateDecision Decision, EvidenceDocument Evidence);
