using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace ImageForge.CloudFakes.Aws;

/// <summary>An error a fake answers in its service's own format (the SDK raises it as that service's exception).</summary>
internal sealed class AwsException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    /// <summary>Extra elements S3 puts in its error body (Key, BucketName, CanonicalRequest...).</summary>
    public Dictionary<string, string> Extra { get; } = [];
}

/// <summary>A request as its protocol decoded it: the operation (null when the model has none of that name),
/// the input as a tree of member names, and every way it broke the model.</summary>
internal sealed record ParsedRequest(
    string OperationName,
    Operation? Operation,
    JsonObject Input,
    List<Violation> Violations
);

/// <summary>What an operation answers: the output tree and, for a blob payload (GetObject), the body.</summary>
internal sealed record AwsResult(JsonObject Output, byte[]? Payload = null);

/// <summary>One wire protocol of botocore: decode a request, encode a result or an error.</summary>
internal interface IAwsProtocol
{
    Task<ParsedRequest> ReadAsync(HttpContext http, byte[]? body);

    Task WriteResultAsync(
        HttpContext http,
        Operation operation,
        AwsResult result,
        string requestId
    );

    Task WriteErrorAsync(HttpContext http, AwsException error, string requestId);
}

/// <summary>Shapes to and from XML (ec2, query and rest-xml share the element rules).</summary>
internal static class XmlShapes
{
    /// <summary>The body members of <paramref name="value"/> as elements; a member the model lacks is a fake bug.</summary>
    public static IEnumerable<XElement> Elements(XNamespace ns, Shape shape, JsonObject value)
    {
        foreach (var (name, node) in value)
        {
            if (node is null)
            {
                continue;
            }

            var member = Member(shape, name);
            if (member.Location is not null)
            {
                continue;
            }

            foreach (
                var element in Elements(
                    ns,
                    member.LocationName ?? name,
                    member.Shape,
                    node,
                    member.Flattened
                )
            )
            {
                yield return element;
            }
        }
    }

    public static Member Member(Shape shape, string name) =>
        shape.Members.TryGetValue(name, out var member)
            ? member
            : throw new InvalidOperationException($"fake bug: {shape.Name} has no member {name}");

    private static IEnumerable<XElement> Elements(
        XNamespace ns,
        string name,
        Shape shape,
        JsonNode node,
        bool flattened
    )
    {
        switch (shape.Type)
        {
            case "structure":
                yield return new XElement(ns + name, Elements(ns, shape, node.AsObject()));
                break;
            case "list":
                var item = shape.ListMember;
                var items = node.AsArray()
                    .SelectMany(x =>
                        Elements(
                            ns,
                            flattened || shape.Flattened
                                ? item.LocationName ?? name
                                : item.LocationName ?? "member",
                            item.Shape,
                            x!,
                            false
                        )
                    );
                if (flattened || shape.Flattened)
                {
                    foreach (var element in items)
                    {
                        yield return element;
                    }
                }
                else
                {
                    yield return new XElement(ns + name, items);
                }

                break;
            case "map":
                yield return new XElement(
                    ns + name,
                    node.AsObject()
                        .Select(e => new XElement(
                            ns + "entry",
                            new XElement(ns + (shape.MapKey.LocationName ?? "key"), e.Key),
                            Elements(
                                ns,
                                shape.MapValue.LocationName ?? "value",
                                shape.MapValue.Shape,
                                e.Value!,
                                false
                            )
                        ))
                );
                break;
            default:
                yield return new XElement(ns + name, Text(shape, node, header: false));
                break;
        }
    }

    /// <summary>A scalar as text: ISO 8601 timestamps in bodies, RFC 822 in headers unless the shape says otherwise.</summary>
    public static string Text(Shape shape, JsonNode node, bool header) =>
        shape.Type switch
        {
            "timestamp" => Timestamp(
                ModelValidator.Timestamp(node)
                    ?? throw new InvalidOperationException($"fake bug: {node} is no timestamp"),
                shape.TimestampFormat ?? (header ? "rfc822" : "iso8601")
            ),
            "boolean" => node.GetValue<bool>() ? "true" : "false",
            "string" or "blob" => node.GetValue<string>(),
            _ => node.ToJsonString(),
        };

