using System.Globalization;
using ImageForge.Core.Admission;
using ImageForge.Core.Errors;
using ImageForge.Policy.Checking;
using ImageForge.Policy.Rules;
using YamlDotNet.RepresentationModel;

namespace ImageForge.Policy.Testing;

/// <summary>One fixture plan of a rule and whether the rule decided every address as expected.</summary>
/// <param name="Rule">The rule id.</param>
/// <param name="Case">The case name (the plan's file name without <c>.plan.json</c>).</param>
/// <param name="File">The plan file.</param>
/// <param name="Differences">Each address decided otherwise than expected: <c>address: expected fail, got pass</c>.</param>
public sealed record FixtureResult(
    string Rule,
    string Case,
    string File,
    IReadOnlyList<string> Differences
)
{
    /// <summary>True when every expected decision was met.</summary>
    public bool Passed => Differences.Count == 0;
}

/// <summary>Every fixture result, and the rules that have no fixture.</summary>
public sealed record FixtureReport(
    IReadOnlyList<FixtureResult> Cases,
    IReadOnlyList<string> Untested
);

/// <summary>
/// The policy unit tests: <c>tests/&lt;rule&gt;/&lt;case&gt;.plan.json</c> beside the rules, each with
/// <c>&lt;case&gt;.expected.yaml</c> listing the addresses that must <c>pass</c>, <c>fail</c>, be <c>unknown</c> or
/// <c>excepted</c> (every resource of the rule's kind must be listed), and optionally <c>today</c> (for exceptions),
/// <c>parameters</c> and the images the catalog <c>admitted</c> (provider → ids).
/// </summary>
public static class RuleFixtures
{
    /// <summary>The directory of fixtures below a policy directory.</summary>
    public const string Directory = "tests";

    private const string PlanSuffix = ".plan.json";
    private const string ExpectedSuffix = ".expected.yaml";

    /// <summary>Runs every fixture of <paramref name="set"/>; a malformed expectation is an <see cref="InvalidInputException"/>.</summary>
    public static FixtureReport Run(PolicySet set, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(set);
        var root = Path.Combine(set.Directory, Directory);
        var problems = new List<InputProblem>();
        var results = new List<FixtureResult>();
        var byId = set.Compiled.ToDictionary(c => c.Rule.Id, StringComparer.Ordinal);
        if (System.IO.Directory.Exists(root))
        {
            foreach (
                var dir in System
                    .IO.Directory.EnumerateDirectories(root)
                    .Order(StringComparer.Ordinal)
            )
            {
                var id = Path.GetFileName(dir);
                if (!byId.TryGetValue(id, out var compiled))
                {
                    problems.Add(new(dir, 0, "directory", $"no rule '{id}' in {set.Directory}"));
                    continue;
                }
                foreach (
                    var plan in System
                        .IO.Directory.EnumerateFiles(dir, "*" + PlanSuffix)
                        .Order(StringComparer.Ordinal)
                )
                {
                    if (Case(compiled, plan, today, problems) is { } result)
                    {
                        results.Add(result);
                    }
                }
            }
        }
        if (problems.Count > 0)
        {
            throw new InvalidInputException(problems);
        }
        var tested = results.Select(r => r.Rule).ToHashSet(StringComparer.Ordinal);
        return new FixtureReport(
            results,
            [.. byId.Keys.Where(id => !tested.Contains(id)).Order(StringComparer.Ordinal)]
        );
    }

    private static FixtureResult? Case(
        CompiledRule compiled,
        string plan,
        DateOnly today,
        List<InputProblem> problems
    )
    {
        var name = Path.GetFileName(plan)[..^PlanSuffix.Length];
        var expectedFile = Path.Combine(Path.GetDirectoryName(plan)!, name + ExpectedSuffix);
        if (!File.Exists(expectedFile))
        {
            problems.Add(new(plan, 0, "case", $"no {name}{ExpectedSuffix} beside it"));
            return null;
        }
        var before = problems.Count;
        if (YamlFile.Read(expectedFile, problems) is not { } root)
        {
            return null;
        }
        var yaml = new YamlFile(expectedFile, problems);
        yaml.OnlyKnown(
            root,
            "expected",
            "pass",
            "fail",
            "unknown",
            "excepted",
            "today",
            "parameters",
            "admitted"
        );
        var expected = new Dictionary<string, Outcome>(StringComparer.Ordinal);
        foreach (
            var (field, outcome) in new[]
            {
                ("pass", Outcome.Pass),
                ("fail", Outcome.Fail),
                ("unknown", Outcome.Unknown),
                ("excepted", Outcome.Excepted),
            }
        )
        {
            foreach (var address in yaml.Texts(root, field))
            {
                if (!expected.TryAdd(address, outcome))
                {
                    yaml.Problem(root, field, $"{address} is listed twice");
                }
            }
        }
        if (yaml.Text(root, "today", required: false) is { } day)
        {
            if (
                !DateOnly.TryParseExact(
                    day,
                    "yyyy-MM-dd",
                    CultureInfo.InvariantCulture,
                    DateTimeStyles.None,
                    out today
                )
            )
            {
                yaml.Problem(root, "today", "a date, YYYY-MM-DD");
            }
        }
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        if (YamlFile.Get(root, "parameters") is YamlMappingNode parameters)
        {
            foreach (var (k, v) in parameters.Children)
            {
                given[((YamlScalarNode)k).Value!] = (v as YamlScalarNode)?.Value ?? "";
            }
        }
        var admitted = new List<PlannedImage>();
        if (YamlFile.Get(root, "admitted") is YamlMappingNode imageMap)
        {
            foreach (var (k, v) in imageMap.Children)
            {
                var provider = ((YamlScalarNode)k).Value!;
                if (v is YamlSequenceNode ids)
                {
                    admitted.AddRange(
                        ids.Children.OfType<YamlScalarNode>()
                            .Select(id => new PlannedImage("fixture", provider, id.Value!))
                    );
                }
            }
        }
        if (problems.Count > before)
        {
            return null;
        }
        var resources = PlanResources.Read(plan);
        var parametersOf = PolicyCheck.Parameters(compiled.Rule, given);
        var images = PolicyCheck.Admitted(admitted);
        var differences = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var resource in resources.Normalized.Where(r => r.Kind == compiled.Rule.Kind))
        {
            var finding = RuleEvaluator.Evaluate(compiled, resource, parametersOf, images, today);
            seen.Add(resource.Address);
            if (!expected.TryGetValue(resource.Address, out var want))
            {
                differences.Add(
                    $"{resource.Address}: not listed in {Path.GetFileName(expectedFile)}, got {Name(finding.Outcome)} ({finding.Path})"
                );
            }
            else if (want != finding.Outcome)
            {
                differences.Add(
                    $"{resource.Address}: expected {Name(want)}, got {Name(finding.Outcome)} ({finding.Path})"
                );
            }
        }
        differences.AddRange(
            expected
                .Keys.Where(a => !seen.Contains(a))
                .Select(a =>
                    $"{a}: expected {Name(expected[a])}, but the plan has no such {compiled.Rule.Kind}"
                )
        );
        return new FixtureResult(compiled.Rule.Id, name, plan, differences);
    }

    /// <summary>How an outcome is written in expectations and reports.</summary>
    public static string Name(Outcome outcome) => outcome.ToString().ToLowerInvariant();
}
