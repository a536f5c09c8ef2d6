using System.Text;
using ImageForge.Application.Access;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Api;

/// <summary>
/// Every endpoint that reads a JSON body, fed the wrong root types and members of the wrong type: a 400 problem+json
/// whose detail says the body is not the expected object and names the JSON path, never a 500.
/// </summary>
[Trait(BadInput.Trait, BadInput.JsonShape)]
public sealed class RequestBodyShapeSpecs(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string Version = "/api/images/debian-11-cis/versions/2026.11.22.1";

    // Each endpoint with a member of the wrong type for it.
    private static readonly (string Path, string Member, string Json)[] Endpoints =
    [
        ("/api/builds", "$.reason", """{"image":"debian-11-cis","reason":5}"""),
        (Version + "/promote", "$.resume", """{"channel":"dev","resume":"yes"}"""),
        (Version + "/approve", "$.channel", """{"channel":["prod"]}"""),
        (Version + "/revoke", "$.at", """{"reason":"broken","at":{}}"""),
        ("/api/images/debian-11-cis/channels/dev/rollback", "$.to", """{"to":2026}"""),
        ("/api/admit", "$.image_id", """{"provider":"local","image_id":true}"""),
    ];

    // A null body is a missing body: the endpoints answer it with their own validation problem.
    public static IEnumerable<object[]> Bodies =>
        Endpoints.SelectMany(e =>
            BadJson
                .Roots.Where(r => r.Json is not ("null" or ""))
                .Select(r => new object[] { e.Path, r.Shape, r.Json, "" })
                .Append([e.Path, $"{e.Member} of the wrong type", e.Json, e.Member])
        );

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_body_of_the_wrong_shape_is_a_400_problem_naming_the_body(
        string path,
        string shape,
        string json,
        string says
    )
    {
        using var client = api.ClientFor(ApiRoles.Admin);

        using var response = await client.PostAsync(
            path,
            new StringContent(json, Encoding.UTF8, "application/json")
        );

        var problem = await ApiAssert.ProblemAsync(response, 400);
        var detail = problem.GetProperty("detail").GetString();
        detail.ShouldNotBeNull(shape);
        detail.ShouldContain("request body", Case.Sensitive, shape);
        detail.ShouldContain(says, Case.Sensitive, shape);
    }
}
