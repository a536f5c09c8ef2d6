using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using ImageForge.Core.Errors;

namespace ImageForge.Core.Inputs;

/// <summary>
/// The one way ImageForge reads JSON it did not just produce in memory: a user's file (a Terraform plan, a scanner
/// report), an evidence document read back, a registry manifest. The size is bounded before anything is parsed, the
/// nesting is bounded while parsing, and every wrong shape becomes an <see cref="InvalidInputException"/> (exit code
/// 2) naming the file and the JSON path, never an <see cref="InvalidOperationException"/> from a
/// <see cref="JsonElement"/> accessor.
/// </summary>
public static partial class JsonInput
{
    /// <summary>The largest JSON file read unless a reader names another limit: 64 MiB.</summary>
    public const long DefaultMaxBytes = 64L * 1024 * 1024;

    /// <summary>The deepest nesting accepted (System.Text.Json's own default, made explicit).</summary>
    public const int MaxDepth = 64;

    /// <summary>Options for <see cref="JsonDocument"/> with the nesting limit.</summary>
    public static JsonDocumentOptions DocumentOptions => new() { MaxDepth = MaxDepth };

    /// <summary>
    /// The bytes of <paramref name="path"/>, refused before reading when the file is larger than
    /// <paramref name="maxBytes"/>; <paramref name="what"/> names the document in errors ("a Terraform JSON plan").
    /// </summary>
    public static byte[] ReadFile(string path, string what, long maxBytes = DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var stream = File.OpenRead(path);
            if (stream.CanSeek && stream.Length > maxBytes)
            {
                throw TooLarge(path, what, stream.Length, maxBytes);
            }

            // A pipe or device has no length: read at most one byte past the limit.
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > maxBytes)
                {
                    throw TooLarge(path, what, buffer.Length, maxBytes);
                }
            }

            return buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"{path}: cannot read {what}: {e.Message}");
        }
    }

    /// <summary>Parses <paramref name="json"/> (read from <paramref name="file"/>) with the nesting limit.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> json, string file, string what)
    {
        try
        {
            return JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw NotJson(file, what, e);
        }
    }

    /// <summary><see cref="ReadFile"/> then <see cref="Parse"/>.</summary>
    public static JsonDocument ParseFile(
        string path,
        string what,
        long maxBytes = DefaultMaxBytes
    ) => Parse(ReadFile(path, what, maxBytes), path, what);

    /// <summary>
    /// <see cref="ParseFile"/> of a document whose root must be an object: any other root is refused from its first
    /// token, before the rest is parsed (a 50 MB array costs a read, not a parse).
    /// </summary>
    public static JsonDocument ParseObjectFile(
        string path,
        string what,
        long maxBytes = DefaultMaxBytes
    ) => ParseObject(ReadFile(path, what, maxBytes), path, what);

    /// <summary>
    /// <see cref="Parse"/> of a document whose root must be an object, already in memory (<paramref name="file"/>
    /// names it in errors): any other root is refused from its first token.
    /// </summary>
    public static JsonDocument ParseObject(ReadOnlyMemory<byte> json, string file, string what)
    {
        var reader = new Utf8JsonReader(json.Span);
        try
        {
            reader.Read();
        }
        catch (JsonException e)
        {
            throw NotJson(file, what, e);
        }

        return reader.TokenType == JsonTokenType.StartObject
            ? Parse(json, file, what)
            : throw new InvalidInputException(
                $"{file}: $: expected {what}, a JSON object; found {Describe(reader.TokenType)}"
            );
    }

    /// <summary>
    /// Deserializes a document of type <typeparamref name="T"/>; a JSON null, a wrong type anywhere or a missing
    /// required member is an <see cref="InvalidInputException"/> naming the file and the JSON path. Use options made
    /// with <see cref="Strict"/>, so a null where the type allows none is refused too.
    /// </summary>
    public static T Deserialize<T>(
        ReadOnlySpan<byte> json,
        JsonSerializerOptions options,
        string file,
        string what
    )
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, options)
                ?? throw new InvalidInputException($"{file}: $: expected {what}, found null");
        }
        catch (JsonException e)
        {
            throw WrongShape(file, what, e, typeof(T), options);
        }
    }

    /// <summary>A copy of <paramref name="options"/> for reading: nulls only where the C# type allows them.</summary>
    public static JsonSerializerOptions Strict(JsonSerializerOptions options) =>
        new(options) { RespectNullableAnnotations = true, MaxDepth = MaxDepth };

    /// <summary>How a JSON value kind is named in errors ("an array").</summary>
    public static string Describe(JsonValueKind kind) =>
        kind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Null => "null",
            _ => "nothing",
        };

    // System.Text.Json counts lines and bytes from 0; people and editors count lines from 1.
    private static InvalidInputException NotJson(string file, string what, JsonException e) =>
        new(
            e.LineNumber is { } line
                ? $"{file}: not valid JSON at line {line + 1}, byte {(e.BytePositionInLine ?? 0) + 1} ({what} expected): {e.Message}"
                : $"{file}: not valid JSON ({what} expected): {e.Message}"
        );

    private static InvalidInputException WrongShape(
        string file,
        string what,
        JsonException e,
        Type root,
        JsonSerializerOptions options
    )
    {
        var path = e.Path is { Length: > 0 } p ? p : "$";
        return new(
            $"{file}: {path}: not {what}: {Plain(e.Message, TypeAt(root, path, options), options)}"
        );
    }

    /// <summary>
    /// System.Text.Json's words for a wrong shape in a reader's terms: what JSON was expected (from the type at the
    /// error's path, <paramref name="expected"/>) instead of a .NET type name, and without System.Text.Json's own copy
    /// of the path and position (the error names the path). A message of another form is kept, without that tail.
    /// </summary>
    public static string Plain(
        string message,
        Type? expected,
        JsonSerializerOptions? options = null
    )
    {
        ArgumentNullException.ThrowIfNull(message);
        var text = Tail().Replace(message, "").TrimEnd();
        if (Converted().IsMatch(text))
        {
            return expected is null
                ? "a value of the wrong type"
                : $"expected {Expected(expected, options)}";
        }
        if (MissingRequired().Match(text) is { Success: true } missing)
        {
            return $"missing required field(s) {missing.Groups["names"].Value}";
        }
        if (NullNotAllowed().IsMatch(text))
        {
            return $"null is not allowed here{(expected is null ? "" : $": expected {Expected(expected, options)}")}";
        }
        return Unmapped().Match(text) is { Success: true } unmapped
            ? $"unknown field '{unmapped.Groups["name"].Value}'"
            : text;
    }

    // The JSON a .NET type is read from, as a person writing the file would name it.
    private static string Expected(Type type, JsonSerializerOptions? options)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum)
        {
            return "one of "
                + string.Join(
                    ", ",
                    Enum.GetNames(type)
                        .Select(n => options?.PropertyNamingPolicy?.ConvertName(n) ?? n)
                );
        }
        return Type.GetTypeCode(type) switch
        {
            TypeCode.String => "a string",
            TypeCode.Boolean => "true or false",
            TypeCode.Byte
            or TypeCode.Int16
            or TypeCode.Int32
            or TypeCode.Int64
            or TypeCode.UInt16
            or TypeCode.UInt32
            or TypeCode.UInt64 => "a whole number",
            TypeCode.Single or TypeCode.Double or TypeCode.Decimal => "a number",
            TypeCode.DateTime => "a date and time (ISO 8601)",
            _ when type == typeof(DateTimeOffset) => "a date and time (ISO 8601)",
            _ when type == typeof(DateOnly) => "a date (YYYY-MM-DD)",
            _ when type == typeof(TimeSpan) => "a duration (hh:mm:ss)",
            _ when ValueType(type) is not null => "an object",
            _ when ElementType(type) is not null => "an array",
            _ => "an object",
        };
    }

    // The type a JSON path of System.Text.Json ($.entries[0]['a b'].name) leads to in root; null where it is lost.
    private static Type? TypeAt(Type root, string path, JsonSerializerOptions options)
    {
        Type? type = root;
        foreach (Match segment in PathSegment().Matches(path))
        {
            if (type is null)
            {
                return null;
            }
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (segment.Groups["index"].Success)
            {
                type = ElementType(type);
                continue;
            }
            var name = segment.Groups["name"].Success
                ? segment.Groups["name"].Value
                : segment.Groups["quoted"].Value;
            type =
                ValueType(type)
                ?? type.GetProperties()
                    .FirstOrDefault(p =>
                        string.Equals(
                            p.GetCustomAttributes(typeof(JsonPropertyNameAttribute), true)
                                is [JsonPropertyNameAttribute attribute, ..]
                                ? attribute.Name
                                : options.PropertyNamingPolicy?.ConvertName(p.Name) ?? p.Name,
                            name,
                            options.PropertyNameCaseInsensitive
                                ? StringComparison.OrdinalIgnoreCase
                                : StringComparison.Ordinal
                        )
                    )
                    ?.PropertyType;
        }
        return type;
    }

    // The value type of a dictionary type; null for other types.
    private static Type? ValueType(Type type) =>
        (Generic(type, typeof(IDictionary<,>)) ?? Generic(type, typeof(IReadOnlyDictionary<,>)))
            is { } d
            ? d.GetGenericArguments()[1]
            : null;

    // The element type of an array or a sequence (strings apart); null for other types.
    private static Type? ElementType(Type type) =>
        type == typeof(string) ? null
        : type.IsArray ? type.GetElementType()
        : Generic(type, typeof(IEnumerable<>))?.GetGenericArguments()[0];

    private static Type? Generic(Type type, Type definition) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == definition
            ? type
            : type.GetInterfaces()
                .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition);

    [GeneratedRegex(@"\s*Path: .*$", RegexOptions.Singleline)]
    private static partial Regex Tail();

    [GeneratedRegex(@"^The JSON value could not be converted to ")]
    private static partial Regex Converted();

    [GeneratedRegex(@"missing required properties including: (?<names>.+?)\.?$")]
    private static partial Regex MissingRequired();

    [GeneratedRegex(@"doesn't allow (\w+ )?null values")]
    private static partial Regex NullNotAllowed();

    [GeneratedRegex(@"^The JSON property '(?<name>[^']+)' could not be mapped")]
    private static partial Regex Unmapped();

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\['(?<quoted>(?:[^']|'')*)'\]|\[(?<index>\d+)\]")]
    private static partial Regex PathSegment();

    private static string Describe(JsonTokenType token) =>
        token switch
        {
            JsonTokenType.StartArray => "an array",
            JsonTokenType.String => "a string",
            JsonTokenType.Number => "a number",
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.Null => "null",
            _ => "nothing",
        };

    private static InvalidInputException TooLarge(
        string path,
        string what,
        long size,
        long maxBytes
    ) => new($"{path}: too large for {what}: {Size(size)}, the limit is {Size(maxBytes)}");

    private static string Size(long bytes) =>
        bytes >= 1024 * 1024
            ? (bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB"
            : bytes.ToString(CultureInfo.InvariantCulture) + " bytes";
}

