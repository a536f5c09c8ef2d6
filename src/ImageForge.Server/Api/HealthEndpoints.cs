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
            .WithSummary(
                "Packer's version, each build tool's availability and each cloud's reachability"
            )
            .WithDescription(
                "status is ok when Packer answers, every tool is found and every cloud the definitions target "
                    + "answers with the worker's credentials (per region and role, gallery or project), degraded "
                    + "otherwise. Answers are cached for a minute. No token needed; no identity or secret is shown."
            )
            .AllowAnonymous();

    private static async Task<Ok<HealthReport>> GetAsync(
        HealthProbe probe,
        CancellationToken cancellationToken
    ) => TypedResults.Ok(await probe.GetAsync(cancellationToken));
}
