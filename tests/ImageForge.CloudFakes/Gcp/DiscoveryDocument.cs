using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;

namespace ImageForge.CloudFakes.Gcp;

/// <summary>How a request reached a method: its plain path, an upload path or the media download path.</summary>
internal enum RouteKind
{
    Plain,
    Upload,
    Download,
}

/// <summary>One method of a discovery document, as the fake needs it.</summary>
internal sealed record DiscoveryMethod(
    string Id,
    string HttpMethod,
    JsonObject Parameters,
    string? RequestSchema,
    IReadOnlySet<string> Scopes,
    bool SupportsMediaDownload,
    IReadOnlySet<string>? ModifiableFields
);

/// <summary>The method a request calls and the values its path template bound.</summary>
internal sealed record DiscoveryRoute(
    DiscoveryMethod Method,
    RouteKind Kind,
    IReadOnlyDictionary<string, string> PathValues
);

/// <summary>
/// One Google discovery document (storage.v1, compute.v1) read as a contract: finds the method a request calls
/// (HTTP method + path template, upload and download paths included) and lists every way the request breaks the
/// document: unknown or missing parameters, patterns, enums, types, and the body against the request schema
/// ($refs, unknown properties, types, enums, formats, <c>annotations.required</c>). Two conventions the documents
/// state only in prose are read from the prose: a property "Required if not specified by URL parameter" and a method
/// whose description says "Only the following fields can be modified: ...".
/// </summary>
internal sealed partial class DiscoveryDocument
{
    private readonly JsonObject _schemas;
    private readonly JsonObject _globalParameters;
    private readonly List<(string[] Template, DiscoveryMethod Method, RouteKind Kind)> _routes = [];
    private readonly bool _gceLabels;
    private readonly Dictionary<string, Regex> _patterns = [];
    private readonly Lock _patternGate = new();

    private DiscoveryDocument(JsonObject document, bool gceLabels)
    {
        _schemas = document["schemas"]!.AsObject();
        _globalParameters = document["parameters"]!.AsObject();
        _gceLabels = gceLabels;
        Name = (string)document["name"]!;
        var servicePath = Segments((string)document["servicePath"]!);
        AddRoutes(document["resources"]!.AsObject(), servicePath);
        // Literal segments first, so a fixed path wins over a template that would also bind it.
        _routes.Sort(
            (a, b) =>
                b
                    .Template.Count(s => !s.StartsWith('{'))
                    .CompareTo(a.Template.Count(s => !s.StartsWith('{')))
        );
    }

    /// <summary>The API's name ("storage", "compute").</summary>
    public string Name { get; }

    /// <summary>Reads a discovery document.</summary>
    /// <param name="path">The document.</param>
    /// <param name="gceLabels">Check every <c>labels</c> map against Compute Engine's label rules.</param>
    public static DiscoveryDocument Load(string path, bool gceLabels) =>
        new(JsonNode.Parse(File.ReadAllText(path))!.AsObject(), gceLabels);

