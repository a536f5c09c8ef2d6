using System.Globalization;

namespace ImageForge.Core.Definitions;

/// <summary>What the loader needs of a baseline file for checks across files, valid or not.</summary>
internal sealed record BaselineDraft(
    string File,
    string? Name,
    int NameLine,
    OsSpec? Os,
    Baseline? Baseline
);

/// <summary>
/// Reads one baseline file. New sections (vulnerability thresholds, gates, promotion rules) are added as a key in
/// <see cref="Keys"/>, a reader method and a property of <see cref="Baseline"/>.
/// </summary>
internal static class BaselineParser
{
    public static IReadOnlyList<string> Keys { get; } =
    [
        "name",
        "description",
        "os",
        "hardening",
        "scap",
        "min_score",
        "waivers",
        "tailoring",
        "vulnerabilities",
        "gates",
        "promotion",
        "rebuild",
        "anomalies",
        "revocation",
    ];

    private static readonly IReadOnlyList<string> ScapKeys = ["datastream", "profile"];
    private static readonly IReadOnlyList<string> TailoringKeys = ["rule", "justification"];
    private static readonly IReadOnlyList<string> WaiverKeys =
    [
        "rule",
        "reason",
        "owner",
        "expires",
    ];

    /// <summary>Parses the tree of one file. The draft carries a baseline only when this file had no problem.</summary>
    public static BaselineDraft Parse(
        YNode? root,
        ProblemSink problems,
        ContentPaths content,
        DateOnly today
    )
    {
        var hardeningRoot = content.Hardening;
        var before = problems.Count;
        var file = problems.File;
        if (root is null)
        {
            return new BaselineDraft(file, null, 1, null, null);
        }
        var map = MappingReader.Open(
            root,
            "",
            "a mapping of fields (" + string.Join(", ", Keys) + ")",
            problems,
            Keys
        );
        if (map is null)
        {
            return new BaselineDraft(file, null, root.Line, null, null);
        }

        var name = ImageDefinitionParser.NamedLikeTheFile(
            map,
            ImageDefinitionParser.ReadName(map, "name", "baseline name"),
            (given, stem) =>
                $"baseline name '{given}' differs from its file name; expected '{stem}' (or rename the file to {given}.yaml)"
        );
        var description = map.RequireScalar(
            "description",
            "a one-line description of the baseline"
        );
        var os = OsCatalog.Read(map);
        var hardening = ReadHardening(map, hardeningRoot);
        var scap = ReadScap(map, content, out var scapContent);
        var minScore = ReadMinScore(map);
        var waivers = ReadWaivers(map, today, scapContent);
        var tailoring = ReadTailoring(map, scapContent, waivers);
        var vulnerabilities = BaselineVulnerabilitiesReader.Read(map);
        var gates = BaselineGatesReader.Read(map);
        var promotion = BaselinePromotionReader.Read(map);
        var rebuild = BaselineRebuildReader.Read(map);
        var anomalies = BaselineAnomaliesReader.Read(map);
        var revocation = BaselineRevocationReader.Read(map);

        Baseline? baseline = null;
        if (problems.Count == before)
        {
            baseline = new Baseline
            {
                Name = name!,
                Description = description!,
                Os = os!,
                Hardening = hardening!,
                Scap = scap!,
                MinScore = minScore!.Value,
                Waivers = waivers,
                Tailoring = tailoring,
                Vulnerabilities = vulnerabilities,
                Gates = gates,
                Promotion = promotion,
                Rebuild = rebuild,
                Anomalies = anomalies,
                Revocation = revocation,
                SourceFile = file,
            };
        }
        return new BaselineDraft(file, name, map.LineOf("name"), os, baseline);
    }

    private static string? ReadHardening(MappingReader map, string hardeningRoot)
    {
        var value = map.RequireScalar(
            "hardening",
            "a directory below the hardening root that contains run.sh, e.g. cis/debian-11"
        );
        if (value is null)
        {
            return null;
        }
        var line = map.LineOf("hardening");
        if (
            value.Split('/', '\\').Contains("..")
            || value.StartsWith('/')
            || value.StartsWith('\\')
        )
        {
            map.Problems.Add(
                line,
                "hardening",
                $"'{value}' must be a relative path below the hardening root without '..' segments, e.g. cis/debian-11"
            );
            return null;
        }
        if (!Patterns.RelativeDirectory().IsMatch(value))
        {
            map.Problems.Add(
                line,
                "hardening",
                $"'{value}' is not a plain relative path; expected segments of letters, digits, '.', '_', '-' separated by '/', e.g. cis/debian-11"
            );
            return null;
        }
        var directory = Path.Combine(hardeningRoot, value);
        if (!Directory.Exists(directory))
        {
            map.Problems.Add(
                line,
                "hardening",
                $"hardening directory '{value}' not found in {hardeningRoot}; expected a directory there with a run.sh"
            );
            return null;
        }
        if (!File.Exists(Path.Combine(directory, "run.sh")))
        {
            map.Problems.Add(
                line,
                "hardening",
                $"hardening directory '{directory}' has no run.sh; expected the entry point of the hardening scripts there"
            );
            return null;
        }
        return value;
    }