/// <summary>
/// A value inside a JSON input with the file and JSON path that name it: each accessor checks the kind it needs and
/// refuses any other with an <see cref="InvalidInputException"/> such as
/// <c>plan.json: $.planned_values.root_module.resources: expected an array, found a string</c>.
/// </summary>
/// <param name="Value">The value.</param>
/// <param name="File">The file it was read from (or any name of the input).</param>
/// <param name="Path">Its JSON path from the root, <c>$</c>.</param>
public readonly record struct JsonValueAt(JsonElement Value, string File, string Path)
{
    /// <summary>The root of a parsed document.</summary>
    public static JsonValueAt Root(JsonDocument document, string file)
    {
        ArgumentNullException.ThrowIfNull(document);
        return new(document.RootElement, file, "$");
    }

    /// <summary>The value's kind.</summary>
    public JsonValueKind Kind => Value.ValueKind;

    /// <summary>This value, which must be an object.</summary>
    public JsonValueAt AsObject() => Expect(JsonValueKind.Object, "an object");

    /// <summary>The member <paramref name="name"/> of this object, which must be there.</summary>
    public JsonValueAt Required(string name) =>
        AsObject().Value.TryGetProperty(name, out var member)
            ? new(member, File, $"{Path}.{name}")
            : throw Error($"{Path}.{name} is missing");

    /// <summary>The member <paramref name="name"/> of this object; null when it is absent or JSON null.</summary>
    public JsonValueAt? Optional(string name) =>
        AsObject().Value.TryGetProperty(name, out var member)
        && member.ValueKind != JsonValueKind.Null
            ? new(member, File, $"{Path}.{name}")
            : null;

    /// <summary>The elements of this array, which must be an array.</summary>
    public IReadOnlyList<JsonValueAt> Items()
    {
        var array = Expect(JsonValueKind.Array, "an array");
        var file = File;
        var path = Path;
        return
        [
            .. array
                .Value.EnumerateArray()
                .Select((v, i) => new JsonValueAt(v, file, $"{path}[{i}]")),
        ];
    }

    /// <summary>This value, which must be a string.</summary>
    public string AsString() => Expect(JsonValueKind.String, "a string").Value.GetString()!;

    /// <summary>The string member <paramref name="name"/>; null when absent or JSON null.</summary>
    public string? OptionalString(string name) => Optional(name)?.AsString();

    /// <summary>An error about this input: the file, then <paramref name="message"/>.</summary>
    public InvalidInputException Error(string message) => new($"{File}: {message}");

    private JsonValueAt Expect(JsonValueKind kind, string expected) =>
        Value.ValueKind == kind
            ? this
            : throw Error(
                $"{Path}: expected {expected}, found {JsonInput.Describe(Value.ValueKind)}"
            );
}
