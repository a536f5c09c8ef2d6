using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;

namespace ImageForge.Core.Vulnerabilities;

/// <summary>
/// The <c>vulnerability-findings</c> evidence document: what a scan of one image version found, which sources it
/// used, what it suppressed and which inputs it skipped. JSON, snake_case, findings sorted by package and advisory.
/// </summary>
public sealed record FindingsDocument
{
    /// <summary>Format marker of the document.</summary>
    public const string FormatName = "imageforge-vulnerability-findings";

    /// <summary>Media type recorded with the evidence.</summary>
    public const string MediaType = "application/json";

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters =
        {
            new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false),
        },
    };

    public string Format { get; init; } = FormatName;
    public int FormatVersion { get; init; } = 1;
    public required string Image { get; init; }
    public required string Version { get; init; }
    public required DateTimeOffset ScannedAt { get; init; }
    public required IReadOnlyList<SourceReport> Sources { get; init; }
    public required IReadOnlyDictionary<string, int> Summary { get; init; }
    public required IReadOnlyList<FindingEntry> Findings { get; init; }
    public required IReadOnlyList<FindingEntry> Suppressed { get; init; }
    public required IReadOnlyList<SuppressionEntry> ExpiredSuppressions { get; init; }
    public required IReadOnlyList<ScanProblem> Problems { get; init; }

    /// <summary>The document for a scan result.</summary>
    public static FindingsDocument From(
        string image,
        string version,
        DateTimeOffset at,
        ScanResult result
    )
    {
        var summary = Enum.GetValues<Severity>()
            .Reverse()
            .ToDictionary(
                s => Severities.Name(s),
                s => result.Findings.Count(f => f.Severity == s)
            );
        summary["total"] = result.Findings.Count;
        summary["suppressed"] = result.Suppressed.Count;
        return new FindingsDocument
        {
            Image = image,
            Version = version,
            ScannedAt = at,
            Sources = result.Sources,
            Summary = summary,
            Findings = result.Findings.Select(f => FindingEntry.From(f, null)).ToList(),
            Suppressed = result.Suppressed.Select(s => FindingEntry.From(s.Finding, s.By)).ToList(),
            ExpiredSuppressions = result.ExpiredSuppressions.Select(SuppressionEntry.From).ToList(),
            Problems = result.Problems,
        };
    }

    /// <summary>UTF-8 JSON bytes.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Options);

    private static readonly JsonSerializerOptions ReadOptions = JsonInput.Strict(Options);

    /// <summary>
    /// Reads a stored document; throws <see cref="InvalidInputException"/> naming the file (and the JSON path) when
    /// it is not one.
    /// </summary>
    public static FindingsDocument Read(string path)
    {
        const string What = "an ImageForge vulnerability findings document";
        var doc = JsonInput.Deserialize<FindingsDocument>(
            JsonInput.ReadFile(path, What),
            ReadOptions,
            path,
            What
        );
        return doc is { Format: FormatName }
            ? doc
            : throw new InvalidInputException(
                $"{path}: not an ImageForge vulnerability findings document"
            );
    }
}

/// <summary>One finding as stored.</summary>
public sealed record FindingEntry(
    string Advisory,
    IReadOnlyList<string> Aliases,
    string Package,
    string? SourcePackage,
    string InstalledVersion,
    string? FixedVersion,
    Severity Severity,
    double? CvssScore,
    string? CvssVector,
    string Source,
    string? Title,
    SuppressionEntry? SuppressedBy
)
{
    public static FindingEntry From(Finding f, Suppression? by) =>
        new(
            f.Advisory,
            f.Aliases,
            f.Package,
            f.SourcePackage,
            f.InstalledVersion,
            f.FixedVersion,
            f.Severity,
            f.CvssScore,
            f.CvssVector,
            f.Source,
            f.Title,
            by is null ? null : SuppressionEntry.From(by)
        );

    /// <summary>Identity across scans.</summary>
    [JsonIgnore]
    public string Key => $"{Source}|{Advisory}|{Package}";
}

/// <summary>A suppression as stored.</summary>
public sealed record SuppressionEntry(
    string Advisory,
    string Package,
    string Status,
    string Justification,
    DateOnly Expires
)
{
    public static SuppressionEntry From(Suppression s) =>
        new(s.Advisory, s.Package, s.StatusName, s.Justification, s.Expires);
}
