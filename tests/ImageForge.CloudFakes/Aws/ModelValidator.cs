using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImageForge.CloudFakes.Aws;

/// <summary>What a request got wrong against the model.</summary>
internal enum ViolationKind
{
    UnknownOperation,
    UnknownMember,
    MissingMember,
    WrongType,
    NotInEnum,
    OutOfRange,
}

/// <summary>One way a request broke the model; <see cref="Path"/> names the member.</summary>
internal sealed record Violation(ViolationKind Kind, string Path, string Detail)
{
    public override string ToString() => $"{Kind} {Path}: {Detail}";
}

/// <summary>
/// Checks a request, decoded by its protocol into a tree of member names (objects for structures and maps, arrays for
/// lists, JSON scalars), against the input shape: unknown and missing members, types, enum values, min and max.
/// Protocols that carry every value as text (query, ec2, rest headers) convert scalars with <see cref="FromText"/>
/// first, so a value that does not parse stays a string and is reported here as the wrong type.
/// </summary>
internal static class ModelValidator
{
    public static void Validate(Shape shape, JsonNode? value, string path, List<Violation> found)
    {
        switch (shape.Type)
        {
            case "structure":
                if (value is not JsonObject obj)
                {
                    found.Add(new(ViolationKind.WrongType, path, "expected a structure"));
                    return;
                }

                foreach (var required in shape.Required.Where(r => obj[r] is null))
                {
                    found.Add(new(ViolationKind.MissingMember, Join(path, required), "required"));
                }

                foreach (var (name, child) in obj)
                {
                    if (!shape.Members.TryGetValue(name, out var member))
                    {
                        found.Add(
                            new(ViolationKind.UnknownMember, Join(path, name), "not in the model")
                        );
                    }
                    else if (child is not null)
                    {
                        Validate(member.Shape, child, Join(path, name), found);
                    }
                }

                return;
            case "list":
                if (value is not JsonArray list)
                {
                    found.Add(new(ViolationKind.WrongType, path, "expected a list"));
                    return;
                }

                Range(shape, list.Count, path, "items", found);
                for (var i = 0; i < list.Count; i++)
                {
                    Validate(shape.ListMember.Shape, list[i], $"{path}[{i}]", found);
                }

                return;
            case "map":
                if (value is not JsonObject map)
                {
                    found.Add(new(ViolationKind.WrongType, path, "expected a map"));
                    return;
                }

                Range(shape, map.Count, path, "entries", found);
                foreach (var (key, child) in map)
                {
                    Validate(shape.MapKey.Shape, JsonValue.Create(key), $"{path}.{key}", found);
                    Validate(shape.MapValue.Shape, child, $"{path}.{key}", found);
                }

                return;
            default:
                Scalar(shape, value, path, found);
                return;
        }
    }

    private static void Scalar(Shape shape, JsonNode? value, string path, List<Violation> found)
    {
        var kind = value?.GetValueKind();
        switch (shape.Type)
        {
            case "string":
                if (kind != JsonValueKind.String)
                {
                    found.Add(new(ViolationKind.WrongType, path, "expected a string"));
                    return;
                }

                var text = value!.GetValue<string>();
                if (shape.Enum is { } values && !values.Contains(text))
                {
                    found.Add(
                        new(
                            ViolationKind.NotInEnum,
                            path,
                            $"'{text}' is not one of [{string.Join(", ", values)}]"
                        )
                    );
                }

                Range(shape, text.Length, path, "characters", found);
                return;
            case "integer" or "long":
                if (kind != JsonValueKind.Number || !IsIntegral(value!, shape.Type == "integer"))
                {
                    found.Add(new(ViolationKind.WrongType, path, $"expected an {shape.Type}"));
                    return;
                }

                Range(shape, Number(value!), path, "", found);
                return;
            case "float" or "double":
                if (kind != JsonValueKind.Number)
                {
                    found.Add(new(ViolationKind.WrongType, path, "expected a number"));
                }

                return;
            case "boolean":
                if (kind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    found.Add(new(ViolationKind.WrongType, path, "expected true or false"));
                }

                return;
            case "timestamp":
                if (Timestamp(value) is null)
                {
                    found.Add(new(ViolationKind.WrongType, path, "expected a timestamp"));
                }

                return;
            case "blob":
                if (kind != JsonValueKind.String || !IsBase64(value!.GetValue<string>()))
                {
                    found.Add(new(ViolationKind.WrongType, path, "expected base64 bytes"));
                }
                else
                {
                    Range(
                        shape,
                        Convert.FromBase64String(value.GetValue<string>()).Length,
                        path,
                        "bytes",
                        found
                    );
                }

                return;
            default:
                throw new NotSupportedException($"shape type {shape.Type} ({shape.Name})");
        }
    }

