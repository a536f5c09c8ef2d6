using System.Text.Json;
using ImageForge.TestUtils;

namespace ImageForge.Signing.Tests;

/// <summary>
/// The AWS KMS service model (botocore service-2.json in tests/specs/aws-kms): checks a JSON 1.1 request body
/// against an operation's input shape, member by member, type by type.
/// </summary>
internal static class KmsModel
{
    private static readonly Lazy<JsonDocument> Model = new(() =>
        JsonDocument.Parse(
            File.ReadAllText(Path.Combine(RepoPaths.Specs, "aws-kms", "service-2.json"))
        )
    );

    public static JsonElement Root => Model.Value.RootElement;

    /// <summary>X-Amz-Target for an operation: the model's targetPrefix, a dot, the operation name.</summary>
    public static string TargetOf(string operation) =>
        $"{Root.GetProperty("metadata").GetProperty("targetPrefix").GetString()}.{operation}";

    /// <summary>Content type of the model's JSON protocol version.</summary>
    public static string ContentType =>
        $"application/x-amz-json-{Root.GetProperty("metadata").GetProperty("jsonVersion").GetString()}";

    /// <summary>Every way the body breaks the operation's input shape; empty when it conforms.</summary>
    public static IReadOnlyList<string> ProblemsWith(string operation, string body)
    {
        var problems = new List<string>();
        var input = Root.GetProperty("operations")
            .GetProperty(operation)
            .GetProperty("input")
            .GetProperty("shape")
            .GetString()!;
        using var document = JsonDocument.Parse(body);
        Check(input, document.RootElement, "$", problems);
        return problems;
    }

    private static void Check(
        string shapeName,
        JsonElement value,
        string path,
        List<string> problems
    )
    {
        var shape = Root.GetProperty("shapes").GetProperty(shapeName);
        var type = shape.GetProperty("type").GetString();
        switch (type)
        {
            case "structure":
                if (value.ValueKind != JsonValueKind.Object)
                {
                    problems.Add($"{path}: expected an object for {shapeName}");
                    return;
                }

                var members = shape.GetProperty("members");
                foreach (var property in value.EnumerateObject())
                {
                    if (!members.TryGetProperty(property.Name, out var member))
                    {
                        problems.Add($"{path}.{property.Name}: not a member of {shapeName}");
                        continue;
                    }

                    Check(
                        member.GetProperty("shape").GetString()!,
                        property.Value,
                        $"{path}.{property.Name}",
                        problems
                    );
                }

                if (shape.TryGetProperty("required", out var required))
                {
                    foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
                    {
                        if (!value.TryGetProperty(name, out _))
                        {
                            problems.Add($"{path}.{name}: required by {shapeName} but absent");
                        }
                    }
                }

                break;
            case "string":
                if (value.ValueKind != JsonValueKind.String)
                {
                    problems.Add($"{path}: expected a string ({shapeName})");
                    return;
                }

                var text = value.GetString()!;
                if (
                    shape.TryGetProperty("enum", out var options)
                    && options.EnumerateArray().All(o => o.GetString() != text)
                )
                {
                    problems.Add($"{path}: '{text}' is not one of {shapeName}'s values");
                }

                CheckLength(shape, text.Length, path, problems);
                break;
            case "blob":
                if (value.ValueKind != JsonValueKind.String)
                {
                    problems.Add($"{path}: expected a base64 string ({shapeName})");
                    return;
                }

                try
                {
                    CheckLength(
                        shape,
                        Convert.FromBase64String(value.GetString()!).Length,
                        path,
                        problems
                    );
                }
                catch (FormatException)
                {
                    problems.Add($"{path}: not base64 ({shapeName})");
                }

                break;
            case "list":
                if (value.ValueKind != JsonValueKind.Array)
                {
                    problems.Add($"{path}: expected an array ({shapeName})");
                    return;
                }

                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    Check(
                        shape.GetProperty("member").GetProperty("shape").GetString()!,
                        item,
                        $"{path}[{i++}]",
                        problems
                    );
                }

                break;
            case "boolean":
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    problems.Add($"{path}: expected a boolean ({shapeName})");
                }

                break;
            default:
                problems.Add($"{path}: shape type {type} is not checked by this spec");
                break;
        }
    }

    private static void CheckLength(
        JsonElement shape,
        int length,
        string path,
        List<string> problems
    )
    {
        if (shape.TryGetProperty("min", out var min) && length < min.GetInt32())
        {
            problems.Add($"{path}: length {length} below the model's min {min.GetInt32()}");
        }

        if (shape.TryGetProperty("max", out var max) && length > max.GetInt32())
        {
            problems.Add($"{path}: length {length} above the model's max {max.GetInt32()}");
        }
    }
}
