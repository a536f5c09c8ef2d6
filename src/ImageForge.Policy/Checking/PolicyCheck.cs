using ImageForge.Core.Admission;
using ImageForge.Policy.Plans;
using ImageForge.Policy.Resources;
using ImageForge.Policy.Rules;

namespace ImageForge.Policy.Checking;

/// <summary>What a finding does to the check, from its binding's action and the rule's <c>when_unknown</c>.</summary>
public enum Effect
{
    /// <summary>Nothing: it passed, was excepted, or an unknown counted as passing.</summary>
    None,

    /// <summary>The check is refused.</summary>
    Deny,

    /// <summary>Reported, not refused.</summary>
    Warn,

    /// <summary>Recorded only.</summary>
    Audit,
}

/// <summary>A finding with the binding that applied its rule and what it does.</summary>
public sealed record CheckedFinding(Finding Finding, string Binding, Effect Effect);

/// <summary>
/// The answer of <c>imageforge policy check</c> and <c>POST /api/policy/check</c>: allowed unless a finding
/// denies, every finding that did not simply pass, and how many resources and rules were checked.
/// </summary>
public sealed record PolicyReport(
    bool Allowed,
    string? Channel,
    int Resources,
    int Passed,
    IReadOnlyList<string> Rules,
    IReadOnlyList<CheckedFinding> Findings
);

/// <summary>A plan's resources, normalized, ready to be checked once the catalog has said which images it admits.</summary>
public sealed class PlanResources
{
    private PlanResources(IReadOnlyList<NormalizedResource> resources) => Normalized = resources;

    internal IReadOnlyList<NormalizedResource> Normalized { get; }

    /// <summary>How many normalized resources the plan has.</summary>
    public int Count => Normalized.Count;

    /// <summary>The images the plan's machines boot, for the catalog's admission check.</summary>
    public IReadOnlyList<PlannedImage> Images =>
        [
            .. Normalized
                .Where(r => r.Kind == ResourceKinds.VmInstance)
                .Select(r => (r, image: r.Attributes["image"].Value as string))
                .Where(x => x.image is not null)
                .Select(x => new PlannedImage(x.r.Address, x.r.Provider, x.image!)),
        ];

    /// <summary>Reads and normalizes the plan at <paramref name="file"/>.</summary>
    public static PlanResources Read(string file)
    {
        using var plan = PlanDocument.Read(file);
        return new PlanResources(Normalizer.Normalize(plan));
    }

    /// <summary>The largest plan read: 32 MiB.</summary>
    public static long MaxBytes => PlanDocument.MaxBytes;

    /// <summary>
    /// Reads and normalizes a plan in memory (a request's body); <paramref name="name"/> stands for the file in errors.
    /// </summary>
    public static PlanResources Read(ReadOnlyMemory<byte> json, string name)
    {
        using var plan = PlanDocument.Read(json, name);
        return new PlanResources(Normalizer.Normalize(plan));
    }
}

/// <summary>Checks a plan's resources against a policy set, as bound to a channel.</summary>
public static class PolicyCheck
{
    /// <summary>
    /// Every rule bound to <paramref name="channel"/> over every resource of its kind. <paramref name="admitted"/> are
    /// the images the catalog admits (from <see cref="PlanResources.Images"/>); <paramref name="today"/> decides which
    /// exceptions have expired.
    /// </summary>
    public static PolicyReport Run(
        PolicySet set,
        PlanResources resources,
        string? channel,
        IEnumerable<PlannedImage> admitted,
        DateOnly today
    )
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(resources);
        var images = Admitted(admitted);
        var findings = new List<CheckedFinding>();
        var passed = 0;
        var rules = new List<string>();
        foreach (var compiled in set.Compiled)
        {
            // A binding naming the channel beats one for every channel ('*'); among equals the strictest applies.
            var binding = set
                .Bindings.Where(b => b.Binds(channel) && b.Selects(compiled.Rule.Id))
                .OrderBy(b => channel is not null && b.Channels.Contains(channel) ? 0 : 1)
                .ThenBy(b => b.Action)
                .FirstOrDefault();
            if (binding is null)
            {
                continue;
            }
            rules.Add(compiled.Rule.Id);
            var parameters = Parameters(compiled.Rule, binding.Parameters);
            foreach (var resource in resources.Normalized.Where(r => r.Kind == compiled.Rule.Kind))
            {
                var finding = RuleEvaluator.Evaluate(compiled, resource, parameters, images, today);
                if (finding.Outcome == Outcome.Pass)
                {
                    passed++;
                    continue;
                }
                findings.Add(new(finding, binding.Name, EffectOf(finding, compiled.Rule, binding)));
            }
        }
        return new PolicyReport(
            findings.TrueForAll(f => f.Effect != Effect.Deny),
            channel,
            resources.Count,
            passed,
            rules,
            findings
        );
    }

    /// <summary>A rule's parameters: its defaults, overridden by the binding's values for the names it declares.</summary>
    internal static IReadOnlyDictionary<string, string> Parameters(
        PolicyRule rule,
        IReadOnlyDictionary<string, string> given
    ) =>
        rule.Parameters.ToDictionary(
            p => p.Name,
            p => given.TryGetValue(p.Name, out var v) ? v : p.Default,
            StringComparer.Ordinal
        );

    /// <summary>The <c>admitted</c> variable: provider → the image ids admitted (every provider present).</summary>
    internal static IReadOnlyDictionary<string, object?> Admitted(
        IEnumerable<PlannedImage> admitted
    )
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var provider in (string[])["aws", "azure", "gcp"])
        {
            map[provider] = new List<object?>();
        }
        foreach (var image in admitted)
        {
            if (map.TryGetValue(image.Provider, out var list) && list is List<object?> ids)
            {
                ids.Add(image.ImageId);
            }
        }
        return map;
    }

    private static Effect EffectOf(Finding finding, PolicyRule rule, PolicyBinding binding)
    {
        var action = binding.Action switch
        {
            BindingAction.Deny => Effect.Deny,
            BindingAction.Warn => Effect.Warn,
            _ => Effect.Audit,
        };
        return finding.Outcome switch
        {
            Outcome.Fail => action,
            Outcome.Unknown => rule.WhenUnknown switch
            {
                WhenUnknown.Fail => action,
                WhenUnknown.Warn => action == Effect.Audit ? Effect.Audit : Effect.Warn,
                _ => Effect.None,
            },
            _ => Effect.None,
        };
    }
}
