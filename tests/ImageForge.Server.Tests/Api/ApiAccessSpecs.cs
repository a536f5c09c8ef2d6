using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ImageForge.Application.Access;
using ImageForge.Core.Worker;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Api;

/// <summary>Bearer tokens and the role order viewer &lt; builder &lt; release-manager &lt; admin.</summary>
public sealed class ApiAccessSpecs(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task A_request_without_a_token_is_refused_with_401_and_a_bearer_challenge()
    {
        using var client = api.CreateClient();

        using var response = await client.GetAsync("/api/builds");

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ShouldHaveSingleItem().Scheme.ShouldBe("Bearer");
        var problem = await ApiAssert.ProblemAsync(response, 401);
        problem.GetProperty("detail").GetString()!.ShouldContain("Authorization: Bearer");
    }

    [Fact]
    public async Task An_unknown_token_is_refused_with_401_invalid_token()
    {
        using var client = api.ClientWithSecret(ApiTokens.Generate());

        using var response = await client.GetAsync("/api/builds");

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response
            .Headers.WwwAuthenticate.ShouldHaveSingleItem()
            .Parameter.ShouldBe("error=\"invalid_token\"");
        await ApiAssert.ProblemAsync(response, 401);
    }

    [Fact]
    public async Task A_revoked_token_is_refused_with_401()
    {
        var (secret, token) = api.CreateToken(ApiRoles.Admin);
        using var client = api.ClientWithSecret(secret);
        (await client.GetAsync("/api/builds")).StatusCode.ShouldBe(HttpStatusCode.OK);

        (
            await ((ITokenStore)api.Catalog).RevokeTokenAsync(token.Id, api.Time.GetUtcNow())
        ).ShouldBeTrue();
        using var response = await client.GetAsync("/api/builds");

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        await ApiAssert.ProblemAsync(response, 401);
    }

    [Theory]
    [InlineData(ApiRoles.Viewer)]
    [InlineData(ApiRoles.Builder)]
    [InlineData(ApiRoles.ReleaseManager)]
    [InlineData(ApiRoles.Admin)]
    public async Task Every_role_may_read(string role)
    {
        using var client = api.ClientFor(role);

        foreach (
            var path in new[] { "/api/builds", "/api/images", "/api/audit", "/api/audit/verify" }
        )
        {
            using var response = await client.GetAsync(path);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
        }
    }

    [Fact]
    public async Task A_viewer_may_not_queue_a_build_and_is_told_the_role_needed()
    {
        using var client = api.ClientFor(ApiRoles.Viewer, "vera");

        using var response = await client.PostAsJsonAsync(
            "/api/builds",
            new { image = "debian-12-base" }
        );

        var problem = await ApiAssert.ProblemAsync(response, 403);
        problem.GetProperty("required_role").GetString().ShouldBe(ApiRoles.Builder);
        problem.GetProperty("detail").GetString()!.ShouldContain("builder");
        problem.GetProperty("detail").GetString()!.ShouldContain("vera");
        api.Builds.Submissions.ShouldNotContain(s => s.Requester == "vera");
    }

    [Theory]
    [InlineData(ApiRoles.Builder)]
    [InlineData(ApiRoles.ReleaseManager)]
    [InlineData(ApiRoles.Admin)]
    public async Task A_builder_or_higher_may_queue_a_build(string role)
    {
        using var client = api.ClientFor(role);

        using var response = await client.PostAsJsonAsync(
            "/api/builds",
            new { image = "access-" + role }
        );

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task A_viewer_may_not_cancel_a_build()
    {
        var build = await api.StartBuildAsync("access-cancel");
        using var client = api.ClientFor(ApiRoles.Viewer);

        using var response = await client.PostAsync($"/api/builds/{build.Id}/cancel", null);

        await ApiAssert.ProblemAsync(response, 403);
        api.Builds.Cancellations.ShouldNotContain(c => c.BuildId == build.Id);
    }

    [Fact]
    public async Task Health_and_the_OpenAPI_document_need_no_token()
    {
        using var client = api.CreateClient();

        (await client.GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync("/openapi/v1.json")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public void A_generated_secret_is_ifg_and_43_base64url_characters_and_is_stored_as_its_sha256()
    {
        var secret = ApiTokens.Generate();

        secret.ShouldMatch("^ifg_[A-Za-z0-9_-]{43}$");
        ApiTokens.Generate().ShouldNotBe(secret);
        // sha256sum of the bytes "ifg_abc", lowercase hex.
        ApiTokens
            .Hash("ifg_abc")
            .ShouldBe("a596f5f23877258ddf7c5dd319a22e714c169423d0c4a1136f558806178a00dd");
        ApiTokens.Hash(secret).ShouldMatch("^[0-9a-f]{64}$");
    }

    [Fact]
    public async Task The_secret_never_reaches_the_catalog_file()
    {
        var (secret, _) = api.CreateToken(ApiRoles.Viewer);
        using var client = api.ClientWithSecret(secret);
        (await client.GetAsync("/api/builds")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var needle = Encoding.UTF8.GetBytes(secret);
        foreach (var file in Directory.GetFiles(api.Data.Root, "catalog.db*"))
        {
            var bytes = await ReadSharedAsync(file);
            bytes.AsSpan().IndexOf(needle).ShouldBe(-1, file);
        }
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(
            path,
            FileMode.Open,
            FileAccess.Read,
            FileShare.ReadWrite | FileShare.Delete
        );
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}

/// <summary>Assertions on problem details answers.</summary>
internal static class ApiAssert
{
    /// <summary>Checks the status and that the body is an RFC 7807 problem with that status; returns the body.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).ShouldBe(status, body);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", body);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        problem.GetProperty("status").GetInt32().ShouldBe(status);
        problem.GetProperty("title").GetString().ShouldNotBeNullOrEmpty();
        return problem;
    }

    public static async Task<JsonElement> JsonAsync(
        HttpResponseMessage response,
        HttpStatusCode status
    )
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, body);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json", body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
