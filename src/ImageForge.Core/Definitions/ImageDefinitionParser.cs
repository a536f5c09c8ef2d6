using System.Collections.ObjectModel;
using ImageForge.Core.Providers;
using ImageForge.Core.Scheduling;

namespace ImageForge.Core.Definitions;

/// <summary>What the loader needs of a definition file for checks across files, valid or not.</summary>
internal sealed record DefinitionDraft(
    string File,
    string? Name,
    int NameLine,
    string? BaselineName,
    int BaselineLine,
    OsSpec? Os,
    int OsLine,
    ImageDefinition? Definition
);

/// <summary>Reads one image definition file against the schema in docs/definitions.md.</summary>
internal static class ImageDefinitionParser
{
    public static IReadOnlyList<string> Keys { get; } =
    [
        "name",
        "description",
        "os",
        "baseline",
        "packages",
        "targets",
        "schedule",
        "channels",
        "tests",
    ];

    private static readonly IReadOnlyList<string> PackageKeys = ["add", "remove"];
    private static readonly IReadOnlyList<string> TargetKeys =
    [
        "provider",
        "base_image",
        "regions",
        "options",
        "secrets",
        "build",
        "channels",
        "guest_agent",
    ];
    private static readonly IReadOnlyList<string> ScheduleKeys = ["cron", "time_zone"];
    private static readonly IReadOnlyList<string> DefaultChannels = ["dev", "staging", "prod"];

    private const string NameExpectation = NameRules.ImageName;

    /// <summary>Parses the tree of one file. The draft carries a definition only when this file had no problem.</summary>
    public static DefinitionDraft Parse(
        YNode? root,
        ProblemSink problems,
        DateOnly today,
        ProviderRegistry registry
    )
    {
        var before = problems.Count;
        var file = problems.File;
        if (root is null)
        {
            return new DefinitionDraft(file, null, 1, null, 1, null, 1, null);
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
            return new DefinitionDraft(
                file,
                null,
                root.Line,
                null,
                root.Line,
                null,
                root.Line,
                null
            );
        }

        // Every command, the catalog, the schedule ledger and the registry name the image by its name, and people
        // find the file to edit by it: the two must agree.
        var name = NamedLikeTheFile(
            map,
            ReadName(map, "name", "image name"),
            (given, stem) =>
                $"image name '{given}' must equal the file name '{stem}' (commands, the catalog and the registry name the image by it); rename the file to {given}.yaml or set name: {stem}"
        );
        var description = map.RequireScalar("description", "a one-line description of the image");
        var os = OsCatalog.Read(map);
        var baseline = ReadName(map, "baseline", "baseline name (a file baselines/<name>.yaml)");
        var packages = ReadPackages(map, os);
        var channels = ReadChannels(map);
        var targets = ReadTargets(map, os, registry, channels);
        var schedule = ReadSchedule(map, today);
        var tests = ImageTestsReader.Read(map);

        ImageDefinition? definition = null;
        if (problems.Count == before)
        {
            definition = new ImageDefinition
            {
                Name = name!,
                Description = description!,
                Os = os!,
                Baseline = baseline!,
                Packages = packages,
                Targets = targets,
                Schedule = schedule,
                Channels = channels,
                Tests = tests,
                SourceFile = file,
            };
        }
        return new DefinitionDraft(
            file,
            name,
            map.LineOf("name"),
            baseline,
            map.LineOf("baseline"),
            os,
            map.LineOf("os"),
            definition
        );
    }

    /// <summary>
    /// <paramref name="name"/> when it equals the file name without its extension (or is null); otherwise a problem on
    /// the name's line, with <paramref name="message"/> given the name and the file's stem, and null.
    /// </summary>
    internal static string? NamedLikeTheFile(
        MappingReader map,
        string? name,
        Func<string, string, string> message
    )
    {
        var stem = Path.GetFileNameWithoutExtension(map.Problems.File);
        if (name is null || name == stem)
        {
            return name;
        }

        map.Problems.Add(map.LineOf("name"), "name", message(name, stem));
        return null;
    }

