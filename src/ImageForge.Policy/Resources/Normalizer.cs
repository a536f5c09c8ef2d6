using ImageForge.Policy.Plans;

namespace ImageForge.Policy.Resources;

/// <summary>
/// Turns a plan's resources into the normalized resources rules see. Each cloud's types are read by its own reader
/// (<see cref="AwsResources"/>, <see cref="AzureResources"/>, <see cref="GcpResources"/>); an unknown planned value
/// stays <see cref="UnknownValue"/>, never a default.
/// </summary>
internal static class Normalizer
{
    public static IReadOnlyList<NormalizedResource> Normalize(PlanDocument plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var resources = new List<NormalizedResource>();
        AwsResources.Read(plan, resources);
        AzureResources.Read(plan, resources);
        GcpResources.Read(plan, resources);
        return resources;
    }

    /// <summary>A string attribute: unknown, null (also for an empty string), or the text.</summary>
    public static ResourceAttribute Text(PlanNode node) =>
        new(node.IsUnknown ? UnknownValue.Instance : Blank(node.Text()), node.Path);

    /// <summary>A lowercase string attribute (protocols and actions are written in any case by the clouds).</summary>
    public static ResourceAttribute Lower(PlanNode node, Func<string, string>? map = null) =>
        Text(node) switch
        {
            { Value: string s } a => a with
            {
                Value = map is null ? s.ToLowerInvariant() : map(s.ToLowerInvariant()),
            },
            var a => a,
        };

    /// <summary>The elements of a list of strings; an unknown list is one unknown element.</summary>
    public static IEnumerable<(ResourceAttribute Value, string Suffix)> Each(
        PlanNode list,
        string name
    )
    {
        if (list.IsUnknown)
        {
            yield return (new ResourceAttribute(UnknownValue.Instance, list.Path), $".{name}");
            yield break;
        }
        var items = list.Items();
        for (var i = 0; i < items.Count; i++)
        {
            var text = Text(items[i]);
            if (text.Value is not null)
            {
                yield return (text, $".{name}[{i}]");
            }
        }
    }

    /// <summary>A port range written <c>lo-hi</c>; <c>*</c> and null bounds are every port.</summary>
    public static string Range(long? from, long? to) =>
        from is null or < 0 || to is null or < 0 ? AllPorts
        : from == to ? $"{from}"
        : $"{from}-{to}";

    public const string AllPorts = "0-65535";

    /// <summary>Ports as a list attribute: unknown when either bound is.</summary>
    public static ResourceAttribute Ports(PlanNode from, PlanNode to, bool all) =>
        from.IsUnknown || to.IsUnknown ? new(UnknownValue.Instance, from.Path)
        : all ? new(new List<object?> { AllPorts }, from.Path)
        : new(new List<object?> { Range(from.Number(), to.Number()) }, from.Path);

    /// <summary>
    /// The customer-managed key a resource names: known, or unknown but referring to a key resource created in the
    /// same configuration (<paramref name="keyType"/>), which makes it customer-managed though its id is unknown.
    /// </summary>
    public static ResourceAttribute? CustomerKey(
        PlanDocument plan,
        PlannedResource resource,
        PlanNode key,
        string keyType
    )
    {
        if (key.IsUnknown)
        {
            var reference = plan.References(resource)
                .FirstOrDefault(r => TypeOf(r.Address) == keyType);
            return reference.Address is null
                ? new(UnknownValue.Instance, key.Path)
                : new(reference.Address, reference.Path);
        }
        return Blank(key.Text()) is { } id ? new(id, key.Path) : null;
    }

    /// <summary>The resource type of a configuration address (<c>module.m.aws_kms_key.k</c> → <c>aws_kms_key</c>).</summary>
    public static string TypeOf(string configAddress)
    {
        var parts = configAddress.Split('.');
        return parts.Length >= 2 ? parts[^2] : configAddress;
    }

