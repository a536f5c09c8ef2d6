namespace ImageForge.Policy.Resources;

/// <summary>The kinds of normalized resource a rule applies to: one kind for the same thing on every cloud.</summary>
public static class ResourceKinds
{
    /// <summary>An object-storage container: S3 bucket, Azure storage account, GCS bucket.</summary>
    public const string StorageBucket = "storage_bucket";

    /// <summary>One allowed or denied inbound source of a security group, NSG or firewall.</summary>
    public const string NetworkIngressRule = "network_ingress_rule";

    /// <summary>A virtual machine or launch template, with the image it boots.</summary>
    public const string VmInstance = "vm_instance";

    /// <summary>Every kind, in the order the documentation lists them.</summary>
    public static IReadOnlyList<string> All { get; } =
    [StorageBucket, NetworkIngressRule, VmInstance];
}

/// <summary>A value the plan knows only after apply: it compares with nothing and stays unknown.</summary>
internal sealed class UnknownValue
{
    public static readonly UnknownValue Instance = new();

    private UnknownValue() { }

    public override string ToString() => "(known after apply)";
}

/// <summary>
/// One attribute of a normalized resource: its value (a string, a whole number, a boolean, a list of strings, null,
/// or <see cref="UnknownValue"/>), and the place in the plan that decided it.
/// </summary>
internal sealed record ResourceAttribute(object? Value, string Path)
{
    public bool Unknown => Value is UnknownValue;
}

/// <summary>
/// A resource of the plan in the shape rules see, the same on every cloud. <see cref="Address"/> names it precisely
/// (an inline block's source is <c>aws_security_group.web.ingress[0].cidr_blocks[1]</c>).
/// </summary>
internal sealed record NormalizedResource(
    string Kind,
    string Address,
    string Type,
    string Provider,
    string Path,
    IReadOnlyDictionary<string, ResourceAttribute> Attributes
);

/// <summary>Builds a <see cref="NormalizedResource"/>: every attribute of its kind set, in order.</summary>
internal sealed class ResourceBuilder(
    string kind,
    string address,
    string type,
    string provider,
    string path
)
{
    private readonly Dictionary<string, ResourceAttribute> _attributes = new(
        StringComparer.Ordinal
    );

    public ResourceBuilder Set(string name, object? value, string path)
    {
        _attributes[name] = new ResourceAttribute(value, path);
        return this;
    }

    public ResourceBuilder Set(string name, ResourceAttribute attribute)
    {
        _attributes[name] = attribute;
        return this;
    }

    public NormalizedResource Build() => new(kind, address, type, provider, path, _attributes);
}
