using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace ImageForge.Application.Views;

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
        // Compiled metadata for the shapes printed most (images, versions, builds); reflection for the rest.
        options.TypeInfoResolver = JsonTypeInfoResolver.Combine(
            ImageForgeJsonContext.Default,
            new DefaultJsonTypeInfoResolver()
        );
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

/// <summary>
/// Serialization metadata generated at compile time for the API's read shapes: a command prints them without
/// building their metadata by reflection first (that took longer than the catalog query).
/// </summary>
[JsonSerializable(typeof(ImageVersionsView))]
[JsonSerializable(typeof(VersionView))]
[JsonSerializable(typeof(IReadOnlyList<ImageView>))]
[JsonSerializable(typeof(BuildView))]
[JsonSerializable(typeof(IReadOnlyList<BuildView>))]
[JsonSerializable(typeof(QueuedBuildView))]
internal sealed partial class ImageForgeJsonContext : JsonSerializerContext;
