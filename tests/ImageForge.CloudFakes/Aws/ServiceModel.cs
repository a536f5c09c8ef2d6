using System.Collections.Concurrent;
using System.Text.Json;
using ImageForge.TestUtils;

namespace ImageForge.CloudFakes.Aws;

/// <summary>One botocore service model (<c>service-2.json</c>): its operations and shapes, read as they are.</summary>
internal sealed class ServiceModel
{
    private static readonly ConcurrentDictionary<string, ServiceModel> Loaded = new();

    private ServiceModel(JsonElement root)
    {
        var metadata = root.GetProperty("metadata");
        Protocol = metadata.GetProperty("protocol").GetString()!;
        ApiVersion = metadata.GetProperty("apiVersion").GetString()!;
        XmlNamespace = metadata.TryGetProperty("xmlNamespace", out var ns) ? ns.GetString() : null;
        TargetPrefix = metadata.TryGetProperty("targetPrefix", out var tp) ? tp.GetString() : null;
        foreach (var shape in root.GetProperty("shapes").EnumerateObject())
        {
            Shapes[shape.Name] = new Shape(this, shape.Name, shape.Value);
        }

        foreach (var op in root.GetProperty("operations").EnumerateObject())
        {
            Operations[op.Name] = new Operation(this, op.Name, op.Value);
        }
    }

    public string Protocol { get; }

    public string ApiVersion { get; }

    public string? XmlNamespace { get; }

    public string? TargetPrefix { get; }

    public Dictionary<string, Operation> Operations { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Shape> Shapes { get; } = new(StringComparer.Ordinal);

    /// <summary>The model in <c>tests/specs/&lt;folder&gt;/service-2.json</c>, read once per process.</summary>
    public static ServiceModel Load(string specFolder) =>
        Loaded.GetOrAdd(
            specFolder,
            folder =>
            {
                using var document = JsonDocument.Parse(
                    File.ReadAllBytes(Path.Combine(RepoPaths.Specs, folder, "service-2.json"))
                );
                return new ServiceModel(document.RootElement.Clone());
            }
        );
}

/// <summary>A model operation: its HTTP binding and its input and output shapes.</summary>
internal sealed class Operation
{
    public Operation(ServiceModel model, string name, JsonElement json)
    {
        Name = name;
        var http = json.GetProperty("http");
        Method = http.GetProperty("method").GetString()!;
        RequestUri = http.GetProperty("requestUri").GetString()!;
        Input = json.TryGetProperty("input", out var input)
            ? model.Shapes[input.GetProperty("shape").GetString()!]
            : null;
        if (json.TryGetProperty("output", out var output))
        {
            Output = model.Shapes[output.GetProperty("shape").GetString()!];
            ResultWrapper = output.TryGetProperty("resultWrapper", out var wrapper)
                ? wrapper.GetString()
                : null;
        }
    }

    public string Name { get; }

    public string Method { get; }

    public string RequestUri { get; }

    public Shape? Input { get; }

    public Shape? Output { get; }

    public string? ResultWrapper { get; }
}

/// <summary>A model shape (structure, list, map or scalar) with the constraints botocore states.</summary>
internal sealed class Shape
{
    private readonly ServiceModel _model;
    private readonly JsonElement _json;
    private Dictionary<string, Member>? _members;

    public Shape(ServiceModel model, string name, JsonElement json)
    {
        _model = model;
        _json = json;
        Name = name;
        Type = json.GetProperty("type").GetString()!;
        Required = json.TryGetProperty("required", out var required)
            ? [.. required.EnumerateArray().Select(r => r.GetString()!)]
            : [];
        Enum = json.TryGetProperty("enum", out var values)
            ? [.. values.EnumerateArray().Select(v => v.GetString()!)]
            : null;
        Min = json.TryGetProperty("min", out var min) ? min.GetDouble() : null;
        Max = json.TryGetProperty("max", out var max) ? max.GetDouble() : null;
        Flattened = json.TryGetProperty("flattened", out var f) && f.GetBoolean();
        LocationName = json.TryGetProperty("locationName", out var ln) ? ln.GetString() : null;
        Payload = json.TryGetProperty("payload", out var p) ? p.GetString() : null;
        TimestampFormat = json.TryGetProperty("timestampFormat", out var tf)
            ? tf.GetString()
            : null;
    }

    public string Name { get; }

    /// <summary>structure, list, map, string, integer, long, float, double, boolean, timestamp, blob.</summary>
    public string Type { get; }

    public HashSet<string> Required { get; }

    public HashSet<string>? Enum { get; }

    public double? Min { get; }

    public double? Max { get; }

    public bool Flattened { get; }

    public string? LocationName { get; }

    /// <summary>rest-xml: the member that is the HTTP body.</summary>
    public string? Payload { get; }

    public string? TimestampFormat { get; }

    /// <summary>A structure's members by name, in model order.</summary>
    public Dictionary<string, Member> Members =>
        _members ??= _json.TryGetProperty("members", out var members)
            ? members
                .EnumerateObject()
                .ToDictionary(m => m.Name, m => new Member(_model, m.Name, m.Value))
            : [];

    /// <summary>A list's element.</summary>
    public Member ListMember => new(_model, "member", _json.GetProperty("member"));

    public Member MapKey => new(_model, "key", _json.GetProperty("key"));

    public Member MapValue => new(_model, "value", _json.GetProperty("value"));

    public bool IsScalar => Type is not ("structure" or "list" or "map");
}

/// <summary>A structure member (or a list element, a map key or value): its shape and how it is serialized.</summary>
internal sealed class Member(ServiceModel model, string name, JsonElement json)
{
    public string Name { get; } = name;

    public Shape Shape { get; } = model.Shapes[json.GetProperty("shape").GetString()!];

    public string? LocationName { get; } = Text(json, "locationName");

    public string? QueryName { get; } = Text(json, "queryName");

    /// <summary>rest protocols: uri, header, headers, querystring, statusCode; null for the body.</summary>
    public string? Location { get; } = Text(json, "location");

    public bool Streaming { get; } = json.TryGetProperty("streaming", out var s) && s.GetBoolean();

    public bool Flattened { get; } = json.TryGetProperty("flattened", out var f) && f.GetBoolean();

    public bool IdempotencyToken { get; } =
        json.TryGetProperty("idempotencyToken", out var t) && t.GetBoolean();

    private static string? Text(JsonElement json, string property) =>
        json.TryGetProperty(property, out var value) ? value.GetString() : null;
}