    private static string[] Segments(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private void AddRoutes(JsonObject resources, string[] servicePath)
    {
        foreach (var (_, resource) in resources)
        {
            if (resource!["methods"] is JsonObject methods)
            {
                foreach (var (_, node) in methods)
                {
                    AddMethod(node!.AsObject(), servicePath);
                }
            }
            if (resource["resources"] is JsonObject nested)
            {
                AddRoutes(nested, servicePath);
            }
        }
    }

    private void AddMethod(JsonObject node, string[] servicePath)
    {
        var method = new DiscoveryMethod(
            (string)node["id"]!,
            (string)node["httpMethod"]!,
            node["parameters"]?.AsObject() ?? [],
            (string?)node["request"]?["$ref"],
            (node["scopes"]?.AsArray() ?? [])
                .Select(s => (string)s!)
                .ToHashSet(StringComparer.Ordinal),
            node["supportsMediaDownload"]?.GetValue<bool>() == true,
            ModifiableFields((string?)node["request"]?["$ref"], (string?)node["description"])
        );
        var path = Segments((string)node["path"]!);
        _routes.Add(([.. servicePath, .. path], method, RouteKind.Plain));
        if (node["mediaUpload"]?["protocols"] is JsonObject protocols)
        {
            foreach (var (_, protocol) in protocols)
            {
                _routes.Add((Segments((string)protocol!["path"]!), method, RouteKind.Upload));
            }
        }
        if (node["useMediaDownloadService"]?.GetValue<bool>() == true)
        {
            _routes.Add((["download", .. servicePath, .. path], method, RouteKind.Download));
        }
    }

    // "Only the following fields can be modified: family, description, deprecation status." names fields in prose;
    // a phrase is a property by its name or by the schema it refers to ("deprecation status" -> DeprecationStatus).
    private HashSet<string>? ModifiableFields(string? requestSchema, string? description)
    {
        var match = description is null ? null : ModifiableFieldsProse().Match(description);
        if (requestSchema is null || match is null || !match.Success)
        {
            return null;
        }
        var properties = _schemas[requestSchema]!["properties"]!.AsObject();
        var fields = new HashSet<string>(StringComparer.Ordinal);
        foreach (var phrase in match.Groups[1].Value.Split(','))
        {
            var squeezed = phrase.Replace(" ", "", StringComparison.Ordinal).Trim();
            var property = properties.FirstOrDefault(p =>
                string.Equals(p.Key, squeezed, StringComparison.OrdinalIgnoreCase)
                || string.Equals(
                    (string?)p.Value!["$ref"],
                    squeezed,
                    StringComparison.OrdinalIgnoreCase
                )
            );
            if (property.Key is null)
            {
                throw new InvalidDataException($"'{phrase}' names no property of {requestSchema}");
            }
            fields.Add(property.Key);
        }
        return fields;
    }

    /// <summary>The method <paramref name="segments"/> (the decoded path segments) calls, or null.</summary>
    public DiscoveryRoute? Route(string httpMethod, IReadOnlyList<string> segments)
    {
        foreach (var (template, method, kind) in _routes)
        {
            if (!string.Equals(method.HttpMethod, httpMethod, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var values = Bind(template, segments);
            if (values is not null)
            {
                return new DiscoveryRoute(method, kind, values);
            }
        }
        return null;
    }

    private static Dictionary<string, string>? Bind(
        string[] template,
        IReadOnlyList<string> segments
    )
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < template.Length; i++)
        {
            var part = template[i];
            if (part.StartsWith("{+", StringComparison.Ordinal))
            {
                // Reserved expansion: the rest of the path, slashes included.
                if (i != template.Length - 1 || segments.Count <= i)
                {
                    return null;
                }
                values[part[2..^1]] = string.Join('/', segments.Skip(i));
                return values;
            }
            if (i >= segments.Count || segments[i].Length == 0)
            {
                return null;
            }
            if (part.StartsWith('{'))
            {
                values[part[1..^1]] = segments[i];
            }
            else if (!string.Equals(part, segments[i], StringComparison.Ordinal))
            {
                return null;
            }
        }
        return template.Length == segments.Count ? values : null;
    }

    /// <summary>Every way the path and query of a request break the method's parameters.</summary>
    /// <param name="route">The method called.</param>
    /// <param name="query">The query.</param>
    /// <param name="protocolParameters">Query parameters the upload protocol adds beside the document's.</param>
    public List<Violation> CheckParameters(
        DiscoveryRoute route,
        IEnumerable<KeyValuePair<string, StringValues>> query,
        IReadOnlySet<string>? protocolParameters = null
    )
    {
        var violations = new List<Violation>();
        var method = route.Method;
        var given = query.ToDictionary(q => q.Key, q => q.Value, StringComparer.Ordinal);
        foreach (var (name, node) in method.Parameters)
        {
            var parameter = node!.AsObject();
            var location = (string?)parameter["location"];
            var present =
                location == "path" ? route.PathValues.ContainsKey(name) : given.ContainsKey(name);
            if (parameter["required"]?.GetValue<bool>() == true && !present)
            {
                violations.Add(Violation.Required(name));
            }
            if (location == "path" && route.PathValues.TryGetValue(name, out var value))
            {
                CheckScalar(parameter, JsonValue.Create(value), name, violations);
            }
        }
        foreach (var (name, values) in given)
        {
            var parameter = method.Parameters[name] ?? _globalParameters[name];
            if (parameter is null || (string?)parameter["location"] == "path")
            {
                if (protocolParameters?.Contains(name) != true)
                {
                    violations.Add(
                        Violation.Invalid(
                            $"Invalid JSON payload received. Unknown name \"{name}\": Cannot bind query parameter. Field '{name}' could not be found in request message."
                        )
                    );
                }
                continue;
            }
            if (values.Count > 1 && parameter["repeated"]?.GetValue<bool>() != true)
            {
                violations.Add(
                    Violation.Invalid($"Query parameter '{name}' is given {values.Count} times.")
                );
            }
            // alt=media is the media-download protocol, which the documents do not list among alt's values.
            var mediaDownload = name == "alt" && values == "media" && method.SupportsMediaDownload;
            foreach (var value in mediaDownload ? [] : values)
            {
                CheckScalar(parameter.AsObject(), JsonValue.Create(value ?? ""), name, violations);
            }
        }
        CheckProtocol(route, given, violations);
        return violations;
    }

    private static void CheckProtocol(
        DiscoveryRoute route,
        Dictionary<string, StringValues> given,
        List<Violation> violations
    )
    {
        var uploadType = given.TryGetValue("uploadType", out var u) ? u.ToString() : null;
        if (
            route.Kind == RouteKind.Upload
            && uploadType is not ("media" or "multipart" or "resumable")
        )
        {
            violations.Add(
                Violation.Invalid(
                    $"Invalid upload type '{uploadType}': an upload path takes uploadType=media, multipart or resumable."
                )
            );
        }
        if (route.Kind != RouteKind.Upload && uploadType is not null)
        {
            violations.Add(
                Violation.Invalid(
                    $"uploadType '{uploadType}' on {route.Method.Id}, which is not an upload."
                )
            );
        }
        var media = given.TryGetValue("alt", out var alt) && alt == "media";
        if (media && !route.Method.SupportsMediaDownload)
        {
            violations.Add(Violation.Invalid($"{route.Method.Id} does not support alt=media."));
        }
        if (route.Kind == RouteKind.Download && !media)
        {
            violations.Add(Violation.Invalid("The download path serves alt=media only."));
        }
    }

    /// <summary>Every way <paramref name="body"/> breaks the method's request schema.</summary>
    /// <param name="method">The method called.</param>
    /// <param name="body">The parsed body; null when the request had none.</param>
    /// <param name="queryNames">The query parameters given (for "Required if not specified by URL parameter").</param>
    public List<Violation> CheckBody(
        DiscoveryMethod method,
        JsonNode? body,
        IReadOnlyCollection<string> queryNames
    )
    {
        var violations = new List<Violation>();
        if (method.RequestSchema is null)
        {
            if (body is not null)
            {
                violations.Add(Violation.Invalid($"{method.Id} takes no request body."));
            }
            return violations;
        }
        if (body is null)
        {
            violations.Add(Violation.Required("resource"));
            return violations;
        }
        var context = new BodyContext(method, queryNames, violations);
        CheckNode(Schema(method.RequestSchema), body, "resource", context);
        if (method.ModifiableFields is { } modifiable && body is JsonObject fields)
        {
            foreach (var (name, _) in fields)
            {
                // The resource's name identifies it; output-only fields are ignored as everywhere.
                if (
                    !modifiable.Contains(name)
                    && name != "name"
                    && !IsOutputOnly(Schema(method.RequestSchema), name)
                )
                {
                    violations.Add(
                        Violation.Invalid(
                            $"Invalid value for field 'resource.{name}': {method.Id} can modify only {string.Join(", ", modifiable.Order(StringComparer.Ordinal))}."
                        )
                    );
                }
            }
        }
        return violations;
    }

    private sealed record BodyContext(
        DiscoveryMethod Method,
        IReadOnlyCollection<string> QueryNames,
        List<Violation> Violations
    );

    private JsonObject Schema(string id) =>
        _schemas[id]?.AsObject() ?? throw new InvalidDataException($"No schema '{id}'.");

    private static bool IsOutputOnly(JsonObject schema, string property) =>
        ((string?)schema["properties"]?[property]?["description"])?.StartsWith(
            "[Output Only]",
            StringComparison.Ordinal
        ) == true;

    private void CheckNode(JsonObject schema, JsonNode? node, string path, BodyContext context)
    {
        if ((string?)schema["$ref"] is { } reference)
        {
            schema = Schema(reference);
        }
        if (node is null)
        {
            return; // JSON null is an absent field to Google's parsers.
        }
        switch ((string?)schema["type"])
        {
            case "object":
                CheckObject(schema, node, path, context);
                break;
            case "array":
                if (node is not JsonArray array)
                {
                    context.Violations.Add(WrongType(path, "a list", node));
                    break;
                }
                for (var i = 0; i < array.Count; i++)
                {
                    CheckNode(schema["items"]!.AsObject(), array[i], $"{path}[{i}]", context);
                }
                break;
            case "any":
                break;
            default:
                CheckScalar(schema, node, path, context.Violations);
                break;
        }
    }

    private void CheckObject(JsonObject schema, JsonNode node, string path, BodyContext context)
    {
        if (node is not JsonObject value)
        {
            context.Violations.Add(WrongType(path, "an object", node));
            return;
        }
        var properties = schema["properties"]?.AsObject();
        var additional = schema["additionalProperties"]?.AsObject();
        foreach (var (name, child) in value)
        {
            if (properties?[name] is JsonObject property)
            {
                CheckNode(property, child, $"{path}.{name}", context);
            }
            else if (additional is not null)
            {
                CheckNode(additional, child, $"{path}.{name}", context);
            }
            else
            {
                context.Violations.Add(
                    Violation.Invalid(
                        $"Invalid JSON payload received. Unknown name \"{name}\" at '{path}': Cannot find field."
                    )
                );
            }
        }
        foreach (var (name, node2) in properties ?? [])
        {
            var property = node2!.AsObject();
            var required =
                property["annotations"]
                    ?["required"]?.AsArray()
                    .Any(m => (string?)m == context.Method.Id) == true
                || (
                    ((string?)property["description"])?.Contains(
                        "Required if not specified by URL parameter",
                        StringComparison.Ordinal
                    ) == true
                    && context.Method.Parameters.ContainsKey(name)
                    && !context.QueryNames.Contains(name)
                );
            if (required && value[name] is null)
            {
                context.Violations.Add(Violation.Required($"{path}.{name}"));
            }
        }
        if (
            _gceLabels
            && path.EndsWith(".labels", StringComparison.Ordinal)
            && additional is not null
        )
        {
            CheckLabels(value, path, context.Violations);
        }
    }

    // Compute Engine's label rules: at most 64; keys 1-63 characters starting with a lowercase letter, values 0-63,
    // both only lowercase letters, digits, '_' and '-' (international lowercase letters allowed).
    private static void CheckLabels(JsonObject labels, string path, List<Violation> violations)
    {
        if (labels.Count > 64)
        {
            violations.Add(
                Violation.Invalid($"Invalid value for field '{path}': at most 64 labels.")
            );
        }
        foreach (var (key, node) in labels)
        {
            if (!LabelKey().IsMatch(key))
            {
                violations.Add(
                    Violation.Invalid(
                        $"Invalid value for field '{path}': Label key '{key}' violates format constraints. The key must start with a lowercase character, can only contain lowercase letters, numeric characters, underscores and dashes, and be at most 63 characters long."
                    )
                );
            }
            if (
                node is JsonValue v
                && v.TryGetValue<string>(out var text)
                && !LabelValue().IsMatch(text)
            )
            {
                violations.Add(
                    Violation.Invalid(
                        $"Invalid value for field '{path}': Label value '{text}' violates format constraints. The value can only contain lowercase letters, numeric characters, underscores and dashes. The value can be at most 63 characters long."
                    )
                );
            }
        }
    }

    private void CheckScalar(
        JsonObject schema,
        JsonNode node,
        string path,
        List<Violation> violations
    )
    {
        var type = (string?)schema["type"];
        var format = (string?)schema["format"];
        if (node is not JsonValue value)
        {
            violations.Add(WrongType(path, type ?? "a value", node));
            return;
        }
        var kind = value.GetValueKind();
        string? text = kind == JsonValueKind.String ? value.GetValue<string>() : null;
        // Parameters arrive as text.
        var isParameter = schema["location"] is not null;
        switch (type)
        {
            case "boolean":
                if (
                    kind is not (JsonValueKind.True or JsonValueKind.False)
                    && !(isParameter && text is "true" or "false")
                )
                {
                    violations.Add(WrongType(path, "a boolean", node));
                }
                return;
            case "integer" or "number":
                // proto3's JSON mapping takes integers as numbers or numeric strings.
                var number =
                    kind == JsonValueKind.Number ? value.ToJsonString()
                    : type == "integer" || isParameter ? text
                    : null;
                if (number is null)
                {
                    violations.Add(WrongType(path, $"a {type}", node));
                    return;
                }
                CheckNumber(schema, number, type, format, path, violations);
                return;
            case "string":
                if (text is null)
                {
                    if (kind == JsonValueKind.Number && format is "int64" or "uint64")
                    {
                        CheckNumber(
                            schema,
                            value.ToJsonString(),
                            "integer",
                            format,
                            path,
                            violations
                        );
                        return;
                    }
                    violations.Add(WrongType(path, "a string", node));
                    return;
                }
                CheckString(schema, text, format, path, violations);
                return;
            default:
                return;
        }
    }

    private static void CheckNumber(
        JsonObject schema,
        string number,
        string type,
        string? format,
        string path,
        List<Violation> violations
    )
    {
        var ok = (type, format) switch
        {
            ("number", _) => double.TryParse(
                number,
                NumberStyles.Float,
                CultureInfo.InvariantCulture,
                out _
            ),
            (_, "uint64") => ulong.TryParse(
                number,
                NumberStyles.None,
                CultureInfo.InvariantCulture,
                out _
            ),
            (_, "uint32") => uint.TryParse(
                number,
                NumberStyles.None,
                CultureInfo.InvariantCulture,
                out _
            ),
            (_, "int32") => int.TryParse(
                number,
                NumberStyles.AllowLeadingSign,
                CultureInfo.InvariantCulture,
                out _
            ),
            _ => long.TryParse(
                number,
                NumberStyles.AllowLeadingSign,
                CultureInfo.InvariantCulture,
                out _
            ),
        };
        if (!ok)
        {
            violations.Add(
                Violation.Invalid(
                    $"Invalid value for field '{path}': '{number}' is not a valid {format ?? type}."
                )
            );
            return;
        }
        var parsed = double.Parse(number, CultureInfo.InvariantCulture);
        if (
            (
                (string?)schema["minimum"] is { } min
                && parsed < double.Parse(min, CultureInfo.InvariantCulture)
            )
            || (
                (string?)schema["maximum"] is { } max
                && parsed > double.Parse(max, CultureInfo.InvariantCulture)
            )
        )
        {
            violations.Add(
                Violation.Invalid(
                    $"Invalid value for field '{path}': {number} is out of range [{schema["minimum"]}, {schema["maximum"]}]."
                )
            );
        }
    }

    private void CheckString(
        JsonObject schema,
        string text,
        string? format,
        string path,
        List<Violation> violations
    )
    {
        if (schema["enum"] is JsonArray values && !values.Any(v => (string?)v == text))
        {
            violations.Add(
                Violation.Invalid(
                    $"Invalid value at '{path}': '{text}' is not one of {string.Join(", ", values.Select(v => (string?)v))}."
                )
            );
        }
        if ((string?)schema["pattern"] is { } pattern && !Pattern(pattern).IsMatch(text))
        {
            violations.Add(
                Violation.Invalid(
                    $"Invalid value for field '{path}': '{text}'. Must be a match of regex '{pattern}'"
                )
            );
        }
        var ok = format switch
        {
            "int64" => long.TryParse(
                text,
                NumberStyles.AllowLeadingSign,
                CultureInfo.InvariantCulture,
                out _
            ),
            "uint64" => ulong.TryParse(
                text,
                NumberStyles.None,
                CultureInfo.InvariantCulture,
                out _
            ),
            "int32" => int.TryParse(
                text,
                NumberStyles.AllowLeadingSign,
                CultureInfo.InvariantCulture,
                out _
            ),
            "uint32" => uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _),
            "byte" => IsBase64(text),
            "date-time" => Rfc3339.IsMatch(text),
            "date" => DateOnly.TryParseExact(
                text,
                "yyyy-MM-dd",
                CultureInfo.InvariantCulture,
                DateTimeStyles.None,
                out _
            ),
            _ => true,
        };
        if (!ok)
        {
            violations.Add(
                Violation.Invalid(
                    $"Invalid value for field '{path}': '{text}' is not a valid {format}."
                )
            );
        }
    }

