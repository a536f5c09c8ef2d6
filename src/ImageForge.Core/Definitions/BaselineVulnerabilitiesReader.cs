using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Core.Definitions;

/// <summary>
/// Reads a baseline's <c>vulnerabilities:</c> section:
/// <code>
/// vulnerabilities:
///   sources: [debian-security, osv]
///   suppressions:
///     - advisory: CVE-2023-4911
///       package: libc6
///       status: not_affected        # or accepted
///       justification: the image never runs setuid binaries with untrusted GLIBC_TUNABLES
///       expires: 2026-06-30
/// </code>
/// An expired suppression is not a problem (unlike a waiver): it simply stops suppressing, so the finding shows again.
/// </summary>
internal static class BaselineVulnerabilitiesReader
{
    private static readonly IReadOnlyList<string> Keys = ["sources", "suppressions"];
    private static readonly IReadOnlyList<string> SuppressionKeys =
    [
        "advisory",
        "package",
        "status",
        "justification",
        "expires",
    ];
    private static readonly IReadOnlyList<string> Statuses = ["not_affected", "accepted"];

    public static VulnerabilityPolicy Read(MappingReader baseline)
    {
        var node = baseline.Get("vulnerabilities");
        if (node is null)
        {
            return VulnerabilityPolicy.Default;
        }
        var map = MappingReader.Open(
            node,
            "vulnerabilities",
            "a mapping with sources and suppressions",
            baseline.Problems,
            Keys
        );
        if (map is null)
        {
            return VulnerabilityPolicy.Default;
        }
        var sources = ReadSources(map);
        var suppressions = ReadSuppressions(map);
        return new VulnerabilityPolicy(sources, suppressions);
    }

    private static IReadOnlyList<string> ReadSources(MappingReader map)
    {
        var node = map.Get("sources");
        if (node is null)
        {
            return VulnerabilityPolicy.Default.Sources;
        }
        var items = Schema.ScalarList(
            node,
            map.PathOf("sources"),
            "source names",
            "a source name: " + string.Join(" or ", VulnerabilityScanner.KnownSources),
            map.Problems
        );
        if (items is null)
        {
            return VulnerabilityPolicy.Default.Sources;
        }
        Schema.ReportRepeats(items, "source", map.Problems);
        var sources = new List<string>();
        foreach (var (value, line, path) in items)
        {
            if (!VulnerabilityScanner.KnownSources.Contains(value))
            {
                map.Problems.Add(
                    line,
                    path,
                    MappingReader.UnknownMessage(
                        "vulnerability source",
                        value,
                        VulnerabilityScanner.KnownSources
                    )
                );
                continue;
            }
            if (!sources.Contains(value))
            {
                sources.Add(value);
            }
        }
        return sources;
    }

    private static List<Suppression> ReadSuppressions(MappingReader map)
    {
        var node = map.Get("suppressions");
        var result = new List<Suppression>();
        if (node is null)
        {
            return result;
        }
        var items = Schema.List(
            node,
            map.PathOf("suppressions"),
            "suppressions (mappings with advisory, package, status, justification, expires)",
            map.Problems
        );
        if (items is null)
        {
            return result;
        }
        var seen = new Dictionary<(string, string), int>();
        foreach (var (item, path) in items)
        {
            var s = MappingReader.Open(
                item,
                path,
                "a suppression mapping with advisory, package, status, justification and expires",
                map.Problems,
                SuppressionKeys
            );
            if (s is null)
            {
                continue;
            }
            var advisory = s.RequireScalar(
                "advisory",
                "an advisory id or alias, e.g. CVE-2023-4911 or DSA-5514-1"
            );
            var package = s.RequireScalar(
                "package",
                "the binary or source package name, e.g. libc6"
            );
            var statusText = s.RequireScalar("status", "not_affected or accepted");
            var justification = s.RequireScalar(
                "justification",
                "why the finding does not apply or is accepted, in a sentence"
            );
            var expires = s.RequireDate(
                "expires",
                "the last day the suppression holds, as YYYY-MM-DD, e.g. 2026-06-30"
            );
            SuppressionStatus? status = statusText switch
            {
                null => null,
                "not_affected" => SuppressionStatus.NotAffected,
                "accepted" => SuppressionStatus.Accepted,
                _ => null,
            };
            if (statusText is not null && status is null)
            {
                map.Problems.Add(
                    s.LineOf("status"),
                    s.PathOf("status"),
                    MappingReader.UnknownMessage("status", statusText, Statuses)
                );
            }
            if (advisory is not null && advisory.Any(char.IsWhiteSpace))
            {
                map.Problems.Add(
                    s.LineOf("advisory"),
                    s.PathOf("advisory"),
                    $"invalid advisory id '{advisory}'; expected an id without spaces, e.g. CVE-2023-4911"
                );
                advisory = null;
            }
            if (
                advisory is not null
                && package is not null
                && !seen.TryAdd((advisory, package), s.LineOf("advisory"))
            )
            {
                map.Problems.Add(
                    s.LineOf("advisory"),
                    s.PathOf("advisory"),
                    $"{advisory} in {package} is already suppressed (line {seen[(advisory, package)]}); keep one suppression per advisory and package"
                );
                continue;
            }
            if (
                advisory is not null
                && package is not null
                && status is not null
                && justification is not null
                && expires is not null
            )
            {
                result.Add(
                    new Suppression(advisory, package, status.Value, justification, expires.Value)
                );
            }
        }
        return result;
    }
}
