using System.Globalization;
using ImageForge.Core.Promotion;

namespace ImageForge.Core.Definitions;

/// <summary>
/// Reads a baseline's <c>promotion:</c> section, the rules a version must meet to enter a channel:
/// <code>
/// promotion:
///   staging: { soak: 24h, approvals: 0 }   # at least 24 h in the previous channel first
///   prod: { soak: 3d, approvals: 1, rescan: true, four_eyes: true }  # one approval (not by the requester), a re-scan
///   hotfix: { soak: 1h, skippable: [previous-channel, soak] }  # an admin may skip these, naming them
/// </code>
/// Channel names are those of the images' paths; a channel without a rule needs neither soak nor approvals, and
/// lets an admin skip only the previous channel.
/// </summary>
internal static class BaselinePromotionReader
{
    private static readonly IReadOnlyList<string> RuleKeys =
    [
        "soak",
        "approvals",
        "rescan",
        "four_eyes",
        "skippable",
    ];

    public static PromotionRules Read(MappingReader baseline)
    {
        var node = baseline.Get("promotion");
        if (node is null)
        {
            return PromotionRules.None;
        }

        var map = MappingReader.Open(
            node,
            "promotion",
            "a mapping of channel name to its rule, e.g. prod: { soak: 3d, approvals: 1 }",
            baseline.Problems,
            null
        );
        if (map is null)
        {
            return PromotionRules.None;
        }

        var rules = new Dictionary<string, ChannelRule>(StringComparer.Ordinal);
        foreach (var (key, value) in map.Entries)
        {
            if (!Patterns.ChannelName().IsMatch(key.Value))
            {
                map.Problems.Add(
                    key.Line,
                    map.PathOf(key.Value),
                    "expected a channel name like staging or prod"
                );
                continue;
            }

            var rule = MappingReader.Open(
                value,
                map.PathOf(key.Value),
                "a mapping with soak (e.g. 24h, 3d), approvals (a whole number), rescan and four_eyes (true or false) and skippable (a list of rules)",
                map.Problems,
                RuleKeys
            );
            if (rule is null)
            {
                continue;
            }

            var soak = ReadSoak(rule);
            var approvals = ReadApprovals(rule);
            var rescan = ReadFlag(rule, "rescan");
            var fourEyes = ReadFlag(rule, "four_eyes");
            var skippable = ReadSkippable(rule);
            if (
                soak is not null
                && approvals is not null
                && rescan is not null
                && fourEyes is not null
                && skippable is not null
            )
            {
                rules[key.Value] = new ChannelRule(soak.Value, approvals.Value, rescan.Value)
                {
                    Skippable = skippable!,
                    FourEyes = fourEyes.Value,
                };
            }
        }

        return new PromotionRules(rules);
    }

    private static TimeSpan? ReadSoak(MappingReader rule)
    {
        var text = rule.OptionalScalar("soak", "a duration like 30m, 24h or 3d");
        if (text is null)
        {
            return TimeSpan.Zero;
        }

        if (Durations.TryParse(text, out var soak))
        {
            return soak;
        }

        rule.Problems.Add(
            rule.LineOf("soak"),
            rule.PathOf("soak"),
            $"expected a duration like 30m, 24h or 3d, found '{text}'"
        );
        return null;
    }

    private static int? ReadApprovals(MappingReader rule)
    {
        var text = rule.OptionalScalar("approvals", "a whole number of approvals, 0 or more");
        if (text is null)
        {
            return 0;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return count;
        }

        rule.Problems.Add(
            rule.LineOf("approvals"),
            rule.PathOf("approvals"),
            $"expected a whole number of approvals, 0 or more, found '{text}'"
        );
        return null;
    }

    private static bool? ReadFlag(MappingReader rule, string key)
    {
        var text = rule.OptionalScalar(key, "true or false");
        switch (text)
        {
            case null or "false":
                return false;
            case "true":
                return true;
            default:
                rule.Problems.Add(
                    rule.LineOf(key),
                    rule.PathOf(key),
                    $"expected true or false, found '{text}'"
                );
                return null;
        }
    }

    private static IReadOnlySet<string>? ReadSkippable(MappingReader rule)
    {
        var node = rule.Get("skippable");
        if (node is null)
        {
            return PromotionRuleNames.DefaultSkippable;
        }

        var items = Schema.ScalarList(
            node,
            rule.PathOf("skippable"),
            "skippable",
            "a rule name: " + string.Join(", ", PromotionRuleNames.All),
            rule.Problems
        );
        if (items is null)
        {
            return null;
        }

        var before = rule.Problems.Count;
        foreach (var item in items.Where(i => !PromotionRuleNames.All.Contains(i.Value)))
        {
            rule.Problems.Add(
                item.Line,
                item.Path,
                MappingReader.UnknownMessage("rule", item.Value, PromotionRuleNames.All)
            );
        }

        return rule.Problems.Count == before
            ? new HashSet<string>(items.Select(i => i.Value), StringComparer.Ordinal)
            : null;
    }
}