    /// <summary>
    /// A scalar as a text protocol carries it, typed by its shape when it parses (booleans, numbers); otherwise the
    /// text itself, which <see cref="Validate"/> then reports.
    /// </summary>
    public static JsonNode FromText(Shape shape, string text) =>
        shape.Type switch
        {
            "boolean" when text is "true" or "false" => JsonValue.Create(text == "true"),
            "integer"
            or "long"
                when long.TryParse(
                    text,
                    NumberStyles.AllowLeadingSign,
                    CultureInfo.InvariantCulture,
                    out var n
                ) => JsonValue.Create(n),
            "float"
            or "double"
                when double.TryParse(
                    text,
                    NumberStyles.Float,
                    CultureInfo.InvariantCulture,
                    out var d
                ) => JsonValue.Create(d),
            _ => JsonValue.Create(text),
        };

    /// <summary>A timestamp member's value: epoch seconds (json) or ISO 8601 / RFC 822 text (the others).</summary>
    public static DateTimeOffset? Timestamp(JsonNode? value)
    {
        switch (value?.GetValueKind())
        {
            case JsonValueKind.Number:
                return DateTimeOffset.FromUnixTimeMilliseconds(
                    (long)Math.Round(Number(value) * 1000)
                );
            case JsonValueKind.String:
                if (value is JsonValue v && v.TryGetValue<DateTimeOffset>(out var typed))
                {
                    return typed;
                }

                return DateTimeOffset.TryParse(
                    value.GetValue<string>(),
                    CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal,
                    out var parsed
                )
                    ? parsed
                    : null;
            default:
                return null;
        }
    }

    private static void Range(
        Shape shape,
        double size,
        string path,
        string unit,
        List<Violation> found
    )
    {
        if (shape.Min is { } min && size < min)
        {
            found.Add(
                new(
                    ViolationKind.OutOfRange,
                    path,
                    $"{size} {unit} is below the minimum {min}".Replace(
                        "  ",
                        " ",
                        StringComparison.Ordinal
                    )
                )
            );
        }

        if (shape.Max is { } max && size > max)
        {
            found.Add(
                new(
                    ViolationKind.OutOfRange,
                    path,
                    $"{size} {unit} is above the maximum {max}".Replace(
                        "  ",
                        " ",
                        StringComparison.Ordinal
                    )
                )
            );
        }
    }

    private static bool IsIntegral(JsonNode value, bool int32)
    {
        if (!value.AsValue().TryGetValue<long>(out var n))
        {
            var d = Number(value);
            if (Math.Floor(d) != d || Math.Abs(d) > long.MaxValue)
            {
                return false;
            }

            n = (long)d;
        }

        return !int32 || n is >= int.MinValue and <= int.MaxValue;
    }

    /// <summary>A number node's value, however it was made (parsed JSON or a typed value).</summary>
    public static double Number(JsonNode value) =>
        double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    private static bool IsBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out _);
    }

    private static string Join(string path, string name) =>
        path.Length == 0 ? name : $"{path}.{name}";
}