    private static string Timestamp(DateTimeOffset value, string format) =>
        format switch
        {
            "rfc822" => value.ToString("R", CultureInfo.InvariantCulture),
            "unixTimestamp" => value.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            _ => value.UtcDateTime.ToString(
                "yyyy-MM-dd'T'HH:mm:ss.fff'Z'",
                CultureInfo.InvariantCulture
            ),
        };

    /// <summary>A request body element read by its structure shape; unknown elements are violations.</summary>
    public static JsonObject Read(XElement element, Shape shape, string path, List<Violation> found)
    {
        var obj = new JsonObject();
        foreach (var child in element.Elements())
        {
            var local = child.Name.LocalName;
            var hit = shape.Members.FirstOrDefault(m =>
                (m.Value.LocationName ?? m.Key) == local
                || (
                    m.Value.Shape.Type == "list"
                    && m.Value.Shape.Flattened
                    && m.Value.Shape.ListMember.LocationName == local
                )
            );
            if (hit.Value is null)
            {
                found.Add(new(ViolationKind.UnknownMember, $"{path}.{local}", "not in the model"));
                continue;
            }

            var (name, member) = hit;
            var childPath = $"{path}.{name}";
            if (member.Shape.Type == "list")
            {
                var list = obj[name] as JsonArray ?? [];
                obj[name] = list;
                var itemShape = member.Shape.ListMember.Shape;
                foreach (var item in member.Shape.Flattened ? [child] : child.Elements())
                {
                    list.Add(ReadValue(item, itemShape, childPath, found));
                }
            }
            else
            {
                obj[name] = ReadValue(child, member.Shape, childPath, found);
            }
        }

        return obj;
    }

    private static JsonNode? ReadValue(
        XElement element,
        Shape shape,
        string path,
        List<Violation> found
    ) =>
        shape.Type == "structure"
            ? Read(element, shape, path, found)
            : ModelValidator.FromText(shape, element.Value);
}

/// <summary>
/// botocore's <c>ec2</c> and <c>query</c> protocols: a form of <c>Action</c>, <c>Version</c> and members named by
/// their serialized names (ec2: <c>queryName</c>, else <c>locationName</c> capitalized, else the member name; lists as
/// <c>Name.N</c>; query: <c>locationName</c> or the name, lists as <c>Name.member.N</c> unless flattened), answered in
/// XML with the output shape's <c>locationName</c>s.
/// </summary>
internal sealed class QueryProtocol(ServiceModel model) : IAwsProtocol
{
    private bool Ec2 => model.Protocol == "ec2";

    public Task<ParsedRequest> ReadAsync(HttpContext http, byte[]? body)
    {
        var form = new Dictionary<string, string>(StringComparer.Ordinal);
        var pairs = QueryHelpers
            .ParseQuery(Encoding.UTF8.GetString(body ?? []))
            .Concat(QueryHelpers.ParseQuery(http.Request.QueryString.Value));
        foreach (var (key, values) in pairs)
        {
            form[key] = values.ToString();
        }

        var action = form.GetValueOrDefault("Action") ?? "";
        if (!model.Operations.TryGetValue(action, out var operation))
        {
            return Task.FromResult(
                new ParsedRequest(
                    action,
                    null,
                    [],
                    [
                        new(
                            ViolationKind.UnknownOperation,
                            "Action",
                            $"'{action}' is not an operation of the model"
                        ),
                    ]
                )
            );
        }

        var used = new HashSet<string>(StringComparer.Ordinal) { "Action", "Version" };
        var input = operation.Input is null
            ? []
            : (JsonObject?)Read(operation.Input, "", false, form, used) ?? [];
        var violations = form
            .Keys.Where(k => !used.Contains(k))
            .Select(k => new Violation(ViolationKind.UnknownMember, k, "not in the model"))
            .ToList();
        if (operation.Input is not null)
        {
            ModelValidator.Validate(operation.Input, input, "", violations);
        }

        return Task.FromResult(new ParsedRequest(action, operation, input, violations));
    }

