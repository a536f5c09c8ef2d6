using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Inputs;

/// <summary>
/// A typed document of the wrong shape is refused in the words of the file's reader: the JSON expected where it was
/// wrong, never a .NET type name or System.Text.Json's own copy of the path and byte position.
/// </summary>
public sealed class JsonWordingSpecs
{
    public enum Level
    {
        Low,
        High,
    }

    public sealed record Entry(string Name, int Count, Level Level, DateOnly? Since);

    public sealed record Document(IReadOnlyList<Entry> Entries);

    private static readonly JsonSerializerOptions Options = JsonInput.Strict(
        new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, false) },
            RespectRequiredConstructorParameters = true,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        }
    );

    [Theory]
    [InlineData("""{"entries":{}}""", "r.json: $.entries: not a report: expected an array")]
    [InlineData("""{"entries":[7]}""", "r.json: $.entries[0]: not a report: expected an object")]
    [InlineData(
        """{"entries":[{"name":1,"count":1,"level":"low"}]}""",
        "r.json: $.entries[0].name: not a report: expected a string"
    )]
    [InlineData(
        """{"entries":[{"name":"a","count":"1","level":"low"}]}""",
        "r.json: $.entries[0].count: not a report: expected a whole number"
    )]
    [InlineData(
        """{"entries":[{"name":"a","count":1,"level":"urgent"}]}""",
        "r.json: $.entries[0].level: not a report: expected one of low, high"
    )]
    [InlineData(
        """{"entries":[{"name":"a","count":1,"level":"low","since":"soon"}]}""",
        "r.json: $.entries[0].since: not a report: expected a date (YYYY-MM-DD)"
    )]
    [InlineData(
        """{"entries":[{"name":null,"count":1,"level":"low"}]}""",
        "$.entries[0].name: not a report: null is not allowed here: expected a string"
    )]
    [InlineData(
        """{"entries":[{"count":1,"level":"low"}]}""",
        "not a report: missing required field(s) 'name'"
    )]
    [InlineData("""{"entries":[],"extra":1}""", "not a report: unknown field 'extra'")]
    public void A_wrong_shape_names_the_path_and_what_was_expected_in_JSON_terms(
        string json,
        string says
    )
    {
        var error = Should.Throw<InvalidInputException>(() =>
            JsonInput.Deserialize<Document>(
                Encoding.UTF8.GetBytes(json),
                Options,
                "r.json",
                "a report"
            )
        );

        error.Message.ShouldContain(says, Case.Sensitive, error.Message);
        error.Message.ShouldNotContain("ImageForge.", Case.Sensitive, error.Message);
        error.Message.ShouldNotContain("System.", Case.Sensitive, error.Message);
        error.Message.ShouldNotContain("LineNumber", Case.Sensitive, error.Message);
    }
}
