using ImageForge.Application.Access;
using ImageForge.Cli.Tests.Promotion;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Api;

/// <summary>
/// Every 403 names the role that would have been allowed (<c>required_role</c>, as docs/worker.md promises): the
/// endpoint's own role and the channel rules alike (a restricted channel, skipping a channel, rolling back prod).
/// </summary>
public sealed class ForbiddenRoleSpecs
{
    private const string Image = "debian-11-cis";

    [Theory(Timeout = 60_000)]
    // The channel rules, decided by the promotion operations.
    [InlineData(ApiRoles.Builder, "promote", """{"channel":"prod"}""", ApiRoles.ReleaseManager)]
    [InlineData(
        ApiRoles.Builder,
        "promote",
        """{"channel":"prod","skip_reason":"outage"}""",
        ApiRoles.Admin
    )]
    [InlineData(
        ApiRoles.ReleaseManager,
        "promote",
        """{"channel":"staging","skip_reason":"outage"}""",
        ApiRoles.Admin
    )]
    [InlineData(ApiRoles.Builder, "rollback", "{}", ApiRoles.ReleaseManager)]
    // The endpoints' own roles, decided by the authorization policy.
    [InlineData(ApiRoles.Viewer, "promote", """{"channel":"dev"}""", ApiRoles.Builder)]
    [InlineData(ApiRoles.Builder, "approve", """{"channel":"prod"}""", ApiRoles.ReleaseManager)]
    [InlineData(ApiRoles.Builder, "revoke", """{"reason":"broken"}""", ApiRoles.ReleaseManager)]
    [InlineData(ApiRoles.ReleaseManager, "deliveries", "", ApiRoles.Admin)]
    public async Task A_403_names_the_role_that_is_required(
        string role,
        string action,
        string body,
        string required
    )
    {
        await using var api = new ApiFactory();
        var v = await SignedVersions.RecordAsync(api.Data.Root, api.Time);
        using var client = api.ClientFor(role);
        var version = $"/api/images/{Image}/versions/{v.Version}";

        using var response = action switch
        {
            "deliveries" => await client.GetAsync("/api/webhooks/deliveries"),
            "rollback" => await client.PostAsync(
                $"/api/images/{Image}/channels/prod/rollback",
                Json(body)
            ),
            _ => await client.PostAsync($"{version}/{action}", Json(body)),
        };

        var problem = await ApiAssert.ProblemAsync(response, 403);
        problem.TryGetProperty("required_role", out var named).ShouldBeTrue(problem.ToString());
        named.GetString().ShouldBe(required, problem.ToString());
    }

    private static StringContent Json(string body) =>
        new(body, System.Text.Encoding.UTF8, "application/json");
}
