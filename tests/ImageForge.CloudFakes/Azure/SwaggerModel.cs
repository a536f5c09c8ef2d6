using System.Globalization;
using System.Text.Json;

namespace ImageForge.CloudFakes.Azure;

/// <summary>How strictly a body is held to its schema.</summary>
internal enum SchemaMode
{
    /// <summary>A PUT body: required members must be there, read-only members must not.</summary>
    Create,

    /// <summary>A PATCH body (merge semantics): members may be left out, read-only members must not be sent.</summary>
    Patch,

    /// <summary>What the fake answers: required members must be there, read-only members may.</summary>
    Response,
}

/// <summary>The kind of a model violation; the router picks ARM's error code from it.</summary>
internal enum ViolationKind
{
    UnknownMember,
    WrongType,
    NotInEnum,
    MissingRequired,
    ReadOnlySent,
    MissingParameter,
}

/// <summary>One way a request (or a response) broke the swagger model, at a JSON path.</summary>
internal sealed record Violation(ViolationKind Kind, string Path, string Message);

/// <summary>A schema node and the file it sits in (a <c>$ref</c> is resolved relative to that file).</summary>
internal readonly record struct SchemaNode(string File, JsonElement Element, string? Name = null);

/// <summary>One operation of the model: method, path template and its parameters.</summary>
internal sealed record SwaggerOperation(
    string OperationId,
    string Method,
    string Template,
    IReadOnlyList<string> Segments,
    IReadOnlyList<SwaggerParameter> Parameters,
    SchemaNode? Body,
    IReadOnlyDictionary<string, SchemaNode?> Responses
);

/// <summary>A path or query parameter of an operation.</summary>
internal sealed record SwaggerParameter(string Name, string In, bool Required, SchemaNode Schema);

/// <summary>An operation matched to a request path, with the values of its path parameters.</summary>
internal sealed record SwaggerMatch(
    SwaggerOperation Operation,
    IReadOnlyDictionary<string, string> PathValues
);

/// <summary>
/// A swagger 2.0 document (with the files its <c>$ref</c>s reach) used as the judge of every request the Azure fake
/// gets: a path matched to an operation, its parameters, and its body against the schema (unknown members, required
/// members, types, formats, enums, read-only members). One validator for every operation, read from the spec files
/// as they are: no hand-copied schema.
/// </summary>
internal sealed class SwaggerModel
{
    private readonly Dictionary<string, JsonDocument> _documents = new(StringComparer.Ordinal);

    private SwaggerModel(string rootFile)
    {
        RootFile = Path.GetFullPath(rootFile);
        var root = Document(RootFile);
        var operations = new List<SwaggerOperation>();
        foreach (var path in root.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject())
            {
                if (method.Name == "parameters")
                {
                    continue;
                }

                operations.Add(ReadOperation(path.Name, method.Name, method.Value));
            }
        }

