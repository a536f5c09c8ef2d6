using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImageForge.Cli;

/// <summary>The one JSON shape of machine-readable output: snake_case names, enums as lower-case strings.</summary>
internal static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>One object per line (log streams).</summary>
    public static readonly JsonSerializerOptions Compact = new(Options) { WriteIndented = false };

    public static Task WriteAsync<T>(TextWriter writer, T value) =>
        writer.WriteLineAsync(JsonSerializer.Serialize(value, Options));
}
