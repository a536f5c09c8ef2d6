using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Core.Definitions;

/// <summary>
/// Reads a baseline's <c>rebuild:</c> section, when the worker rebuilds an image on its own:
/// <code>
/// rebuild:
///   on_fixable_cve:
///     min_severity: high   # critical | high | medium | low
/// </code>
/// A version a channel points at is rebuilt when a re-scan finds an unsuppressed advisory with a fixed version at
/// or above the severity. Without the section (or without <c>on_fixable_cve</c>) nothing is rebuilt.
/// </summary>
internal static class BaselineRebuildReader
{
    private static readonly IReadOnlyList<string> Keys = ["on_fixable_cve"];
    private static readonly IReadOnlyList<string> CveKeys = ["min_severity"];

    /// <summary>The severity names <c>min_severity</c> accepts, highest first.</summary>
    public static IReadOnlyList<string> SeverityNames { get; } =
    ["critical", "high", "medium", "low"];

    private const string SeverityExpectation = "a severity: critical, high, medium or low";

    public static RebuildPolicy Read(MappingReader baseline)
    {
        var node = baseline.Get("rebuild");
        if (node is null)
        {
            return RebuildPolicy.None;
        }
        var map = MappingReader.Open(
            node,
            "rebuild",
            "a mapping with on_fixable_cve, e.g. on_fixable_cve: { min_severity: high }",
            baseline.Problems,
            Keys
        );
        var cveNode = map?.Get("on_fixable_cve");
        if (map is null || cveNode is null)
        {
            return RebuildPolicy.None;
        }
        var cve = MappingReader.Open(
            cveNode,
            map.PathOf("on_fixable_cve"),
            "a mapping with min_severity, e.g. { min_severity: high }",
            map.Problems,
            CveKeys
        );
        var text = cve?.RequireScalar("min_severity", SeverityExpectation);
        if (cve is null || text is null)
        {
            return RebuildPolicy.None;
        }
        if (!SeverityNames.Contains(text, StringComparer.Ordinal))
        {
            cve.Problems.Add(
                cve.LineOf("min_severity"),
                cve.PathOf("min_severity"),
                MappingReader.UnknownMessage("severity", text, SeverityNames)
            );
            return RebuildPolicy.None;
        }
        return new RebuildPolicy(Severities.Parse(text));
    }
}
