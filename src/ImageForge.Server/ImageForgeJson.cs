using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImageForge.Server;

/// <summary>
/// The one JSON shape of ImageForge's machine-readable output (CLI <c>--output json</c>, the HTTP API, webhook
/// bodies): snake_case names, enums as snake_case strings, numbers as numbers.
/// </summary>
public static class ImageForgeJson
{
    /// <summary>Applies the shape to a set of options (the API's are created by ASP.NET Core).</summary>
    public static void Apply(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }

    /// <summary>Indented, for people reading a terminal.</summary>
    public static readonly JsonSerializerOptions Indented = Create(indented: true);

    /// <summary>One object per line (log streams, webhook bodies).</summary>
    public static readonly JsonSerializerOptions Compact = Create(indented: false);

    private static JsonSerializerOptions Create(bool indented)
    {
        var options = new JsonSerializerOptions { WriteIndented = indented };
        Apply(options);
        return options;
    }
}
