using System.Text;
using System.Text.Json;
using ImageForge.Core.Provenance;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Signing.Tests;

/// <summary>
/// The DSSE envelope and the in-toto statement it signs, read back by <c>verify</c>, <c>admit</c> and promotion, fed
/// every wrong root and member: each is the reader's one documented error (the verifier turns it into a problem naming
/// the file), never an <see cref="InvalidOperationException"/> from a JSON accessor.
/// </summary>
[Trait(BadInput.Trait, BadInput.JsonShape)]
public sealed class EnvelopeShapeSpecs
{
    private const string Statement = ProvenanceStatement.StatementType;

    public static IEnumerable<object[]> Envelopes =>
        BadJson.Rows(
            (
                "signatures an object",
                """{"payloadType":"t","payload":"e30=","signatures":{}}""",
                ""
            ),
            (
                "a signature a string",
                """{"payloadType":"t","payload":"e30=","signatures":["c2ln"]}""",
                ""
            ),
            (
                "sig a number",
                """{"payloadType":"t","payload":"e30=","signatures":[{"sig":1}]}""",
                ""
            ),
            ("payload a number", """{"payloadType":"t","payload":1,"signatures":[]}""", ""),
            ("payloadType an array", """{"payloadType":[],"payload":"e30=","signatures":[]}""", ""),
            ("payload not base64", """{"payloadType":"t","payload":"%%%","signatures":[]}""", "")
        );

    public static IEnumerable<object[]> Statements =>
        BadJson.Rows(
            (
                "subject an object",
                $$$"""{"_type":"{{{Statement}}}","subject":{}}""",
                "in-toto statement"
            ),
            ("_type a number", """{"_type":1,"subject":[]}""", "in-toto statement"),
            (
                "a subject a number",
                $$$"""{"_type":"{{{Statement}}}","subject":[1]}""",
                "$.subject[0]: expected an object, found a number"
            ),
            (
                "name a number",
                $$$"""{"_type":"{{{Statement}}}","subject":[{"name":5}]}""",
                "$.subject[0].name: expected a string, found a number"
            ),
            (
                "digest a string",
                $$$"""{"_type":"{{{Statement}}}","subject":[{"name":"a","digest":"x"}]}""",
                "$.subject[0].digest: expected an object, found a string"
            ),
            (
                "sha256 a number",
                $$$"""{"_type":"{{{Statement}}}","subject":[{"name":"a","digest":{"sha256":5}}]}""",
                "$.subject[0].digest.sha256: expected a string, found a number"
            )
        );

    [Theory]
    [MemberData(nameof(Envelopes))]
    public void An_envelope_of_the_wrong_shape_is_a_format_error(
        string shape,
        string json,
        string says
    )
    {
        var error = Should.Throw<FormatException>(
            () => Dsse.Parse(Encoding.UTF8.GetBytes(json)),
            shape
        );

        error.Message.ShouldContain(says, Case.Sensitive, shape);
    }

    [Theory]
    [MemberData(nameof(Statements))]
    public void A_statement_of_the_wrong_shape_is_a_JSON_error_naming_the_path(
        string shape,
        string json,
        string says
    )
    {
        var error = Should.Throw<JsonException>(
            () => ProvenanceStatement.ReadSubjects(Encoding.UTF8.GetBytes(json)),
            shape
        );

        error.Message.ShouldContain(says, Case.Sensitive, shape);
    }
}