    /// <summary>
    /// Reads a name that becomes part of a file or directory path: refuses separators and '..' with a message of
    /// its own, so that a path traversal attempt is named as such.
    /// </summary>
    internal static string? ReadName(MappingReader map, string key, string what)
    {
        var value = map.RequireScalar(key, $"{what}: {NameExpectation}");
        if (value is null)
        {
            return null;
        }
        if (
            value.Contains('/', StringComparison.Ordinal)
            || value.Contains('\\', StringComparison.Ordinal)
            || value.Contains("..", StringComparison.Ordinal)
        )
        {
            map.Problems.Add(
                map.LineOf(key),
                map.PathOf(key),
                $"'{value}' must not contain '/', '\\' or '..': the {what} is used as a file name and may not point to another directory; expected {NameExpectation}"
            );
            return null;
        }
        if (!Patterns.ImageName().IsMatch(value))
        {
            map.Problems.Add(
                map.LineOf(key),
                map.PathOf(key),
                $"invalid {what} '{value}'; expected {NameExpectation}"
            );
            return null;
        }
        return value;
    }

    private static PackageSpec ReadPackages(MappingReader map, OsSpec? os)
    {
        var node = map.Get("packages");
        if (node is null)
        {
            return PackageSpec.None;
        }
        var packages = MappingReader.Open(
            node,
            "packages",
            "a mapping with add and/or remove, each a list of package names",
            map.Problems,
            PackageKeys
        );
        if (packages is null)
        {
            return PackageSpec.None;
        }
        var add = ReadPackageList(packages, "add", os);
        var remove = ReadPackageList(packages, "remove", os);
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (value, line, _) in add)
        {
            added.TryAdd(value, line);
        }
        foreach (var (value, line, path) in remove)
        {
            if (added.TryGetValue(value, out var addLine))
            {
                map.Problems.Add(
                    line,
                    path,
                    $"package '{value}' is both added (line {addLine}) and removed; keep it in one of the two lists"
                );
            }
        }
        return new PackageSpec(
            add.Select(p => p.Value).Distinct(StringComparer.Ordinal).ToList(),
            remove.Select(p => p.Value).Distinct(StringComparer.Ordinal).ToList()
        );
    }

    private static List<(string Value, int Line, string Path)> ReadPackageList(
        MappingReader packages,
        string key,
        OsSpec? os
    )
    {
        var node = packages.Get(key);
        if (node is null)
        {
            return [];
        }
        var expectation = os?.Family is "rhel"
            ? "an RPM package name (letters, digits, '.', '_', '+', '-')"
            : "a Debian package name (lowercase letters, digits, '+', '-', '.'; at least 2 characters, no version)";
        var items =
            Schema.ScalarList(
                node,
                packages.PathOf(key),
                "package names",
                expectation,
                packages.Problems
            ) ?? [];
        var valid = new List<(string, int, string)>();
        foreach (var item in items)
        {
            if (OsCatalog.IsValidPackageName(os?.Family, item.Value))
            {
                valid.Add(item);
            }
            else
            {
                packages.Problems.Add(
                    item.Line,
                    item.Path,
                    $"invalid package name '{item.Value}'; expected {expectation}"
                );
            }
        }
        Schema.ReportRepeats(valid, "package", packages.Problems);
        return valid;
    }

    private static List<TargetSpec> ReadTargets(
        MappingReader map,
        OsSpec? os,
        ProviderRegistry registry,
        IReadOnlyList<string> channels
    )
    {
        var expectation =
            $"a non-empty list of targets, each a mapping with provider ({string.Join(", ", registry.Names)}) and base_image";
        var node = map.Require("targets", expectation);
        if (node is null)
        {
            return [];
        }
        var items = Schema.List(
            node,
            "targets",
            "targets (mappings with provider and base_image)",
            map.Problems
        );
        if (items is null)
        {
            return [];
        }
        if (items.Count == 0)
        {
            map.Problems.Add(node.Line, "targets", $"is empty: expected {expectation}");
            return [];
        }
        var targets = new List<TargetSpec>();
        var providers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (item, path) in items)
        {
            var target = ReadTarget(item, path, map.Problems, os, providers, registry, channels);
            if (target is not null)
            {
                targets.Add(target);
                if (
                    target.Build == BuildMode.Import
                    && !items.Any(i => DiskBuilder(i.Node, registry))
                )
                {
                    var builders = registry
                        .Modules.Where(m => m.Rules.BuildsDisks)
                        .Select(m => m.Name);
                    map.Problems.Add(
                        item.Line,
                        $"{path}.build",
                        $"build: import imports the disk another target of the definition builds; add a target of "
                            + $"{string.Join(" or ", builders)} (it builds the disk once for every imported target), "
                            + "or choose build: native"
                    );
                }
            }
        }
        return targets;
    }

    private static TargetSpec? ReadTarget(
        YNode node,
        string path,
        ProblemSink problems,
        OsSpec? os,
        Dictionary<string, int> providers,
        ProviderRegistry registry,
        IReadOnlyList<string> channels
    )
    {
        var before = problems.Count;
        var target = MappingReader.Open(
            node,
            path,
            "a target mapping with provider, base_image, and optionally regions, options, secrets",
            problems,
            TargetKeys
        );
        if (target is null)
        {
            return null;
        }
        var provider = target.RequireScalar(
            "provider",
            "one of: " + string.Join(", ", registry.Names)
        );
        var rules = provider is null ? null : registry.Find(provider)?.Rules;
        if (provider is not null && rules is null)
        {
            problems.Add(
                target.LineOf("provider"),
                target.PathOf("provider"),
                MappingReader.UnknownMessage("provider", provider, registry.Names)
            );
        }
        if (rules is not null && !providers.TryAdd(rules.Name, target.LineOf("provider")))
        {
            problems.Add(
                target.LineOf("provider"),
                target.PathOf("provider"),
                $"provider '{rules.Name}' already has a target (line {providers[rules.Name]}); give each provider one target and list all its regions there"
            );
        }

        var baseImage = target.RequireScalar(
            "base_image",
            rules?.BaseImageExpectation ?? "the image the build starts from"
        );
        if (baseImage is not null && rules is not null)
        {
            var error = rules.CheckBaseImage(baseImage, os);
            if (error is not null)
            {
                problems.Add(target.LineOf("base_image"), target.PathOf("base_image"), error);
            }
        }
        var regions = ReadRegions(target, rules);
        var build = ReadBuildMode(target, rules);
        var guestAgent = ReadGuestAgent(target, rules, os, build);
        var options = ReadOptions(target, rules, os);
        var channelOptions = ReadTargetChannels(target, rules, channels);
        var secrets = ReadSecrets(target, rules);
        if (rules is not null && baseImage is not null)
        {
            foreach (var (field, message) in rules.CrossCheck(baseImage, options))
            {
                problems.Add(LineOfField(target, field), target.PathOf(field), message);
            }
        }
        if (problems.Count != before || rules is null || baseImage is null)
        {
            return null;
        }
        var spec = new TargetSpec
        {
            Provider = rules.Name,
            BaseImage = baseImage,
            Regions = regions,
            Options = options,
            Secrets = secrets,
            Build = build,
            Channels = channelOptions,
            GuestAgent = guestAgent,
        };
        foreach (var (field, message) in rules.TargetCheck(spec))
        {
            problems.Add(target.LineOf(field), target.PathOf(field), message);
        }
        return problems.Count != before ? null : spec;
    }

    // Whether the target mapping names a provider whose builder makes disks (checked before its own problems).
    private static bool DiskBuilder(YNode node, ProviderRegistry registry) =>
        node is YMapping mapping
        && mapping.Entries.FirstOrDefault(e => e.Key.Value == "provider").Value is YScalar provider
        && registry.Find(provider.Value)?.Rules.BuildsDisks == true;

    private static BuildMode ReadBuildMode(MappingReader target, ProviderRules? rules)
    {
        var node = target.Get("build");
        if (rules is null)
        {
            return BuildMode.Own;
        }
        if (rules.BuildModes.Count == 0)
        {
            if (node is not null)
            {
                target.Problems.Add(
                    node.Line,
                    target.PathOf("build"),
                    $"the {rules.Name} target has one way to build; remove 'build'"
                );
            }
            return BuildMode.Own;
        }
        var names = rules.BuildModes.Select(m => m.ToString().ToLowerInvariant()).ToList();
        var text = target.OptionalScalar("build", string.Join(" or ", names));
        if (text is null)
        {
            return rules.BuildModes[0];
        }
        var index = names.IndexOf(text);
        if (index < 0)
        {
            target.Problems.Add(
                target.LineOf("build"),
                target.PathOf("build"),
                MappingReader.UnknownMessage("build mode", text, names)
            );
            return rules.BuildModes[0];
        }
        return rules.BuildModes[index];
    }

    // guest_agent: true adds the cloud's agent package to this target's disk only (a flavour of the one disk); the
    // package comes from GuestAgents, which refuses an agent the image's Debian release does not ship.
    private static string? ReadGuestAgent(
        MappingReader target,
        ProviderRules? rules,
        OsSpec? os,
        BuildMode build
    )
    {
        var text = target.OptionalScalar("guest_agent", "true or false");
        if (text is null || rules is null)
        {
            return null;
        }
        var field = target.PathOf("guest_agent");
        switch (text.ToLowerInvariant())
        {
            case "false":
                return null;
            case "true":
                break;
            default:
                target.Problems.Add(
                    target.LineOf("guest_agent"),
                    field,
                    $"expected true or false, found '{text}'"
                );
                return null;
        }
        var (package, refusal) = GuestAgents.For(rules, os);
        if (refusal is null && build != BuildMode.Import)
        {
            refusal =
                "guest_agent makes this cloud's flavour of the imported disk, and this target builds natively; "
                + "use build: import, or add the agent to packages.add of a native-only definition";
        }
        if (refusal is not null)
        {
            target.Problems.Add(target.LineOf("guest_agent"), field, refusal);
            return null;
        }
        return package;
    }

    private static List<string> ReadRegions(MappingReader target, ProviderRules? rules)
    {
        var node = target.Get("regions");
        if (rules is { HasRegions: false })
        {
            if (node is not null)
            {
                target.Problems.Add(
                    node.Line,
                    target.PathOf("regions"),
                    $"the {rules.Name} target takes no regions: it builds on this machine; remove 'regions'"
                );
            }
            return [];
        }
        var example = rules?.RegionExample is { Length: > 0 } e ? $", e.g. [{e}]" : "";
        var expectation = $"a non-empty list of regions{example}";
        if (rules is not null && node is null)
        {
            target.Require("regions", expectation);
            return [];
        }
        if (node is null)
        {
            return [];
        }
        var items = Schema.ScalarList(
            node,
            target.PathOf("regions"),
            "regions",
            "a region name",
            target.Problems
        );
        if (items is null)
        {
            return [];
        }
        if (items.Count == 0 && node is YSequence { Items.Count: 0 })
        {
            target.Problems.Add(
                node.Line,
                target.PathOf("regions"),
                $"is empty: expected {expectation}"
            );
            return [];
        }
        var valid = new List<(string Value, int Line, string Path)>();
        foreach (var item in items)
        {
            if (rules?.RegionPattern is { } pattern && !pattern.IsMatch(item.Value))
            {
                target.Problems.Add(
                    item.Line,
                    item.Path,
                    $"'{item.Value}' is not a region name for {rules.Name}; expected a name like {rules.RegionExample}"
                );
            }
            else
            {
                valid.Add(item);
            }
        }
        Schema.ReportRepeats(valid, "region", target.Problems);
        return valid.Select(v => v.Value).Distinct(StringComparer.Ordinal).ToList();
    }

    // A cross-check names a field of the target or one option (options.<key>): the line of that option when it is
    // given, else the line of the options mapping (a default was checked), else the target's.
    private static int LineOfField(MappingReader target, string field)
    {
        const string Options = "options.";
        if (!field.StartsWith(Options, StringComparison.Ordinal))
        {
            return target.LineOf(field);
        }
        var key = field[Options.Length..];
        return target.Get("options") is YMapping options
            ? options.Entries.FirstOrDefault(e => e.Key.Value == key).Value?.Line
                ?? target.LineOf("options")
            : target.LineOf("options");
    }

    private static ReadOnlyDictionary<string, string> ReadOptions(
        MappingReader target,
        ProviderRules? rules,
        OsSpec? os
    ) => ReadOptionMap(target, "options", rules?.Options, os);

    // A mapping of option names to single values, each checked by its rule; defaults fill what was not given.
    private static ReadOnlyDictionary<string, string> ReadOptionMap(
        MappingReader parent,
        string key,
        IReadOnlyList<OptionRule>? rules,
        OsSpec? os
    )
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var node = parent.Get(key);
        if (node is not null)
        {
            var options = MappingReader.Open(
                node,
                parent.PathOf(key),
                "a mapping of option names to single values",
                parent.Problems,
                rules?.Select(r => r.Key).ToList()
            );
            if (options is not null && rules is not null)
            {
                foreach (var (name, valueNode) in options.Entries)
                {
                    var rule = rules.FirstOrDefault(o => o.Key == name.Value);
                    if (rule is null || valueNode is YScalar { IsNull: true })
                    {
                        continue;
                    }
                    var text = Schema.Scalar(
                        valueNode,
                        options.PathOf(name.Value),
                        "a single value",
                        parent.Problems
                    );
                    if (text is null)
                    {
                        continue;
                    }
                    var checkedValue = rule.Check(text);
                    if (checkedValue.Error is not null)
                    {
                        parent.Problems.Add(
                            valueNode.Line,
                            options.PathOf(name.Value),
                            checkedValue.Error
                        );
                    }
                    else
                    {
                        result[name.Value] = checkedValue.Value!;
                    }
                }
            }
        }
        if (rules is not null)
        {
            foreach (var rule in rules)
            {
                if (!result.ContainsKey(rule.Key) && rule.Default?.Invoke(os) is { } value)
                {
                    result[rule.Key] = value;
                }
            }
        }
        return new ReadOnlyDictionary<string, string>(result);
    }

    // targets[].channels: per channel of the path, the provider's channel options (who an image is shared with...).
    private static ReadOnlyDictionary<
        string,
        IReadOnlyDictionary<string, string>
    > ReadTargetChannels(MappingReader target, ProviderRules? rules, IReadOnlyList<string> path)
    {
        var result = new SortedDictionary<string, IReadOnlyDictionary<string, string>>(
            StringComparer.Ordinal
        );
        var node = target.Get("channels");
        if (node is null || rules is null)
        {
            return new(result);
        }
        if (rules.ChannelOptions.Count == 0)
        {
            target.Problems.Add(
                node.Line,
                target.PathOf("channels"),
                $"the {rules.Name} target takes no channel options; remove 'channels'"
            );
            return new(result);
        }
        var channels = MappingReader.Open(
            node,
            target.PathOf("channels"),
            "a mapping of channel name to its options, e.g. prod: { accounts: 123456789012 }",
            target.Problems,
            path
        );
        if (channels is null)
        {
            return new(result);
        }
        foreach (var (name, _) in channels.Entries.Where(e => path.Contains(e.Key.Value)))
        {
            result[name.Value] = ReadOptionMap(channels, name.Value, rules.ChannelOptions, null);
        }
        return new(result);
    }

    private static ReadOnlyDictionary<string, string> ReadSecrets(
        MappingReader target,
        ProviderRules? rules
    )
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var node = target.Get("secrets");
        if (node is null)
        {
            return new ReadOnlyDictionary<string, string>(result);
        }
        var secrets = MappingReader.Open(
            node,
            target.PathOf("secrets"),
            "a mapping of secret variable names to environment variable names, e.g. { mirror_auth: IMAGEFORGE_MIRROR_AUTH }",
            target.Problems,
            null
        );
        if (secrets is null || rules is null)
        {
            return new ReadOnlyDictionary<string, string>(result);
        }
        foreach (var (key, valueNode) in secrets.Entries)
        {
            var path = secrets.PathOf(key.Value);
            if (!rules.SecretVariables.Contains(key.Value, StringComparer.Ordinal))
            {
                var message =
                    rules.SecretVariables.Count == 0
                        ? $"unknown secret '{key.Value}': the {rules.Name} target takes no secrets ({rules.NoSecretsNote})"
                        : MappingReader.UnknownMessage("secret", key.Value, rules.SecretVariables);
                target.Problems.Add(key.Line, path, message);
                continue;
            }
            const string Expectation =
                "the NAME of an environment variable (uppercase letters, digits, '_'), e.g. IMAGEFORGE_MIRROR_AUTH";
            if (valueNode is not YScalar scalar || scalar.IsNull)
            {
                target.Problems.Add(
                    valueNode.Line,
                    path,
                    $"expected {Expectation}, found {valueNode.KindName}"
                );
                continue;
            }
            // The value is never echoed: if it is not a variable name it may well be the secret itself.
            if (!Patterns.EnvironmentVariable().IsMatch(scalar.Value))
            {
                target.Problems.Add(
                    valueNode.Line,
                    path,
                    $"expected {Expectation}; secret values never go into a definition: set them in that environment variable"
                );
                continue;
            }
            result[key.Value] = scalar.Value;
        }
        return new ReadOnlyDictionary<string, string>(result);
    }

    private static ScheduleSpec? ReadSchedule(MappingReader map, DateOnly today)
    {
        var node = map.Get("schedule");
        if (node is null)
        {
            return null;
        }
        var schedule = MappingReader.Open(
            node,
            "schedule",
            "a mapping with cron and time_zone, e.g. { cron: \"0 2 * * *\", time_zone: Europe/Berlin }",
            map.Problems,
            ScheduleKeys
        );
        if (schedule is null)
        {
            return null;
        }
        var cronText = schedule.RequireScalar(
            "cron",
            "a 5-field cron expression (minute hour day-of-month month day-of-week), e.g. \"0 2 * * *\""
        );
        var zoneId =
            schedule.OptionalScalar(
                "time_zone",
                "an IANA time zone id such as Europe/Berlin or UTC"
            ) ?? "UTC";
        TimeZoneInfo? zone = null;
        if (
            !Patterns.TimeZoneId().IsMatch(zoneId)
            || !TimeZoneInfo.TryFindSystemTimeZoneById(zoneId, out zone)
        )
        {
            zone = null;
            map.Problems.Add(
                schedule.LineOf("time_zone"),
                schedule.PathOf("time_zone"),
                $"unknown time zone '{zoneId}'; expected an IANA time zone id such as Europe/Berlin, America/New_York or UTC"
            );
        }
        if (cronText is null)
        {
            return null;
        }
        if (!CronExpression.TryParse(cronText, out var cron, out var error))
        {
            map.Problems.Add(
                schedule.LineOf("cron"),
                schedule.PathOf("cron"),
                $"invalid cron expression: {error}"
            );
            return null;
        }
        var from = new DateTimeOffset(today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        if (cron.GetNextOccurrence(from, zone ?? TimeZoneInfo.Utc) is null)
        {
            map.Problems.Add(
                schedule.LineOf("cron"),
                schedule.PathOf("cron"),
                $"cron expression '{cron.Text}' never fires (a day that does not exist in its months, such as 30 February); fix the day or month"
            );
            return null;
        }
        return zone is null ? null : new ScheduleSpec(cron, zoneId);
    }

    private static IReadOnlyList<string> ReadChannels(MappingReader map)
    {
        var node = map.Get("channels");
        if (node is null)
        {
            return DefaultChannels;
        }
        const string Expectation =
            "a channel name: lowercase letters, digits and '-', starting with a letter, e.g. staging";
        var items = Schema.ScalarList(
            node,
            "channels",
            "channel names, e.g. [dev, staging, prod]",
            Expectation,
            map.Problems
        );
        if (items is null)
        {
            return DefaultChannels;
        }
        if (items.Count == 0 && node is YSequence { Items.Count: 0 })
        {
            map.Problems.Add(
                node.Line,
                "channels",
                "is empty: expected at least one channel, e.g. [dev, staging, prod] (leave 'channels' out for that default)"
            );
        }
        var valid = new List<(string Value, int Line, string Path)>();
        foreach (var item in items)
        {
            if (Patterns.ChannelName().IsMatch(item.Value))
            {
                valid.Add(item);
            }
            else
            {
                map.Problems.Add(
                    item.Line,
                    item.Path,
                    $"invalid channel name '{item.Value}'; expected {Expectation}"
                );
            }
        }
        Schema.ReportRepeats(valid, "channel", map.Problems);
        return valid.Select(v => v.Value).Distinct(StringComparer.Ordinal).ToList();
    }
}