    private JsonNode? Read(
        Shape shape,
        string key,
        bool flattened,
        Dictionary<string, string> form,
        HashSet<string> used
    )
    {
        if (shape.IsScalar)
        {
            if (!form.TryGetValue(key, out var text))
            {
                return null;
            }

            used.Add(key);
            return ModelValidator.FromText(shape, text);
        }

        var nested = key.Length == 0 ? "" : key + ".";
        if (
            key.Length > 0
            && !form.Keys.Any(k => k.StartsWith(nested, StringComparison.Ordinal) || k == key)
        )
        {
            return null;
        }

        switch (shape.Type)
        {
            case "structure":
                var obj = new JsonObject();
                foreach (var (name, member) in shape.Members)
                {
                    var child = Read(
                        member.Shape,
                        nested + WireName(member),
                        member.Flattened,
                        form,
                        used
                    );
                    if (child is not null)
                    {
                        obj[name] = child;
                    }
                }

                return obj.Count == 0 && key.Length > 0 ? null : obj;
            case "list":
                if (!Ec2 && form.TryGetValue(key, out var empty) && empty.Length == 0)
                {
                    used.Add(key); // the query protocol's empty list
                    return new JsonArray();
                }

                var prefix =
                    Ec2 || flattened || shape.Flattened
                        ? key
                        : $"{key}.{shape.ListMember.LocationName ?? "member"}";
                var items = Indices(prefix, form)
                    .Select(i =>
                        Read(shape.ListMember.Shape, $"{prefix}.{i}", false, form, used)
                        ?? new JsonObject()
                    );
                return new JsonArray([.. items]);
            default: // map
                var entries = flattened || shape.Flattened ? key : key + ".entry";
                var map = new JsonObject();
                foreach (var i in Indices(entries, form))
                {
                    var keyName = $"{entries}.{i}.{shape.MapKey.LocationName ?? "key"}";
                    if (form.TryGetValue(keyName, out var mapKey))
                    {
                        used.Add(keyName);
                        map[mapKey] = Read(
                            shape.MapValue.Shape,
                            $"{entries}.{i}.{shape.MapValue.LocationName ?? "value"}",
                            false,
                            form,
                            used
                        );
                    }
                }

                return map;
        }
    }

    private static IEnumerable<int> Indices(string prefix, Dictionary<string, string> form) =>
        form
            .Keys.Where(k => k.StartsWith(prefix + ".", StringComparison.Ordinal))
            .Select(k => k[(prefix.Length + 1)..].Split('.')[0])
            .Select(s =>
                int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1
            )
            .Where(n => n >= 0)
            .Distinct()
            .Order();

    private string WireName(Member member)
    {
        if (!Ec2)
        {
            return member.LocationName ?? member.Name;
        }

        return member.QueryName
            ?? (
                member.LocationName is { Length: > 0 } l
                    ? char.ToUpperInvariant(l[0]) + l[1..]
                    : member.Name
            );
    }

    public Task WriteResultAsync(
        HttpContext http,
        Operation operation,
        AwsResult result,
        string requestId
    )
    {
        XNamespace ns = Ec2 ? model.XmlNamespace!.TrimEnd('/') + "/" : model.XmlNamespace!;
        var members = operation.Output is null
            ? []
            : XmlShapes.Elements(ns, operation.Output, result.Output).ToList();
        var root = Ec2
            ? new XElement(
                ns + $"{operation.Name}Response",
                new XElement(ns + "requestId", requestId),
                members
            )
            : new XElement(
                ns + $"{operation.Name}Response",
                new XElement(ns + (operation.ResultWrapper ?? operation.Name + "Result"), members),
                new XElement(ns + "ResponseMetadata", new XElement(ns + "RequestId", requestId))
            );
        return WriteXmlAsync(http, 200, root);
    }

    public Task WriteErrorAsync(HttpContext http, AwsException error, string requestId)
    {
        XElement root;
        if (Ec2)
        {
            root = new XElement(
                "Response",
                new XElement(
                    "Errors",
                    new XElement(
                        "Error",
                        new XElement("Code", error.Code),
                        new XElement("Message", error.Message)
                    )
                ),
                new XElement("RequestID", requestId)
            );
        }
        else
        {
            XNamespace ns = model.XmlNamespace!;
            root = new XElement(
                ns + "ErrorResponse",
                new XElement(
                    ns + "Error",
                    new XElement(ns + "Type", error.Status >= 500 ? "Receiver" : "Sender"),
                    new XElement(ns + "Code", error.Code),
                    new XElement(ns + "Message", error.Message)
                ),
                new XElement(ns + "RequestId", requestId)
            );
        }

        return WriteXmlAsync(http, error.Status, root);
    }

