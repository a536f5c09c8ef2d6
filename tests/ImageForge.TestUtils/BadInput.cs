using System.Text;

namespace ImageForge.TestUtils;

/// <summary>
/// The trait every bad-input spec carries, <c>[Trait(BadInput.Trait, BadInput.JsonShape)]</c>, one value per family,
/// so <c>dotnet test --filter bad-input=json-shape</c> counts how many bad inputs the suite feeds (docs/testing.md).
/// </summary>
public static class BadInput
{
    public const string Trait = "bad-input";

    /// <summary>JSON of the wrong root type, a member of the wrong type, too deep, too large, not JSON.</summary>
    public const string JsonShape = "json-shape";

    /// <summary>YAML input that is not valid UTF-8.</summary>
    public const string Encoding = "encoding";

    /// <summary>Request bodies, fields and CLI arguments over their limits.</summary>
    public const string Limits = "limits";

    /// <summary>A definition whose name is not its file name.</summary>
    public const string DefinitionName = "definition-name";
}

/// <summary>JSON documents of the wrong shape, as theory rows (label, json) for the readers' spec tables.</summary>
public static class BadJson
{
    /// <summary>Nesting one level deeper than System.Text.Json's limit of 64.</summary>
    public static string TooDeep { get; } =
        new StringBuilder().Insert(0, "[", 65).Insert(65, "]", 65).ToString();

    /// <summary>Every root that is not an object, broken and too deeply nested JSON.</summary>
    public static IReadOnlyList<(string Shape, string Json)> Roots { get; } =
    [
        ("root an array", "[]"),
        ("root an array of objects", "[{}]"),
        ("root a string", "\"plan\""),
        ("root a number", "42"),
        ("root null", "null"),
        ("root a boolean", "true"),
        ("empty file", ""),
        ("not JSON", "{\"a\": "),
        ("nested deeper than 64", TooDeep),
        ("objects nested deeper than 64", Objects(65)),
    ];

    /// <summary>
    /// Theory rows (shape, json, says): <see cref="Roots"/> (says empty), then the reader's own wrong members with
    /// what the error must say (the JSON path of the wrong member).
    /// </summary>
    public static IEnumerable<object[]> Rows(
        params (string Shape, string Json, string Says)[] members
    ) =>
        Roots
            .Select(r => new object[] { r.Shape, r.Json, "" })
            .Concat(members.Select(m => new object[] { m.Shape, m.Json, m.Says }));

    private static string Objects(int depth) =>
        new StringBuilder().Insert(0, "{\"a\":", depth).Append('1').Append('}', depth).ToString();
}
