using System.Text.Json;
using ImageForge.Application.Views;

namespace ImageForge.Cli;

/// <summary>Writes machine-readable output in the one JSON shape (<see cref="ImageForgeJson"/>).</summary>
internal static class Json
{
    public static readonly JsonSerializerOptions Options = ImageForgeJson.Indented;

    /// <summary>One object per line (log streams).</summary>
    public static readonly JsonSerializerOptions Compact = ImageForgeJson.Compact;

    public static Task WriteAsync<T>(TextWriter writer, T value) =>
        writer.WriteLineAsync(JsonSerializer.Serialize(value, Options));
}