    public static Task WriteXmlAsync(HttpContext http, int status, XElement root)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/xml";
        return http.Response.WriteAsync(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                + root.ToString(SaveOptions.DisableFormatting)
        );
    }
}

/// <summary>botocore's <c>json</c> protocol (1.1): <c>X-Amz-Target: Prefix.Operation</c> and a JSON body of member names.</summary>
internal sealed class JsonProtocol(ServiceModel model) : IAwsProtocol
{
    public Task<ParsedRequest> ReadAsync(HttpContext http, byte[]? body)
    {
        var target = http.Request.Headers["X-Amz-Target"].ToString();
        var name = target.StartsWith(model.TargetPrefix + ".", StringComparison.Ordinal)
            ? target[(model.TargetPrefix!.Length + 1)..]
            : "";
        if (!model.Operations.TryGetValue(name, out var operation))
        {
            return Task.FromResult(
                new ParsedRequest(
                    target,
                    null,
                    [],
                    [
                        new(
                            ViolationKind.UnknownOperation,
                            "X-Amz-Target",
                            $"'{target}' is not an operation of the model"
                        ),
                    ]
                )
            );
        }

        JsonObject input;
        var violations = new List<Violation>();
        try
        {
            input = body is { Length: > 0 }
                ? JsonNode.Parse(body) as JsonObject ?? throw new JsonException("not an object")
                : [];
        }
        catch (JsonException e)
        {
            violations.Add(
                new(ViolationKind.WrongType, "", $"the body is not a JSON object: {e.Message}")
            );
            return Task.FromResult(new ParsedRequest(name, operation, [], violations));
        }

        if (operation.Input is not null)
        {
            ModelValidator.Validate(operation.Input, input, "", violations);
        }

        return Task.FromResult(new ParsedRequest(name, operation, input, violations));
    }

    public Task WriteResultAsync(
        HttpContext http,
        Operation operation,
        AwsResult result,
        string requestId
    )
    {
        var body = operation.Output is null
            ? new JsonObject()
            : Wire(operation.Output, result.Output);
        return WriteAsync(http, 200, requestId, body.ToJsonString());
    }

    public Task WriteErrorAsync(HttpContext http, AwsException error, string requestId) =>
        WriteAsync(
            http,
            error.Status,
            requestId,
            new JsonObject { ["__type"] = error.Code, ["message"] = error.Message }.ToJsonString()
        );

    private static Task WriteAsync(HttpContext http, int status, string requestId, string json)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/x-amz-json-1.1";
        http.Response.Headers["x-amzn-RequestId"] = requestId;
        return http.Response.WriteAsync(json);
    }

    /// <summary>The output tree as the json protocol sends it (timestamps as epoch seconds), checked against the shape.</summary>
    private static JsonNode Wire(Shape shape, JsonNode node) =>
        shape.Type switch
        {
            "structure" => new JsonObject(
                node.AsObject()
                    .Where(p => p.Value is not null)
                    .Select(p =>
                        KeyValuePair.Create(
                            p.Key,
                            (JsonNode?)Wire(XmlShapes.Member(shape, p.Key).Shape, p.Value!)
                        )
                    )
            ),
            "list" => new JsonArray([
                .. node.AsArray().Select(x => Wire(shape.ListMember.Shape, x!)),
            ]),
            "map" => new JsonObject(
                node.AsObject()
                    .Select(p =>
                        KeyValuePair.Create(p.Key, (JsonNode?)Wire(shape.MapValue.Shape, p.Value!))
                    )
            ),
            "timestamp" => JsonValue.Create(
                ModelValidator.Timestamp(node)!.Value.ToUnixTimeMilliseconds() / 1000.0
            ),
            _ => node.DeepClone(),
        };
}
