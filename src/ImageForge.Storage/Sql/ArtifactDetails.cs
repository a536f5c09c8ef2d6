using System.Text.Json;

namespace ImageForge.Storage.Sql;

/// <summary><c>artifacts.details</c>: a cloud image's other identifiers as a JSON object with sorted keys, or NULL.</summary>
internal static class ArtifactDetails
{
    public static string? ToText(IReadOnlyDictionary<string, string> details) =>
        details.Count == 0
            ? null
            : JsonSerializer.Serialize(
                new SortedDictionary<string, string>(
                    details.ToDictionary(p => p.Key, p => p.Value),
                    StringComparer.Ordinal
                )
            );

    public static IReadOnlyDictionary<string, string> FromText(string? text) =>
        text is null
            ? new SortedDictionary<string, string>(StringComparer.Ordinal)
            : new SortedDictionary<string, string>(
                JsonSerializer.Deserialize<Dictionary<string, string>>(text)
                    ?? throw new CatalogException(
                        $"artifacts.details holds '{text}', not a JSON object"
                    ),
                StringComparer.Ordinal
            );
}
