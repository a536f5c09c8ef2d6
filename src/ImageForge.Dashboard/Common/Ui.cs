using System.Security.Claims;
using ImageForge.Application.Access;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ImageForge.Dashboard.Common;

/// <summary>What every page knows of its request: who is signed in, with what role, and the antiforgery field.</summary>
public sealed class Ui
{
    internal Ui(string? actor, string? role, string fieldName, string requestToken, string path)
    {
        Actor = actor;
        Role = role;
        AntiforgeryField = fieldName;
        AntiforgeryToken = requestToken;
        Path = path;
    }

    /// <summary>The token's name, or null before sign-in.</summary>
    public string? Actor { get; }

    /// <summary>The token's role, or null before sign-in.</summary>
    public string? Role { get; }

    /// <summary>The antiforgery form field's name.</summary>
    public string AntiforgeryField { get; }

    /// <summary>The antiforgery request token for this user.</summary>
    public string AntiforgeryToken { get; }

    /// <summary>The request's path.</summary>
    public string Path { get; }

    /// <summary>Whether the signed-in role may do what <paramref name="required"/> may (the API's rule).</summary>
    public bool Can(string required) => ApiRoles.Admits(Role, required);

    internal static Ui Of(HttpContext http)
    {
        var tokens = http
            .RequestServices.GetRequiredService<IAntiforgery>()
            .GetAndStoreTokens(http);
        var user = http.User.Identity?.IsAuthenticated == true ? http.User : null;
        return new Ui(
            user?.Identity?.Name,
            user?.FindFirst(ClaimTypes.Role)?.Value,
            tokens.FormFieldName,
            tokens.RequestToken ?? "",
            http.Request.Path
        );
    }
}
