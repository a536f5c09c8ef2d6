using System.Globalization;
using System.Text.RegularExpressions;
using Cel;
using ImageForge.Core.Errors;
using ImageForge.Policy.Resources;
using YamlDotNet.RepresentationModel;

namespace ImageForge.Policy.Rules;

/// <summary>A rule with its predicate compiled once.</summary>
internal sealed record CompiledRule(PolicyRule Rule, CelProgramDelegate Predicate);

/// <summary>
/// The rules of a policy directory (<c>policies/*.yaml</c>) and their bindings to channels (<c>policies/bindings.yaml</c>),
/// checked and compiled. A file with any problem (a CEL syntax error, an unknown kind, an exception without expiry)
/// is an <see cref="InvalidInputException"/> listing every problem by file and line; nothing is half-loaded.
/// </summary>
public sealed partial class PolicySet
{
    /// <summary>The file of a directory that binds rules to channels.</summary>
    public const string BindingsFile = "bindings.yaml";

    private static readonly string[] Severities = ["low", "medium", "high", "critical"];

    private PolicySet(
        IReadOnlyList<CompiledRule> rules,
        IReadOnlyList<PolicyBinding> bindings,
        string directory
    )
    {
        Compiled = rules;
        Bindings = bindings;
        Directory = directory;
    }

    /// <summary>The directory read.</summary>
    public string Directory { get; }

    /// <summary>Every rule, by id.</summary>
    public IReadOnlyList<PolicyRule> Rules => [.. Compiled.Select(c => c.Rule)];

    /// <summary>The bindings; without a bindings file, one binding denies every rule everywhere.</summary>
    public IReadOnlyList<PolicyBinding> Bindings { get; }

    internal IReadOnlyList<CompiledRule> Compiled { get; }

    /// <summary>Reads every rule file of <paramref name="directory"/> (not its tests) and its bindings.</summary>
    public static PolicySet Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var problems = new List<InputProblem>();
        if (!System.IO.Directory.Exists(directory))
        {
            throw new InvalidInputException($"{directory}: no policy directory here");
        }
        var env = CelFunctions.Environment();
        var rules = new List<CompiledRule>();
        foreach (
            var file in System
                .IO.Directory.EnumerateFiles(directory, "*.yaml")
                .Where(f => Path.GetFileName(f) != BindingsFile)
                .Order(StringComparer.Ordinal)
        )
        {
            if (ReadRule(file, problems, env) is { } rule)
            {
                rules.Add(rule);
            }
        }
        foreach (var duplicate in rules.GroupBy(r => r.Rule.Id).Where(g => g.Count() > 1))
        {
            problems.Add(
                new(duplicate.Last().Rule.File, 1, "id", $"'{duplicate.Key}' is defined twice")
            );
        }
        var bindingsFile = Path.Combine(directory, BindingsFile);
        var bindings = File.Exists(bindingsFile)
            ? ReadBindings(bindingsFile, rules, problems)
            : [new PolicyBinding("default", ["*"], BindingAction.Deny, [], EmptyParameters)];
        return problems.Count > 0
            ? throw new InvalidInputException(problems)
            : new PolicySet(rules, bindings, directory);
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyParameters = new Dictionary<
        string,
        string
    >(StringComparer.Ordinal);

    private static CompiledRule? ReadRule(
        string file,
        List<InputProblem> problems,
        CelEnvironment env
    )
    {
        var before = problems.Count;
        if (YamlFile.Read(file, problems) is not { } root)
        {
            return null;
        }
        var yaml = new YamlFile(file, problems);
        yaml.OnlyKnown(
            root,
            "rule",
            "id",
            "title",
            "severity",
            "kind",
            "predicate",
            "when_unknown",
            "message",
            "parameters",
            "exceptions"
        );
        var id = yaml.Text(root, "id");
        if (id is not null && !RuleId().IsMatch(id))
        {
            yaml.Problem(
                YamlFile.Get(root, "id"),
                "id",
                "lowercase letters, digits and dashes (it names the fixture directory)"
            );
        }
        var title = yaml.Text(root, "title");
        var severity = yaml.Text(root, "severity");
        if (severity is not null && !Severities.Contains(severity))
        {
            yaml.Problem(
                YamlFile.Get(root, "severity"),
                "severity",
                $"one of {string.Join(", ", Severities)}"
            );
        }
        var kind = yaml.Text(root, "kind");
        if (kind is not null && !ResourceKinds.All.Contains(kind))
        {
            yaml.Problem(
                YamlFile.Get(root, "kind"),
                "kind",
                $"unknown kind '{kind}'; one of {string.Join(", ", ResourceKinds.All)}"
            );
        }
        var whenUnknown = Enum(yaml, root, "when_unknown", WhenUnknown.Fail, "fail, warn or pass");
        var message = yaml.Text(root, "message");
        var parameters = Parameters(yaml, root);
        var exceptions = Exceptions(yaml, root);
        var predicate = yaml.Text(root, "predicate");
        CelProgramDelegate? compiled = null;
        if (predicate is not null)
        {
            compiled = Compile(env, predicate, yaml, YamlFile.Get(root, "predicate"));
        }
        return problems.Count > before || compiled is null
            ? null
            : new CompiledRule(
                new PolicyRule(
                    id!,
                    title!,
                    severity!,
                    kind!,
                    predicate!,
                    whenUnknown,
                    message!,
                    parameters,
                    exceptions,
                    file
                ),
                compiled
            );
    }

