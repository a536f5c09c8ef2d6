using System.Globalization;
using ImageForge.Core.Anomalies;
using ImageForge.Core.Facts;

namespace ImageForge.Core.Definitions;

/// <summary>
/// Reads a baseline's <c>anomalies:</c> section (docs/anomalies.md), how builds of its images are compared with their
/// history:
/// <code>
/// anomalies:
///   window: 20              # the newest successful builds compared with (2 to 200)
///   z_threshold: 3.5        # robust z-score beyond which a size or duration is raised
///   severities:             # per signal: info | low | medium | high | critical
///     enabled_unit: high
///   expected:               # changes that suppress an anomaly, with a reason, until they expire
///     - signal: enabled_unit
///       match: nginx
///       reason: this version adds nginx
///       expires: 2026-06-30
/// </code>
/// Without the section every image gets <see cref="AnomalySettings.Default"/>. An expired expectation is not a
/// problem: it simply stops suppressing.
/// </summary>
internal static class BaselineAnomaliesReader
{
    private static readonly IReadOnlyList<string> Keys =
    [
        "window",
        "z_threshold",
        "severities",
        "expected",
    ];

    private static readonly IReadOnlyList<string> ExpectedKeys =
    [
        "signal",
        "match",
        "reason",
        "expires",
    ];

    /// <summary>The signals a baseline may name (measurements may also be any size.* or duration.* name).</summary>
    public static IReadOnlyList<string> KnownSignals { get; } =
    [
        .. AnomalySettings.DefaultSeverities.Keys,
        FactNames.AptKey,
        FactNames.CaCertificate,
        FactNames.RootfsBytes,
        FactNames.DiskBytes,
    ];

    public static AnomalySettings Read(MappingReader baseline)
    {
        var node = baseline.Get("anomalies");
        if (node is null)
        {
            return AnomalySettings.Default;
        }
        var map = MappingReader.Open(
            node,
            "anomalies",
            "a mapping with window, z_threshold, severities and expected",
            baseline.Problems,
            Keys
        );
        if (map is null)
        {
            return AnomalySettings.Default;
        }
        var settings = AnomalySettings.Default;
        if (
            Number(
                map,
                "window",
                "a whole number of builds from 2 to 200, e.g. 20",
                2,
                200,
                true
            ) is
            { } window
        )
        {
            settings = settings with { Window = (int)window };
        }
        if (
            Number(map, "z_threshold", "a number from 1 to 20, e.g. 3.5", 1, 20, false) is
            { } threshold
        )
        {
            settings = settings with { ZThreshold = threshold };
        }
        return settings with { Severities = ReadSeverities(map), Expected = ReadExpected(map) };
    }

    private static double? Number(
        MappingReader map,
        string key,
        string expectation,
        double min,
        double max,
        bool whole
    )
    {
        var text = map.OptionalScalar(key, expectation);
        if (text is null)
        {
            return null;
        }
        if (
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && value >= min
            && value <= max
            && (!whole || value == Math.Floor(value))
        )
        {
            return value;
        }
        map.Problems.Add(
            map.LineOf(key),
            map.PathOf(key),
            $"expected {expectation}, found '{text}'"
        );
        return null;
    }

    private static bool IsSignal(string name) =>
        KnownSignals.Contains(name, StringComparer.Ordinal)
        || name.StartsWith("size.", StringComparison.Ordinal)
        || name.StartsWith(FactNames.StagePrefix, StringComparison.Ordinal);

    private static string UnknownSignal(string name) =>
        MappingReader.UnknownMessage("signal", name, KnownSignals)
        + " (or a measurement size.* or duration.*)";

    private static Dictionary<string, AnomalySeverity> ReadSeverities(MappingReader map)
    {
        var result = new Dictionary<string, AnomalySeverity>(StringComparer.Ordinal);
        var node = map.Get("severities");
        if (node is null)
        {
            return result;
        }
        var severities = MappingReader.Open(
            node,
            map.PathOf("severities"),
            "a mapping of signal to severity, e.g. { enabled_unit: high }",
            map.Problems,
            null
        );
        if (severities is null)
        {
            return result;
        }
        foreach (var (key, _) in severities.Entries)
        {
            var signal = key.Value;
            if (!IsSignal(signal))
            {
                map.Problems.Add(key.Line, severities.PathOf(signal), UnknownSignal(signal));
                continue;
            }
            if (ReadSeverity(severities, signal) is { } severity)
            {
                result[signal] = severity;
            }
        }
        return result;
    }

    private static AnomalySeverity? ReadSeverity(MappingReader map, string key)
    {
        const string Expectation = "a severity: info, low, medium, high or critical";
        var text = map.RequireScalar(key, Expectation);
        if (text is null)
        {
            return null;
        }
        if (AnomalySeverities.Parse(text) is { } severity)
        {
            return severity;
        }
        map.Problems.Add(
            map.LineOf(key),
            map.PathOf(key),
            MappingReader.UnknownMessage(
                "severity",
                text,
                [.. Enum.GetValues<AnomalySeverity>().Select(AnomalySeverities.Name)]
            )
        );
        return null;
    }

    private static List<ExpectedChange> ReadExpected(MappingReader map)
    {
        var result = new List<ExpectedChange>();
        var node = map.Get("expected");
        if (node is null)
        {
            return result;
        }
        var items = Schema.List(
            node,
            map.PathOf("expected"),
            "expected changes (mappings with signal, match, reason, expires)",
            map.Problems
        );
        foreach (var (item, path) in items ?? [])
        {
            var change = MappingReader.Open(
                item,
                path,
                "an expected change with signal, match, reason and expires",
                map.Problems,
                ExpectedKeys
            );
            if (change is null)
            {
                continue;
            }
            var signal = change.RequireScalar(
                "signal",
                "the signal it expects, e.g. enabled_unit or setuid_file"
            );
            var match = change.OptionalScalar(
                "match",
                "text the anomaly's subject contains, e.g. nginx"
            );
            var reason = change.RequireScalar(
                "reason",
                "why the change is expected, in a sentence"
            );
            var expires = change.RequireDate(
                "expires",
                "the first day it no longer applies, as YYYY-MM-DD, e.g. 2026-06-30"
            );
            if (signal is not null && !IsSignal(signal))
            {
                map.Problems.Add(
                    change.LineOf("signal"),
                    change.PathOf("signal"),
                    UnknownSignal(signal)
                );
                continue;
            }
            if (signal is not null && reason is not null && expires is not null)
            {
                result.Add(new ExpectedChange(signal, match ?? "", reason, expires.Value));
            }
        }
        return result;
    }
}
