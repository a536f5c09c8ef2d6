using System.Text.Json.Nodes;

namespace ImageForge.CloudFakes.Aws;

/// <summary>Reading a decoded request tree (member names) and building output trees, for the services.</summary>
internal static class Tree
{
    public static string? Str(this JsonObject node, string name) => node[name]?.GetValue<string>();

    public static bool? Bool(this JsonObject node, string name) => node[name]?.GetValue<bool>();

    public static long? Long(this JsonObject node, string name) =>
        node[name] is { } n ? (long)ModelValidator.Number(n) : null;

    public static DateTimeOffset? Time(this JsonObject node, string name) =>
        ModelValidator.Timestamp(node[name]);

    public static JsonObject? Obj(this JsonObject node, string name) => node[name] as JsonObject;

    public static IEnumerable<JsonObject> Objects(this JsonObject node, string name) =>
        (node[name] as JsonArray)?.OfType<JsonObject>() ?? [];

    public static IEnumerable<string> Strings(this JsonObject node, string name) =>
        (node[name] as JsonArray)?.Select(x => x!.GetValue<string>()) ?? [];

    /// <summary>An output object from pairs; null values are left out, as AWS leaves out absent members.</summary>
    public static JsonObject Object(params (string Name, object? Value)[] members)
    {
        var obj = new JsonObject();
        foreach (var (name, value) in members)
        {
            if (value is not null)
            {
                obj[name] = Node(value);
            }
        }

        return obj;
    }

    public static JsonArray List(IEnumerable<object> items) => new([.. items.Select(Node)]);

    /// <summary>EC2's and SSM's tag list shape: <c>[{Key, Value}]</c>.</summary>
    public static JsonArray Tags(IReadOnlyDictionary<string, string> tags) =>
        List(tags.Select(t => Object(("Key", t.Key), ("Value", t.Value))));

    private static JsonNode? Node(object value) =>
        value switch
        {
            JsonNode node => node.DeepClone(),
            string s => JsonValue.Create(s),
            bool b => JsonValue.Create(b),
            int i => JsonValue.Create(i),
            long l => JsonValue.Create(l),
            double d => JsonValue.Create(d),
            DateTimeOffset t => JsonValue.Create(t),
            _ => throw new ArgumentException($"no output node for {value.GetType()}"),
        };
}
