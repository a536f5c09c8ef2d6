using System.Net;
using System.Text;
using ImageForge.Application.Access;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Api;

/// <summary>
/// The API's request limits (docs/worker.md): a body over 1 MiB is a 413 problem, said length or chunked, and a
/// field over its limit (a reason of more than 1,000 characters, a name definitions would not allow) a 400
/// validation problem naming the field; nothing is queued or changed either way.
/// </summary>
[Trait(BadInput.Trait, BadInput.Limits)]
public sealed class RequestLimitSpecs(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string Version = "/api/images/debian-11-cis/versions/2026.11.22.1";
    private const string Rollback = "/api/images/debian-11-cis/channels/dev/rollback";

    public static TheoryData<string> Endpoints =>
        [
            "/api/builds",
            Version + "/promote",
            Version + "/approve",
            Version + "/revoke",
            Rollback,
            "/api/admit",
        ];

    public static TheoryData<string, string, string> Fields =>
        new()
        {
            { "/api/builds", Json(("image", "debian-11-cis"), ("reason", Long(1001))), "reason" },
            { "/api/builds", Json(("image", Long(64))), "image" },
            { "/api/builds", Json(("image", "Debian 11"), ("target", "local")), "image" },
            { "/api/builds", Json(("image", "debian-11-cis"), ("target", Long(64))), "target" },
            {
                Version + "/promote",
                Json(("channel", "dev"), ("skip_reason", Long(1001))),
                "skip_reason"
            },
            { Version + "/promote", Json(("channel", Long(64))), "channel" },
            { Version + "/approve", Json(("channel", "prod"), ("reason", Long(1001))), "reason" },
            { Version + "/approve", Json(("channel", "Prod!")), "channel" },
            { Version + "/revoke", Json(("reason", Long(1001))), "reason" },
            { Version + "/revoke", Json(("reason", "broken"), ("at", Long(65))), "at" },
            { Rollback, Json(("reason", Long(1001))), "reason" },
            { Rollback, Json(("to", Long(65))), "to" },
            { "/api/admit", Json(("provider", "local"), ("image_id", Long(4097))), "image_id" },
            {
                "/api/admit",
                Json(("provider", "local"), ("image_id", "sha256:00"), ("region", Long(64))),
                "region"
            },
            {
                "/api/admit",
                Json(("provider", "local"), ("image_id", "sha256:00"), ("channel", "PROD")),
                "channel"
            },
            {
                $"/api/images/{Long(64)}/versions/2026.11.22.1/promote",
                Json(("channel", "dev")),
                "image"
            },
        };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_body_over_1_MiB_is_a_413_problem_and_nothing_is_queued(string path)
    {
        using var client = api.ClientFor(ApiRoles.Admin);
        var tenMiB = Long(10 * 1024 * 1024);

        using var response = await client.PostAsync(
            path,
            Content(
                Json(
                    ("image", "debian-11-cis"),
                    ("channel", "dev"),
                    ("provider", "local"),
                    ("image_id", "sha256:00"),
                    ("reason", tenMiB)
                )
            )
        );

        var problem = await ApiAssert.ProblemAsync(response, 413);
        problem.GetProperty("detail").GetString()!.ShouldContain("larger than 1048576 bytes");
        api.Builds.Submissions.ShouldNotContain(s => s.Reason == tenMiB);
    }

    [Fact]
    public async Task A_chunked_body_over_1_MiB_is_a_413_problem_too()
    {
        using var client = api.ClientFor(ApiRoles.Builder);
        var body = Encoding.UTF8.GetBytes(
            Json(("image", "debian-11-cis"), ("reason", Long(2 * 1024 * 1024)))
        );

        using var response = await client.PostAsync("/api/builds", new Chunked(body));

        await ApiAssert.ProblemAsync(response, 413);
        api.Builds.Submissions.ShouldNotContain(s => s.Reason != null && s.Reason.Length > 1000);
    }

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task A_field_over_its_limit_is_a_400_validation_problem_naming_the_field(
        string path,
        string json,
        string field
    )
    {
        using var client = api.ClientFor(ApiRoles.Admin);
        var before = api.Builds.Submissions.Count;

        using var response = await client.PostAsync(path, Content(json));

        var problem = await ApiAssert.ProblemAsync(response, 400);
        problem
            .GetProperty("errors")
            .TryGetProperty(field, out var errors)
            .ShouldBeTrue(problem.ToString());
        errors[0].GetString()!.ShouldMatch("^(at most|expected) ", problem.ToString());
        api.Builds.Submissions.Count.ShouldBe(before);
    }

    [Fact]
    public async Task A_reason_of_exactly_1000_characters_is_queued_with_it()
    {
        using var client = api.ClientFor(ApiRoles.Builder);
        var reason = Long(1000);

        using var response = await client.PostAsync(
            "/api/builds",
            Content(Json(("image", "debian-11-cis"), ("reason", reason)))
        );

        response.StatusCode.ShouldBe(
            HttpStatusCode.Accepted,
            await response.Content.ReadAsStringAsync()
        );
        api.Builds.Submissions.ShouldContain(s => s.Reason == reason);
    }

    private static string Long(int length) => new('x', length);

    private static string Json(params (string Name, string Value)[] fields) =>
        System.Text.Json.JsonSerializer.Serialize(
            fields.ToDictionary(f => f.Name, f => f.Value, StringComparer.Ordinal)
        );

    private static StringContent Content(string json) =>
        new(json, Encoding.UTF8, "application/json");

    // A body that does not say its length: sent in chunks.
    private sealed class Chunked : HttpContent
    {
        private readonly byte[] _body;

        public Chunked(byte[] body)
        {
            _body = body;
            Headers.ContentType = new("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            stream.WriteAsync(_body).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