    private static CelProgramDelegate? Compile(
        CelEnvironment env,
        string predicate,
        YamlFile yaml,
        YamlNode? node
    )
    {
        if (CelFunctions.TooComplex(predicate) is { } why)
        {
            yaml.Problem(node, "predicate", why);
            return null;
        }
        try
        {
            return env.Compile(predicate);
        }
        catch (CelExpressionParserException e)
        {
            yaml.Problem(node, "predicate", $"not a CEL expression: {e.Message}");
            return null;
        }
    }

    private static List<RuleParameter> Parameters(YamlFile yaml, YamlMappingNode root)
    {
        var parameters = new List<RuleParameter>();
        switch (YamlFile.Get(root, "parameters"))
        {
            case null:
                break;
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    var name = ((YamlScalarNode)key).Value!;
                    if (value is not YamlMappingNode p)
                    {
                        yaml.Problem(value, $"parameters.{name}", "expected default and allowed");
                        continue;
                    }
                    yaml.OnlyKnown(p, $"parameters.{name}", "default", "allowed");
                    var allowed = yaml.Texts(p, "allowed");
                    var @default = yaml.Text(p, "default");
                    if (@default is not null && allowed.Count > 0 && !allowed.Contains(@default))
                    {
                        yaml.Problem(
                            p,
                            $"parameters.{name}.default",
                            $"'{@default}' is not one of {string.Join(", ", allowed)}"
                        );
                    }
                    parameters.Add(new RuleParameter(name, @default ?? "", allowed));
                }
                break;
            case var other:
                yaml.Problem(other, "parameters", "expected a mapping of names");
                break;
        }
        return parameters;
    }

    private static List<RuleExemption> Exceptions(YamlFile yaml, YamlMappingNode root)
    {
        var exceptions = new List<RuleExemption>();
        foreach (var e in yaml.Mappings(root, "exceptions"))
        {
            yaml.OnlyKnown(e, "exceptions", "address", "reason", "owner", "expires");
            var address = yaml.Text(e, "address", field: "exceptions.address");
            var reason = yaml.Text(e, "reason", field: "exceptions.reason");
            var owner = yaml.Text(e, "owner", field: "exceptions.owner");
            var expiresText = yaml.Text(e, "expires", field: "exceptions.expires");
            DateOnly expires = default;
            if (
                expiresText is not null
                && !DateOnly.TryParseExact(
                    expiresText,
                    "yyyy-MM-dd",
                    CultureInfo.InvariantCulture,
                    DateTimeStyles.None,
                    out expires
                )
            )
            {
                yaml.Problem(
                    YamlFile.Get(e, "expires"),
                    "exceptions.expires",
                    "a date, YYYY-MM-DD"
                );
            }
            if (
                address is not null
                && reason is not null
                && owner is not null
                && expiresText is not null
            )
            {
                exceptions.Add(new RuleExemption(address, reason, owner, expires));
            }
        }
        return exceptions;
    }

    private static List<PolicyBinding> ReadBindings(
        string file,
        List<CompiledRule> rules,
        List<InputProblem> problems
    )
    {
        var bindings = new List<PolicyBinding>();
        if (YamlFile.Read(file, problems) is not { } root)
        {
            return bindings;
        }
        var yaml = new YamlFile(file, problems);
        yaml.OnlyKnown(root, "bindings", "bindings");
        var ids = rules.Select(r => r.Rule.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var b in yaml.Mappings(root, "bindings"))
        {
            yaml.OnlyKnown(b, "bindings", "name", "channels", "action", "rules", "parameters");
            var name = yaml.Text(b, "name");
            var channels = yaml.Texts(b, "channels");
            if (channels.Count == 0)
            {
                yaml.Problem(b, "channels", "required: channel names, or '*' for every channel");
            }
            var action = Enum(yaml, b, "action", BindingAction.Deny, "deny, warn or audit", true);
            var selected = yaml.Texts(b, "rules");
            foreach (var unknown in selected.Where(r => !ids.Contains(r)))
            {
                yaml.Problem(b, "rules", $"no rule '{unknown}' in this directory");
            }
            var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            if (YamlFile.Get(b, "parameters") is YamlMappingNode map)
            {
                foreach (var (key, value) in map.Children)
                {
                    var k = ((YamlScalarNode)key).Value!;
                    var v = (value as YamlScalarNode)?.Value ?? "";
                    var declared = rules
                        .Where(r => selected.Count == 0 || selected.Contains(r.Rule.Id))
                        .SelectMany(r => r.Rule.Parameters)
                        .Where(p => p.Name == k)
                        .ToList();
                    if (declared.Count == 0)
                    {
                        yaml.Problem(value, $"parameters.{k}", "no selected rule declares it");
                    }
                    foreach (
                        var p in declared.Where(p => p.Allowed.Count > 0 && !p.Allowed.Contains(v))
                    )
                    {
                        yaml.Problem(
                            value,
                            $"parameters.{k}",
                            $"'{v}' is not one of {string.Join(", ", p.Allowed)}"
                        );
                    }
                    parameters[k] = v;
                }
            }
            if (name is not null)
            {
                bindings.Add(new PolicyBinding(name, channels, action, selected, parameters));
            }
        }
        return bindings;
    }

    private static T Enum<T>(
        YamlFile yaml,
        YamlMappingNode map,
        string name,
        T fallback,
        string expected,
        bool required = false
    )
        where T : struct, System.Enum
    {
        var text = yaml.Text(map, name, required);
        if (text is null)
        {
            return fallback;
        }
        if (
            System.Enum.TryParse<T>(
                text.Replace("_", "", StringComparison.Ordinal),
                true,
                out var value
            ) && text.All(char.IsLower)
        )
        {
            return value;
        }
        yaml.Problem(YamlFile.Get(map, name), name, $"one of {expected}");
        return fallback;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex RuleId();
}
