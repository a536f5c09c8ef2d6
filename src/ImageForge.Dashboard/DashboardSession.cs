using System.Security.Claims;
using ImageForge.Application.Access;
using ImageForge.Core.Worker;
using ImageForge.Dashboard.Common;
using ImageForge.Dashboard.Pages;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ImageForge.Dashboard;

/// <summary>
/// Signing in with an API token: the secret is hashed at once and looked up like a bearer token; the cookie then holds
/// the token's name, role, id and hash (never the secret), and every request checks the token is still active, so
/// revoking the token ends its sessions.
/// </summary>
internal static class DashboardSession
{
    public const string SchemeName = "ImageForge.Dashboard";

    public const string PolicyName = "dashboard";

    private const string TokenHashClaim = "imageforge_token_hash";

    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapGet("/signin", SignInPage).AllowAnonymous();
        ui.MapPost("/signin", SignInAsync).AllowAnonymous();
        ui.MapPost("/signout", SignOutAsync).AllowAnonymous();
    }

    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var hash = context.Principal?.FindFirst(TokenHashClaim)?.Value;
        var tokens = context.HttpContext.RequestServices.GetRequiredService<ITokenStore>();
        var token = hash is null
            ? null
            : await tokens.FindActiveTokenAsync(hash, context.HttpContext.RequestAborted);
        if (token is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(SchemeName);
        }
    }

    private static RazorComponentResult SignInPage(
        HttpContext http,
        [FromQuery(Name = "ReturnUrl")] string? returnUrl
    ) =>
        Render.Page<SignIn>(
            http,
            new Dictionary<string, object?> { ["ReturnUrl"] = LocalOrHome(returnUrl) }
        );

    private static async Task<IResult> SignInAsync(
        HttpContext http,
        ITokenStore tokens,
        [FromForm(Name = "token")] string? secret,
        [FromForm(Name = "return_url")] string? returnUrl
    )
    {
        var hash = string.IsNullOrWhiteSpace(secret) ? null : ApiTokens.Hash(secret.Trim());
        var token = hash is null
            ? null
            : await tokens.FindActiveTokenAsync(hash, http.RequestAborted);
        if (token is null || hash is null)
        {
            // Never the secret itself, not even in the page.
            return Render.Page<SignIn>(
                http,
                new Dictionary<string, object?>
                {
                    ["ReturnUrl"] = LocalOrHome(returnUrl),
                    ["Problem"] = string.IsNullOrWhiteSpace(secret)
                        ? "Paste an API token (imageforge tokens create --name NAME --role ROLE prints one)."
                        : "That token is unknown or revoked: create one with imageforge tokens create --name NAME --role ROLE.",
                },
                StatusCodes.Status401Unauthorized
            );
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, token.Actor),
                new Claim(ClaimTypes.Role, token.Role),
                new Claim("imageforge_token_id", token.Id),
                new Claim(TokenHashClaim, hash),
            ],
            SchemeName,
            ClaimTypes.Name,
            ClaimTypes.Role
        );
        await http.SignInAsync(SchemeName, new ClaimsPrincipal(identity));
        return Results.LocalRedirect(LocalOrHome(returnUrl));
    }

    private static async Task<IResult> SignOutAsync(
        HttpContext http,
        [FromForm(Name = ActionPages.FormToken)] string? token
    )
    {
        await http.SignOutAsync(SchemeName);
        return Results.LocalRedirect(DashboardServices.BasePath + "/signin");
    }

    // Only a path of the dashboard's own: an open redirect would make the sign-in page a phishing tool.
    private static string LocalOrHome(string? url) =>
        url is not null
        && url.StartsWith(DashboardServices.BasePath + "/", StringComparison.Ordinal)
        && !url.StartsWith("//", StringComparison.Ordinal)
        && !url.Contains('\\', StringComparison.Ordinal)
            ? url
            : DashboardServices.BasePath + "/";
}
