using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;

namespace ImageForge.Policy.Plans;

/// <summary>
/// One resource a Terraform plan would create, update or keep (<c>resource_changes[i]</c> of
/// <c>terraform show -json</c>), with its planned values and which of them are unknown until apply.
/// </summary>
/// <param name="Address">The instance address (<c>module.net.aws_security_group.web[0]</c>).</param>
/// <param name="ConfigAddress">The configuration address, without instance keys (<c>module.net.aws_security_group.web</c>).</param>
/// <param name="Index">The instance key as written in the address (<c>[0]</c>, <c>["a"]</c>), empty without one.</param>
/// <param name="Type">The resource type (<c>aws_security_group</c>).</param>
/// <param name="After">The planned values, at <c>resource_changes[i].change.after</c>.</param>
internal sealed record PlannedResource(
    string Address,
    string ConfigAddress,
    string Index,
    string Type,
    PlanNode After
);

/// <summary>
/// A Terraform JSON plan read for policy: the managed resources that will exist after apply, and the references
/// written in the configuration (what joins a bucket to its separate encryption resource while ids are unknown).
/// Read through <see cref="JsonInput"/>: size and nesting are bounded, every wrong shape names the file and path.
/// </summary>
internal sealed partial class PlanDocument : IDisposable
{
    /// <summary>The largest plan checked: 32 MiB (a plan of thousands of resources is a few MiB).</summary>
    public const long MaxBytes = 32L * 1024 * 1024;

    private const string What =
        "a Terraform JSON plan ('terraform show -json plan.out > plan.json')";

    private readonly JsonDocument _document;
    private readonly Dictionary<string, JsonValueAt> _configuration;

    private PlanDocument(
        JsonDocument document,
        string file,
        IReadOnlyList<PlannedResource> resources,
        Dictionary<string, JsonValueAt> configuration
    )
    {
        _document = document;
        File = file;
        Resources = resources;
        _configuration = configuration;
    }

    /// <summary>The file read.</summary>
    public string File { get; }

    /// <summary>Every managed resource that exists after apply (pure deletions are left out).</summary>
    public IReadOnlyList<PlannedResource> Resources { get; }

    /// <summary>Reads <paramref name="file"/>; anything but a plan of format 0.x or 1.x is an <see cref="InvalidInputException"/>.</summary>
    public static PlanDocument Read(string file) =>
        Parse(JsonInput.ParseObjectFile(file, What, MaxBytes), file);

    /// <summary>
    /// Reads a plan already in memory (a request's body); <paramref name="name"/> stands for the file in errors.
    /// </summary>
    public static PlanDocument Read(ReadOnlyMemory<byte> json, string name) =>
        Parse(JsonInput.ParseObject(json, name, What), name);

