using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Server.Api;

/// <summary>GET /health: no token needed.</summary>
internal static class HealthEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints
            .MapGet("/health", GetAsync)
            .WithName("GetHealth")
            .WithTags("health")
            .WithSummary("Packer's version and each build tool's availability")
            .WithDescription(
                "status is ok when Packer answers and every tool is found, degraded otherwise. Answers are "
                    + "cached for a minute. No token needed."
            )
            .AllowAnonymous();

    private static async Task<Ok<HealthReport>> GetAsync(
        HealthProbe probe,
        CancellationToken cancellationToken
    ) => TypedResults.Ok(await probe.GetAsync(cancellationToken));
}
