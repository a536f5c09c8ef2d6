using System.Security.Claims;
using ImageForge.Application.Access;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace ImageForge.Server.Api;

/// <summary>The token's role must be <see cref="Role"/> or a higher one (see <see cref="ApiRoles"/>).</summary>
internal sealed record RoleRequirement(string Role) : IAuthorizationRequirement;

/// <summary>Admits a principal whose role claim ranks at or above the requirement's role.</summary>
internal sealed class RoleRequirementHandler : AuthorizationHandler<RoleRequirement>
{
    protected override Task HandleRequirementAsync(
        AuthorizationHandlerContext context,
        RoleRequirement requirement
    )
    {
        if (ApiRoles.Admits(context.User.FindFirst(ClaimTypes.Role)?.Value, requirement.Role))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// A refused request gets a problem body naming the role it needs (403); an unauthenticated one is challenged by the
/// bearer scheme as usual (401).
/// </summary>
internal sealed class ProblemAuthorizationResultHandler(IProblemDetailsService problems)
    : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(
        RequestDelegate next,
        HttpContext context,
        AuthorizationPolicy policy,
        PolicyAuthorizationResult authorizeResult
    )
    {
        if (!authorizeResult.Forbidden)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        var failed =
            authorizeResult.AuthorizationFailure?.FailedRequirements.OfType<RoleRequirement>()
            ?? [];
        // Every policy of the API has a role requirement; when another requirement failed, the policy's role is
        // still what to ask for, so every 403 names one.
        var needed =
            failed.Select(r => r.Role).MaxBy(ApiRoles.Rank)
            ?? policy
                .Requirements.OfType<RoleRequirement>()
                .Select(r => r.Role)
                .MaxBy(ApiRoles.Rank);
        var role = context.User.FindFirst(ClaimTypes.Role)?.Value ?? "none";
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status403Forbidden,
            Detail = needed is null
                ? $"the token of {context.User.Identity?.Name} (role {role}) may not do this"
                : $"this needs the role {needed} or higher; the token of {context.User.Identity?.Name} has the role {role}",
        };
        if (needed is not null)
        {
            problem.Extensions["required_role"] = needed;
        }

        await problems.WriteAsync(
            new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }
        );
    }
}