    private static ScapSpec? ReadScap(
        MappingReader map,
        ContentPaths content,
        out ScapContentInfo? scapContent
    )
    {
        scapContent = null;
        const string Expectation =
            "a mapping with datastream (an SSG datastream file name) and profile (an XCCDF profile id)";
        var node = map.Require("scap", Expectation);
        if (node is null)
        {
            return null;
        }
        var scap = MappingReader.Open(node, "scap", Expectation, map.Problems, ScapKeys);
        if (scap is null)
        {
            return null;
        }
        const string DatastreamExpectation =
            "a datastream file name ending in .xml, e.g. ssg-debian11-ds.xml";
        const string ProfileExpectation =
            "an XCCDF profile id, e.g. xccdf_org.ssgproject.content_profile_anssi_np_nt28_high";
        var datastream = scap.RequireScalar("datastream", DatastreamExpectation);
        var profile = scap.RequireScalar("profile", ProfileExpectation);
        if (datastream is not null && !Patterns.DatastreamFile().IsMatch(datastream))
        {
            map.Problems.Add(
                scap.LineOf("datastream"),
                scap.PathOf("datastream"),
                $"invalid datastream '{datastream}'; expected {DatastreamExpectation} (a file name, no directories)"
            );
            datastream = null;
        }
        if (profile is not null && !Patterns.XccdfProfile().IsMatch(profile))
        {
            map.Problems.Add(
                scap.LineOf("profile"),
                scap.PathOf("profile"),
                $"invalid profile '{profile}'; expected {ProfileExpectation}"
            );
            profile = null;
        }
        if (datastream is null || profile is null)
        {
            return null;
        }
        scapContent = ScapContentCatalog.Find(content, datastream);
        if (scapContent is null)
        {
            map.Problems.Add(
                scap.LineOf("datastream"),
                scap.PathOf("datastream"),
                $"datastream '{datastream}' is not installed in {content.ScapContent} and ImageForge ships no profile list for it"
                    + (
                        content.ScapProfileLists is null
                            ? ""
                            : $" ({Path.Combine(content.ScapProfileLists, datastream + ".txt")})"
                    )
                    + "; install the SSG content (Debian: apt-get install ssg-debian ssg-debderived) or add the list"
            );
            return null;
        }
        if (!scapContent.Profiles.Contains(profile))
        {
            map.Problems.Add(
                scap.LineOf("profile"),
                scap.PathOf("profile"),
                $"unknown profile '{profile}' in {datastream} (checked against {scapContent.Source}); known profiles: "
                    + string.Join(", ", scapContent.Profiles.Order(StringComparer.Ordinal))
            );
            return null;
        }
        return new ScapSpec(datastream, profile);
    }

    /// <summary>A problem when the datastream's rules are known and the id is not among them.</summary>
    private static bool RuleKnown(
        MappingReader item,
        string key,
        string rule,
        ScapContentInfo? scapContent
    )
    {
        if (scapContent?.Rules is null || scapContent.Rules.Contains(rule))
        {
            return true;
        }
        var suggestion = scapContent
            .Rules.Where(r => r.EndsWith("_rule_" + rule, StringComparison.Ordinal))
            .FirstOrDefault();
        item.Problems.Add(
            item.LineOf(key),
            item.PathOf(key),
            $"unknown rule '{rule}' in {Path.GetFileName(scapContent.Source)}"
                + (
                    suggestion is null
                        ? "; use the full XCCDF rule id"
                        : $"; did you mean '{suggestion}'?"
                )
        );
        return false;
    }

