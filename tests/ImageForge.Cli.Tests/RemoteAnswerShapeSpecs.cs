using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// <c>--server</c> pointed at something that answers JSON of the wrong shape (another service, a proxy's error page):
/// the command fails as a worker error (exit 3) saying the answer is not a worker's, never with a JSON exception;
/// an error status with a body that is not a problem document shows the body (exit 2 for a 400).
/// </summary>
[Trait(BadInput.Trait, BadInput.JsonShape)]
public sealed class RemoteAnswerShapeSpecs
{
    public static IEnumerable<object[]> Answers =>
        BadJson
            .Roots.Select(r => new object[] { r.Shape, r.Json })
            .Append(["an object without members", "{}"])
            .Append(["a build's id a number", """{"id":1}"""]);

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Answers))]
    public async Task A_success_answer_of_the_wrong_shape_is_a_worker_error_exit_3(
        string shape,
        string json
    )
    {
        await using var server = new FakeHttpServer(_ => (200, "application/json", json));

        var result = await RunAsync(server, "builds", "show", "1");

        result.ExitCode.ShouldBe(3, $"{shape}\n{result}");
        result.Error.ShouldContain(
            "but the answer is not an ImageForge worker's JSON",
            Case.Sensitive,
            shape
        );
    }

    [Theory(Timeout = 60_000)]
    [InlineData("[\"no\"]")]
    [InlineData("{\"detail\": 5, \"errors\": {\"image\": \"x\"}}")]
    [InlineData("not json")]
    public async Task An_error_answer_whose_body_is_not_a_problem_document_shows_the_body(
        string body
    )
    {
        await using var server = new FakeHttpServer(_ => (400, "application/problem+json", body));

        var result = await RunAsync(server, "builds", "list");

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain($": 400: {body}");
    }

    private static Task<CliResult> RunAsync(FakeHttpServer server, params string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            new Dictionary<string, string> { ["IMAGEFORGE_TOKEN"] = "ifg_test" },
            CancellationToken.None,
            [.. args, "--server", server.Url.ToString()]
        );
}
