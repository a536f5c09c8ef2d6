using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;

namespace ImageForge.Core.Anomalies;

/// <summary>
/// anomalies.json, the anomaly report of a version (evidence kind <see cref="Kind"/>, signed with the rest): every
/// anomaly of the build against its window, raised or not, each with its explanation.
/// </summary>
public sealed record AnomalyReport
{
    /// <summary>Evidence kind of the report.</summary>
    public const string Kind = "anomalies";

    /// <summary>File name in the evidence directory.</summary>
    public const string FileName = "anomalies.json";

    /// <summary>Media type recorded with the evidence.</summary>
    public const string MediaType = "application/json";

    /// <summary>Format marker.</summary>
    public const string FormatName = "imageforge-anomalies";

    private static readonly JsonSerializerOptions WriteOptions = new()
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

    private static readonly JsonSerializerOptions ReadOptions = JsonInput.Strict(
        new JsonSerializerOptions(WriteOptions) { RespectRequiredConstructorParameters = true }
    );

    /// <summary>Always <see cref="FormatName"/>.</summary>
    public string Format { get; init; } = FormatName;

    /// <summary>The image.</summary>
    public required string Image { get; init; }

    /// <summary>The version.</summary>
    public required string Version { get; init; }

    /// <summary>The target's provider.</summary>
    public required string Target { get; init; }

    /// <summary>The versions the build was compared with, oldest first.</summary>
    public required IReadOnlyList<string> ComparedWith { get; init; }

    /// <summary>The parent's change the anomalies were checked against; null when none.</summary>
    public string? ParentChange { get; init; }

    /// <summary>Every anomaly, raised ones first, most serious first.</summary>
    public required IReadOnlyList<Anomaly> Anomalies { get; init; }

    /// <summary>The anomalies neither inherited nor suppressed.</summary>
    [JsonIgnore]
    public IEnumerable<Anomaly> Raised => Anomalies.Where(a => a.Raised);

    /// <summary>The document's bytes.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, WriteOptions);

    /// <summary>Reads anomalies.json; a wrong shape names the file and the JSON path.</summary>
    /// <exception cref="InvalidInputException">Not an anomaly report.</exception>
    public static AnomalyReport Read(string path)
    {
        const string What = "an ImageForge anomaly report";
        var report = JsonInput.Deserialize<AnomalyReport>(
            JsonInput.ReadFile(path, What),
            ReadOptions,
            path,
            What
        );
        return report.Format == FormatName
            ? report
            : throw new InvalidInputException(
                $"{path}: $.format: expected \"{FormatName}\", found \"{report.Format}\""
            );
    }
}