    private static List<TailoredRule> ReadTailoring(
        MappingReader map,
        ScapContentInfo? scapContent,
        IReadOnlyList<Waiver> waivers
    )
    {
        var node = map.Get("tailoring");
        if (node is null)
        {
            return [];
        }
        var items = Schema.List(
            node,
            "tailoring",
            "rules turned off (mappings with rule and justification)",
            map.Problems
        );
        if (items is null)
        {
            return [];
        }
        var result = new List<TailoredRule>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (item, path) in items)
        {
            var entry = MappingReader.Open(
                item,
                path,
                "a mapping with rule and justification",
                map.Problems,
                TailoringKeys
            );
            if (entry is null)
            {
                continue;
            }
            var rule = entry.RequireScalar(
                "rule",
                "the id of the rule turned off, e.g. xccdf_org.ssgproject.content_rule_package_ntp_installed"
            );
            var justification = entry.RequireScalar(
                "justification",
                "why the rule does not apply to this baseline"
            );
            if (rule is not null && !Patterns.RuleId().IsMatch(rule))
            {
                map.Problems.Add(
                    entry.LineOf("rule"),
                    entry.PathOf("rule"),
                    $"invalid rule id '{rule}'; expected a rule id without spaces, e.g. xccdf_org.ssgproject.content_rule_package_ntp_installed"
                );
                rule = null;
            }
            if (rule is not null && !RuleKnown(entry, "rule", rule, scapContent))
            {
                rule = null;
            }
            if (rule is not null && !seen.TryAdd(rule, entry.LineOf("rule")))
            {
                map.Problems.Add(
                    entry.LineOf("rule"),
                    entry.PathOf("rule"),
                    $"rule '{rule}' is already turned off (line {seen[rule]}); keep one entry per rule"
                );
                rule = null;
            }
            if (rule is not null && waivers.Any(w => w.Rule == rule))
            {
                map.Problems.Add(
                    entry.LineOf("rule"),
                    entry.PathOf("rule"),
                    $"rule '{rule}' is both waived and turned off; a rule turned off is not evaluated, so remove its waiver"
                );
                rule = null;
            }
            if (rule is not null && justification is not null)
            {
                result.Add(new TailoredRule(rule, justification));
            }
        }
        return result;
    }

    private static int? ReadMinScore(MappingReader map)
    {
        const string Expectation = "a whole number from 0 to 100, e.g. 60";
        var text = map.RequireScalar("min_score", Expectation);
        if (text is null)
        {
            return null;
        }
        if (
            !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var score)
            || score is < 0 or > 100
        )
        {
            map.Problems.Add(
                map.LineOf("min_score"),
                "min_score",
                $"expected {Expectation}, found '{text}'"
            );
            return null;
        }
        return score;
    }

    private static List<Waiver> ReadWaivers(
        MappingReader map,
        DateOnly today,
        ScapContentInfo? scapContent
    )
    {
        var node = map.Get("waivers");
        if (node is null)
        {
            return [];
        }
        var items = Schema.List(
            node,
            "waivers",
            "waivers (mappings with rule, reason, owner, expires)",
            map.Problems
        );
        if (items is null)
        {
            return [];
        }
        var waivers = new List<Waiver>();
        var rules = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (item, path) in items)
        {
            var waiver = MappingReader.Open(
                item,
                path,
                "a waiver mapping with rule, reason, owner and expires",
                map.Problems,
                WaiverKeys
            );
            if (waiver is null)
            {
                continue;
            }
            var rule = waiver.RequireScalar(
                "rule",
                "the id of the waived rule, e.g. xccdf_org.ssgproject.content_rule_partition_for_tmp"
            );
            var reason = waiver.RequireScalar("reason", "why the rule is waived");
            var owner = waiver.RequireScalar("owner", "who owns the decision (a person or team)");
            var expires = ReadExpiry(waiver, today);
            if (rule is not null && !Patterns.RuleId().IsMatch(rule))
            {
                map.Problems.Add(
                    waiver.LineOf("rule"),
                    waiver.PathOf("rule"),
                    $"invalid rule id '{rule}'; expected a rule id without spaces, e.g. xccdf_org.ssgproject.content_rule_partition_for_tmp"
                );
                rule = null;
            }
            if (rule is not null && !RuleKnown(waiver, "rule", rule, scapContent))
            {
                rule = null;
            }
            if (rule is not null && !rules.TryAdd(rule, waiver.LineOf("rule")))
            {
                map.Problems.Add(
                    waiver.LineOf("rule"),
                    waiver.PathOf("rule"),
                    $"rule '{rule}' is already waived (line {rules[rule]}); keep one waiver per rule"
                );
                rule = null;
            }
            if (rule is not null && reason is not null && owner is not null && expires is not null)
            {
                waivers.Add(new Waiver(rule, reason, owner, expires.Value));
            }
        }
        return waivers;
    }

    private static DateOnly? ReadExpiry(MappingReader waiver, DateOnly today)
    {
        var date = waiver.RequireDate(
            "expires",
            "the last day the waiver holds, as YYYY-MM-DD, e.g. 2026-06-30"
        );
        if (date is null)
        {
            return null;
        }

        if (date < today)
        {
            waiver.Problems.Add(
                waiver.LineOf("expires"),
                waiver.PathOf("expires"),
                $"the waiver expired on {date:yyyy-MM-dd}; renew it with a new expiry date (YYYY-MM-DD) if it still holds, or remove it"
            );
            return null;
        }
        return date;
    }
}