    /// <summary>
    /// Every resource of <paramref name="attachmentType"/> by the resource it attaches to (<see cref="TargetIndex.Of"/>),
    /// worked out once per plan: a plan of thousands of buckets is joined in one pass, not one per bucket.
    /// </summary>
    public static ILookup<PlannedResource, PlannedResource> Attachments(
        PlanDocument plan,
        string attachmentType,
        string argument,
        string targetType,
        string targetKey
    )
    {
        var targets = new TargetIndex(plan, targetType, targetKey);
        return plan
            .Resources.Where(r => r.Type == attachmentType)
            .SelectMany(a => targets.Of(plan, a, argument).Select(t => (Target: t, a)))
            .ToLookup<
                (PlannedResource Target, PlannedResource a),
                PlannedResource,
                PlannedResource
            >(p => p.Target, p => p.a, ReferenceEqualityComparer.Instance);
    }

    /// <summary>
    /// The resources of one type a separate resource may attach to, indexed by their key's known value and by their
    /// configuration address.
    /// </summary>
    private sealed class TargetIndex
    {
        private readonly ILookup<string, PlannedResource> _byKey;
        private readonly ILookup<string, PlannedResource> _byConfig;
        private readonly string _targetType;

        public TargetIndex(PlanDocument plan, string targetType, string targetKey)
        {
            var candidates = plan.Resources.Where(r => r.Type == targetType).ToList();
            _targetType = targetType;
            _byKey = candidates
                .Select(c => (Key: c.After.Member(targetKey).Text(), c))
                .Where(k => k.Key is not null)
                .ToLookup(k => k.Key!, k => k.c, StringComparer.Ordinal);
            _byConfig = candidates.ToLookup(c => c.ConfigAddress, StringComparer.Ordinal);
        }

        /// <summary>
        /// The targets <paramref name="attachment"/> attaches to through <paramref name="argument"/>: by a known value
        /// equal to the target's key, else by the configuration's reference (the instance with the same key when
        /// there is one, else every instance).
        /// </summary>
        public IEnumerable<PlannedResource> Of(
            PlanDocument plan,
            PlannedResource attachment,
            string argument
        )
        {
            var value = attachment.After.Member(argument);
            if (!value.IsUnknown && value.Text() is { } known)
            {
                return _byKey[known];
            }
            var matching = plan.References(attachment)
                .Select(r => r.Address)
                .Where(a => TypeOf(a) == _targetType)
                .Distinct(StringComparer.Ordinal)
                .SelectMany(a => _byConfig[a])
                .ToList();
            var sameKey = matching.Where(c => c.Index == attachment.Index).ToList();
            return sameKey.Count > 0 ? sameKey : matching;
        }
    }

    /// <summary>Storage encryption as rules see it.</summary>
    public static NormalizedResource Bucket(
        PlannedResource resource,
        string provider,
        ResourceAttribute encryption,
        ResourceAttribute key,
        bool cloudDefault,
        ResourceAttribute name
    ) =>
        new ResourceBuilder(
            ResourceKinds.StorageBucket,
            resource.Address,
            resource.Type,
            provider,
            resource.After.Path
        )
            .Set("name", name)
            .Set("encryption", encryption)
            .Set("key", key)
            .Set("default_encryption", cloudDefault, encryption.Path)
            .Build();

    /// <summary>One inbound source of a rule, as rules see it.</summary>
    public static NormalizedResource Ingress(
        PlannedResource resource,
        string provider,
        string suffix,
        ResourceAttribute source,
        ResourceAttribute protocol,
        ResourceAttribute ports,
        ResourceAttribute access
    ) =>
        new ResourceBuilder(
            ResourceKinds.NetworkIngressRule,
            resource.Address + suffix,
            resource.Type,
            provider,
            resource.After.Path
        )
            .Set("source", source)
            .Set("protocol", protocol)
            .Set("ports", ports)
            .Set("access", access)
            .Build();

    /// <summary>A machine and the image it boots, as rules see it.</summary>
    public static NormalizedResource Vm(
        PlannedResource resource,
        string provider,
        ResourceAttribute image
    ) =>
        new ResourceBuilder(
            ResourceKinds.VmInstance,
            resource.Address,
            resource.Type,
            provider,
            resource.After.Path
        )
            .Set("image", image)
            .Build();

    private static string? Blank(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
