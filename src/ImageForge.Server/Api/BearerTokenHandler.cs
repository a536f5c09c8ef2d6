using System.Security.Claims;
using System.Text.Encodings.Web;
using ImageForge.Application.Access;
using ImageForge.Core.Worker;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImageForge.Server.Api;

/// <summary>
/// <c>Authorization: Bearer &lt;secret&gt;</c>: the secret's sha256 names an active token in the token store; the
/// principal's name is the token's actor and its role claim the token's role. The secret is hashed at once and
/// never logged nor stored.
/// </summary>
internal sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ITokenStore tokens,
    IProblemDetailsService problems
) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "Bearer";

    /// <summary>The claim holding the token's id (what <c>tokens revoke</c> takes).</summary>
    public const string TokenIdClaim = "imageforge_token_id";

    private const string Prefix = "Bearer ";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (
            string.IsNullOrEmpty(header)
            || !header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
        )
        {
            return AuthenticateResult.NoResult();
        }

        var secret = header[Prefix.Length..].Trim();
        if (secret.Length == 0)
        {
            return AuthenticateResult.Fail("the bearer token is empty");
        }

        var token = await tokens.FindActiveTokenAsync(
            ApiTokens.Hash(secret),
            Context.RequestAborted
        );
        if (token is null)
        {
            // Never the secret itself: this message reaches the log.
            return AuthenticateResult.Fail("the bearer token is unknown or revoked");
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, token.Actor),
                new Claim(ClaimTypes.Role, token.Role),
                new Claim(TokenIdClaim, token.Id),
            ],
            SchemeName,
            ClaimTypes.Name,
            ClaimTypes.Role
        );
        return AuthenticateResult.Success(
            new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)
        );
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = result.Failure is null
            ? "Bearer"
            : "Bearer error=\"invalid_token\"";
        await problems.WriteAsync(
            new ProblemDetailsContext
            {
                HttpContext = Context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status401Unauthorized,
                    Detail = result.Failure is { } failure
                        ? $"{failure.Message}: create one with 'imageforge tokens create --name NAME --role ROLE'"
                        : "this endpoint needs a token: send 'Authorization: Bearer <secret>' (imageforge tokens create prints one)",
                },
            }
        );
    }
}