    private static bool IsBase64(string text)
    {
        var standard = text.Replace('-', '+').Replace('_', '/');
        standard = standard.PadRight(standard.Length + ((4 - (standard.Length % 4)) % 4), '=');
        return Convert.TryFromBase64String(standard, new byte[standard.Length], out _);
    }

    /// <summary>RFC 3339 timestamps as Google's APIs take them.</summary>
    public static readonly Regex Rfc3339 = Rfc3339Pattern();

    private Regex Pattern(string pattern)
    {
        lock (_patternGate)
        {
            if (!_patterns.TryGetValue(pattern, out var regex))
            {
                // Discovery patterns are RE2 and match the whole value.
                regex = new Regex(
                    $"^(?:{pattern})$",
                    RegexOptions.CultureInvariant,
                    TimeSpan.FromSeconds(1)
                );
                _patterns[pattern] = regex;
            }
            return regex;
        }
    }

    private static Violation WrongType(string path, string expected, JsonNode node) =>
        Violation.Invalid(
            $"Invalid value at '{path}' ({node.ToJsonString()}): expected {expected}."
        );

    [GeneratedRegex(@"Only the following fields can be modified: ([^.]+)\.")]
    private static partial Regex ModifiableFieldsProse();

    [GeneratedRegex(@"^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$")]
    private static partial Regex LabelKey();

    [GeneratedRegex(@"^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$")]
    private static partial Regex LabelValue();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339Pattern();
}

/// <summary>One way a request broke its model, with Google's reason code ("invalid", "required").</summary>
internal sealed record Violation(string Reason, string Message)
{
    public static Violation Invalid(string message) => new("invalid", message);

    public static Violation Required(string field) =>
        new("required", $"Required field '{field}' not specified");
}