    private static PlanDocument Parse(JsonDocument document, string file)
    {
        try
        {
            var root = JsonValueAt.Root(document, file);
            CheckFormat(root);
            var resources = new List<PlannedResource>();
            foreach (var change in root.Optional("resource_changes")?.Items() ?? [])
            {
                if (change.OptionalString("mode") == "data")
                {
                    continue;
                }
                var body = change.Required("change");
                var actions = body.Required("actions").Items().Select(a => a.AsString()).ToList();
                if (actions is ["delete"] || body.Optional("after") is not { } after)
                {
                    continue;
                }
                var address = change.Required("address").AsString();
                var index = IndexOf(address);
                resources.Add(
                    new PlannedResource(
                        address,
                        ConfigAddressOf(address),
                        index,
                        change.Required("type").AsString(),
                        new PlanNode(after, body.Optional("after_unknown")?.Value)
                    )
                );
            }
            var configuration = new Dictionary<string, JsonValueAt>(StringComparer.Ordinal);
            if (root.Optional("configuration")?.Optional("root_module") is { } module)
            {
                CollectConfiguration(module, "", configuration);
            }
            return new PlanDocument(document, file, resources, configuration);
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The addresses the configuration of <paramref name="resource"/> refers to anywhere in its expressions, resolved
    /// in its module (<c>aws_kms_key.k.arn</c> → <c>module.m.aws_kms_key.k</c>), with the path where each is written.
    /// </summary>
    public IReadOnlyList<(string Address, string Path)> References(PlannedResource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (!_configuration.TryGetValue(resource.ConfigAddress, out var config))
        {
            return [];
        }
        var module = ModuleOf(resource.ConfigAddress);
        var found = new List<(string, string)>();
        if (config.Optional("expressions") is { } expressions)
        {
            CollectReferences(expressions, module, found);
        }
        return found;
    }

    /// <summary>True when the configuration of <paramref name="resource"/> writes the argument or block <paramref name="name"/>.</summary>
    public bool Configures(PlannedResource resource, string name)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return _configuration.TryGetValue(resource.ConfigAddress, out var config)
            && config.Optional("expressions") is { Kind: JsonValueKind.Object } expressions
            && expressions.Value.TryGetProperty(name, out _);
    }

    public void Dispose() => _document.Dispose();

    private static void CheckFormat(JsonValueAt root)
    {
        var format =
            root.Optional("format_version")?.AsString()
            ?? throw root.Error(
                "$.format_version is missing; is this the output of 'terraform show -json' on a plan?"
            );
        var major = format.Split('.')[0];
        if (major is not ("0" or "1"))
        {
            throw root.Error(
                $"$.format_version: '{format}' is a plan format this imageforge does not know (it reads 0.x and 1.x); "
                    + "check the plan with a Terraform release that writes format 1.x, or upgrade imageforge"
            );
        }
    }

    private static void CollectConfiguration(
        JsonValueAt module,
        string prefix,
        Dictionary<string, JsonValueAt> into
    )
    {
        foreach (var resource in module.Optional("resources")?.Items() ?? [])
        {
            if (resource.OptionalString("mode") == "data")
            {
                continue;
            }
            into[prefix + resource.Required("address").AsString()] = resource;
        }
        if (module.Optional("module_calls") is { } calls)
        {
            foreach (var call in calls.AsObject().Value.EnumerateObject())
            {
                var at = calls.Required(call.Name);
                if (at.Optional("module") is { } child)
                {
                    CollectConfiguration(child, $"{prefix}module.{call.Name}.", into);
                }
            }
        }
    }

    private static void CollectReferences(
        JsonValueAt value,
        string module,
        List<(string, string)> found
    )
    {
        switch (value.Kind)
        {
            case JsonValueKind.Object:
                foreach (var member in value.Value.EnumerateObject())
                {
                    var at = value.Required(member.Name);
                    if (member.Name == "references" && at.Kind == JsonValueKind.Array)
                    {
                        foreach (var reference in at.Items())
                        {
                            if (
                                reference.Kind == JsonValueKind.String
                                && Resolve(reference.AsString(), module) is { } address
                            )
                            {
                                found.Add((address, reference.Path));
                            }
                        }
                    }
                    else
                    {
                        CollectReferences(at, module, found);
                    }
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in value.Items())
                {
                    CollectReferences(item, module, found);
                }
                break;
        }
    }

    // "aws_kms_key.k.arn" names the managed resource aws_kms_key.k; variables, locals, data sources, module outputs
    // and each/count are not resources of the plan.
    private static string? Resolve(string reference, string module)
    {
        var parts = ConfigAddressOf(reference).Split('.');
        return
            parts.Length >= 2
            && parts[0]
                is not (
                    "var"
                    or "local"
                    or "data"
                    or "module"
                    or "each"
                    or "count"
                    or "self"
                    or "path"
                )
            ? $"{module}{parts[0]}.{parts[1]}"
            : null;
    }

    private static string ModuleOf(string configAddress)
    {
        var parts = configAddress.Split('.');
        return parts.Length > 2 ? string.Join('.', parts[..^2]) + "." : "";
    }

    private static string ConfigAddressOf(string address) => InstanceKey().Replace(address, "");

    private static string IndexOf(string address) =>
        InstanceKey().Matches(address) is { Count: > 0 } m ? m[^1].Value : "";

    [GeneratedRegex("""\[(?:\d+|"(?:[^"\\]|\\.)*")\]""", RegexOptions.CultureInvariant)]
    private static partial Regex InstanceKey();
}

/// <summary>
/// A planned value with the matching part of <c>after_unknown</c>: Terraform writes <c>true</c> there for a value
/// known only after apply, and mirrors nested blocks as objects and arrays.
/// </summary>
internal readonly record struct PlanNode(JsonValueAt? Value, JsonElement? Unknown, string Path)
{
    /// <summary>A value read from the plan (its path is the value's own).</summary>
    public PlanNode(JsonValueAt value, JsonElement? unknown)
        : this(value, unknown, value.Path) { }

    /// <summary>True when the value is known only after apply.</summary>
    public bool IsUnknown => Unknown is { ValueKind: JsonValueKind.True };

    /// <summary>True when the value is known and null or absent.</summary>
    public bool IsNull => !IsUnknown && Value is null;

    /// <summary>The member <paramref name="name"/> (and whether it is unknown).</summary>
    public PlanNode Member(string name) =>
        new(
            Value is { Kind: JsonValueKind.Object } v ? v.Optional(name) : null,
            Unknown is { ValueKind: JsonValueKind.Object } u && u.TryGetProperty(name, out var m)
                ? m
                : null,
            $"{Path}.{name}"
        );

    /// <summary>The elements of a list or set value (a known null is no elements).</summary>
    public IReadOnlyList<PlanNode> Items()
    {
        if (Value is not { } v)
        {
            return [];
        }
        var unknown = Unknown is { ValueKind: JsonValueKind.Array } u ? u : (JsonElement?)null;
        var items = v.Items();
        return
        [
            .. items.Select(
                (item, i) =>
                    new PlanNode(
                        item,
                        unknown is { } a && i < a.GetArrayLength() ? a[i] : null,
                        item.Path
                    )
            ),
        ];
    }

    /// <summary>The first element of a list of blocks; a known null element when there is none.</summary>
    public PlanNode First() =>
        IsUnknown ? this
        : Items() is [var first, ..] ? first
        : new(null, null, $"{Path}[0]");

    /// <summary>True when this list, or any of its elements or their members, is unknown.</summary>
    public bool AnyUnknown => IsUnknown || (Unknown is { } u && ContainsTrue(u));

    /// <summary>The value as a string (numbers written as Terraform writes them), null when null or unknown.</summary>
    public string? Text() =>
        Value switch
        {
            { Kind: JsonValueKind.String } v => v.AsString(),
            { Kind: JsonValueKind.Number } v => v.Value.GetRawText(),
            { Kind: JsonValueKind.True } => "true",
            { Kind: JsonValueKind.False } => "false",
            null => null,
            { } v => throw v.Error(
                $"{v.Path}: expected a string or number, found {JsonInput.Describe(v.Kind)}"
            ),
        };

    /// <summary>The value as a whole number, null when null or unknown.</summary>
    public long? Number() =>
        Value switch
        {
            { Kind: JsonValueKind.Number } v when v.Value.TryGetInt64(out var n) => n,
            { Kind: JsonValueKind.String } v
                when long.TryParse(
                    v.AsString(),
                    NumberStyles.Integer,
                    CultureInfo.InvariantCulture,
                    out var n
                ) => n,
            null => null,
            { } v => throw v.Error(
                $"{v.Path}: expected a whole number, found {JsonInput.Describe(v.Kind)}"
            ),
        };

    /// <summary>The value as a boolean, null when null or unknown.</summary>
    public bool? Flag() =>
        Value switch
        {
            { Kind: JsonValueKind.True } => true,
            { Kind: JsonValueKind.False } => false,
            null => null,
            { } v => throw v.Error(
                $"{v.Path}: expected a boolean, found {JsonInput.Describe(v.Kind)}"
            ),
        };

    private static bool ContainsTrue(JsonElement element) =>
        element.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.Object => element.EnumerateObject().Any(p => ContainsTrue(p.Value)),
            JsonValueKind.Array => element.EnumerateArray().Any(ContainsTrue),
            _ => false,
        };
}