        Operations = operations;
    }

    /// <summary>The document the operations come from.</summary>
    public string RootFile { get; }

    /// <summary>Every operation of the document.</summary>
    public IReadOnlyList<SwaggerOperation> Operations { get; }

    /// <summary>Loads a swagger document; its <c>$ref</c>s to other files are read when first followed.</summary>
    public static SwaggerModel Load(string rootFile) => new(rootFile);

    /// <summary>A definition of the root document (<c>#/definitions/NAME</c>).</summary>
    public SchemaNode Definition(string name) =>
        new(RootFile, Document(RootFile).GetProperty("definitions").GetProperty(name), name);

    /// <summary>
    /// The operation whose template matches the path (ARM compares literal segments case-insensitively), the one with
    /// the most literal segments when several do; null when none does.
    /// </summary>
    public SwaggerMatch? Match(string method, string path)
    {
        var segments = path.Trim('/').Split('/');
        SwaggerMatch? best = null;
        var bestLiterals = -1;
        foreach (var operation in Operations)
        {
            if (
                !string.Equals(operation.Method, method, StringComparison.OrdinalIgnoreCase)
                || operation.Segments.Count != segments.Length
            )
            {
                continue;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var literals = 0;
            var matches = true;
            for (var i = 0; i < segments.Length && matches; i++)
            {
                var template = operation.Segments[i];
                if (template.StartsWith('{') && template.EndsWith('}'))
                {
                    matches = segments[i].Length > 0;
                    values[template[1..^1]] = Uri.UnescapeDataString(segments[i]);
                }
                else
                {
                    matches = string.Equals(
                        template,
                        segments[i],
                        StringComparison.OrdinalIgnoreCase
                    );
                    literals++;
                }
            }

            if (matches && literals > bestLiterals)
            {
                best = new SwaggerMatch(operation, values);
                bestLiterals = literals;
            }
        }

        return best;
    }

    /// <summary>Required query parameters that are missing and query values outside their enum.</summary>
    public IEnumerable<Violation> CheckQuery(
        SwaggerOperation operation,
        Func<string, string?> query
    )
    {
        foreach (var parameter in operation.Parameters.Where(p => p.In == "query"))
        {
            var value = query(parameter.Name);
            if (value is null)
            {
                if (parameter.Required)
                {
                    yield return new Violation(
                        ViolationKind.MissingParameter,
                        parameter.Name,
                        $"The query parameter '{parameter.Name}' is required by {operation.OperationId}."
                    );
                }

                continue;
            }

            foreach (
                var problem in Check(
                    parameter.Schema,
                    JsonSerializer.SerializeToElement(value),
                    parameter.Name,
                    SchemaMode.Create
                )
            )
            {
                yield return problem;
            }
        }
    }

    /// <summary>Every violation of <paramref name="value"/> against the schema, depth first.</summary>
    public IReadOnlyList<Violation> Check(
        SchemaNode schema,
        JsonElement value,
        string path,
        SchemaMode mode
    )
    {
        var violations = new List<Violation>();
        CheckValue(schema, value, path, mode, violations);
        return violations;
    }

    private void CheckValue(
        SchemaNode schema,
        JsonElement value,
        string path,
        SchemaMode mode,
        List<Violation> violations
    )
    {
        var node = Resolve(schema);
        if (value.ValueKind == JsonValueKind.Null)
        {
            // ARM reads an explicit null as "not given"; required members are checked by the enclosing object.
            return;
        }

        var type = TypeOf(node);
        switch (type)
        {
            case "object":
                CheckObject(node, value, path, mode, violations);
                return;
            case "array":
                if (value.ValueKind != JsonValueKind.Array)
                {
                    violations.Add(WrongType(path, "an array", value));
                    return;
                }

                if (node.Element.TryGetProperty("items", out var items))
                {
                    var index = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        CheckValue(
                            new(node.File, items),
                            item,
                            $"{path}[{index++}]",
                            mode,
                            violations
                        );
                    }
                }

                return;
            case "string":
                if (value.ValueKind != JsonValueKind.String)
                {
                    violations.Add(WrongType(path, "a string", value));
                    return;
                }

                CheckString(node, value.GetString()!, path, violations);
                return;
            case "integer":
                var format = Text(node, "format");
                var inRange =
                    value.ValueKind == JsonValueKind.Number
                    && (format == "int32" ? value.TryGetInt32(out _) : value.TryGetInt64(out _));
                if (!inRange)
                {
                    violations.Add(
                        WrongType(
                            path,
                            format == "int32" ? "a 32-bit integer" : "an integer",
                            value
                        )
                    );
                }

                return;
            case "number":
                if (value.ValueKind != JsonValueKind.Number)
                {
                    violations.Add(WrongType(path, "a number", value));
                }

                return;
            case "boolean":
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    violations.Add(WrongType(path, "a boolean", value));
                }

                return;
            default:
                // No type and no members: swagger's "any".
                return;
        }
    }

    private void CheckObject(
        SchemaNode node,
        JsonElement value,
        string path,
        SchemaMode mode,
        List<Violation> violations
    )
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            violations.Add(WrongType(path, "an object", value));
            return;
        }

        var shape = new ObjectShape();
        Collect(node, shape);
        foreach (var member in value.EnumerateObject())
        {
            var memberPath = path.Length == 0 ? member.Name : $"{path}.{member.Name}";
            if (shape.Properties.TryGetValue(member.Name, out var property))
            {
                if (mode != SchemaMode.Response && IsReadOnly(property))
                {
                    violations.Add(
                        new Violation(
                            ViolationKind.ReadOnlySent,
                            memberPath,
                            $"The property '{memberPath}' is read-only and cannot be set by the client."
                        )
                    );
                    continue;
                }

                CheckValue(property, member.Value, memberPath, mode, violations);
            }
            else if (shape.Additional is { } additional)
            {
                CheckValue(additional, member.Value, memberPath, mode, violations);
            }
            else if (!shape.FreeForm)
            {
                violations.Add(
                    new Violation(
                        ViolationKind.UnknownMember,
                        memberPath,
                        $"Could not find member '{member.Name}' on object of type '{shape.Name ?? "object"}'. Path '{memberPath}'."
                    )
                );
            }
        }

        if (mode == SchemaMode.Patch)
        {
            return;
        }

        foreach (var required in shape.Required)
        {
            if (
                !value.TryGetProperty(required, out var given)
                || given.ValueKind == JsonValueKind.Null
            )
            {
                var requiredPath = path.Length == 0 ? required : $"{path}.{required}";
                violations.Add(
                    new Violation(
                        ViolationKind.MissingRequired,
                        requiredPath,
                        $"Required parameter '{requiredPath}' is missing (null)."
                    )
                );
            }
        }
    }

    private static void CheckString(
        SchemaNode node,
        string text,
        string path,
        List<Violation> violations
    )
    {
        if (node.Element.TryGetProperty("enum", out var values))
        {
            var allowed = values.EnumerateArray().Select(v => v.GetString()).ToList();
            // The service deserializes enums case-insensitively; anything else is refused, extensible or not.
            if (!allowed.Any(a => string.Equals(a, text, StringComparison.OrdinalIgnoreCase)))
            {
                violations.Add(
                    new Violation(
                        ViolationKind.NotInEnum,
                        path,
                        $"The value '{text}' of '{path}' is not one of: {string.Join(", ", allowed)}."
                    )
                );
            }
        }

        var format = Text(node, "format");
        var wellFormed = format switch
        {
            "date-time" => DateTimeOffset.TryParse(
                text,
                CultureInfo.InvariantCulture,
                DateTimeStyles.RoundtripKind,
                out _
            ),
            "arm-id" => text.StartsWith('/'),
            _ => true,
        };
        if (!wellFormed)
        {
            violations.Add(
                new Violation(
                    ViolationKind.WrongType,
                    path,
                    $"The value '{text}' of '{path}' is not a valid {format}."
                )
            );
        }
    }

    private static Violation WrongType(string path, string expected, JsonElement value) =>
        new(
            ViolationKind.WrongType,
            path,
            $"Error converting value {value.GetRawText()} of '{path}': expected {expected}."
        );

    private sealed class ObjectShape
    {
        public Dictionary<string, SchemaNode> Properties { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Required { get; } = new(StringComparer.Ordinal);

        public SchemaNode? Additional { get; set; }

        public bool FreeForm { get; set; }

        public string? Name { get; set; }
    }

    /// <summary>Members of an object schema and of everything it extends through <c>allOf</c>.</summary>
    private void Collect(SchemaNode node, ObjectShape shape)
    {
        var element = node.Element;
        shape.Name ??= node.Name;
        if (element.TryGetProperty("properties", out var properties))
        {
            foreach (var property in properties.EnumerateObject())
            {
                shape.Properties.TryAdd(property.Name, new SchemaNode(node.File, property.Value));
            }
        }

        if (element.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray())
            {
                shape.Required.Add(name.GetString()!);
            }
        }

        if (element.TryGetProperty("additionalProperties", out var additional))
        {
            if (additional.ValueKind == JsonValueKind.Object)
            {
                shape.Additional = new SchemaNode(node.File, additional);
            }
            else
            {
                shape.FreeForm |= additional.ValueKind == JsonValueKind.True;
            }
        }

        var hasParents = element.TryGetProperty("allOf", out var parents);
        if (hasParents)
        {
            foreach (var parent in parents.EnumerateArray())
            {
                Collect(Resolve(new SchemaNode(node.File, parent)), shape);
            }
        }

        // {"type": "object"} with no members at all is swagger's free-form object.
        shape.FreeForm |=
            !hasParents
            && properties.ValueKind == JsonValueKind.Undefined
            && additional.ValueKind == JsonValueKind.Undefined;
    }

    private bool IsReadOnly(SchemaNode property) =>
        property.Element.TryGetProperty("readOnly", out var own)
            && own.ValueKind == JsonValueKind.True
        || Resolve(property).Element.TryGetProperty("readOnly", out var target)
            && target.ValueKind == JsonValueKind.True;

    private static string? TypeOf(SchemaNode node) =>
        Text(node, "type")
        ?? (
            node.Element.TryGetProperty("properties", out _)
            || node.Element.TryGetProperty("allOf", out _)
            || node.Element.TryGetProperty("additionalProperties", out _)
                ? "object"
                : null
        );

    private static string? Text(SchemaNode node, string name) =>
        node.Element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>Follows <c>$ref</c>s (across files) to the schema they name.</summary>
    public SchemaNode Resolve(SchemaNode node)
    {
        var hops = 0;
        while (
            node.Element.ValueKind == JsonValueKind.Object
            && node.Element.TryGetProperty("$ref", out var reference)
        )
        {
            if (++hops > 32)
            {
                throw new InvalidDataException(
                    $"$ref loop at {reference.GetString()} in {node.File}"
                );
            }

            var text = reference.GetString()!;
            var hash = text.IndexOf('#', StringComparison.Ordinal);
            var file =
                hash == 0
                    ? node.File
                    : Path.GetFullPath(
                        Path.Combine(
                            Path.GetDirectoryName(node.File)!,
                            hash < 0 ? text : text[..hash]
                        )
                    );
            var target = Document(file);
            string? name = null;
            if (hash >= 0)
            {
                foreach (
                    var segment in text[(hash + 1)..]
                        .Split('/', StringSplitOptions.RemoveEmptyEntries)
                )
                {
                    name = segment
                        .Replace("~1", "/", StringComparison.Ordinal)
                        .Replace("~0", "~", StringComparison.Ordinal);
                    target = target.GetProperty(name);
                }
            }

            node = new SchemaNode(file, target, name);
        }

        return node;
    }

    private SwaggerOperation ReadOperation(string template, string method, JsonElement operation)
    {
        var parameters = new List<SwaggerParameter>();
        SchemaNode? body = null;
        foreach (var declared in operation.GetProperty("parameters").EnumerateArray())
        {
            var parameter = Resolve(new SchemaNode(RootFile, declared));
            var name = parameter.Element.GetProperty("name").GetString()!;
            var where = parameter.Element.GetProperty("in").GetString()!;
            var required =
                parameter.Element.TryGetProperty("required", out var r)
                && r.ValueKind == JsonValueKind.True;
            if (where == "body")
            {
                body = new SchemaNode(parameter.File, parameter.Element.GetProperty("schema"));
                continue;
            }

            parameters.Add(new SwaggerParameter(name, where, required, parameter));
        }

        var responses = new Dictionary<string, SchemaNode?>(StringComparer.Ordinal);
        foreach (var response in operation.GetProperty("responses").EnumerateObject())
        {
            responses[response.Name] = response.Value.TryGetProperty("schema", out var schema)
                ? new SchemaNode(RootFile, schema)
                : null;
        }

        return new SwaggerOperation(
            operation.GetProperty("operationId").GetString()!,
            method.ToUpperInvariant(),
            template,
            template.Trim('/').Split('/'),
            parameters,
            body,
            responses
        );
    }

    private JsonElement Document(string file)
    {
        lock (_documents)
        {
            if (!_documents.TryGetValue(file, out var document))
            {
                document = JsonDocument.Parse(File.ReadAllText(file));
                _documents[file] = document;
            }

            return document.RootElement;
        }
    }
}
