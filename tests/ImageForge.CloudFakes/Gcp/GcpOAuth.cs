using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace ImageForge.CloudFakes.Gcp;

/// <summary>An access token the token endpoint issued.</summary>
internal sealed record AccessGrant(
    string ClientEmail,
    IReadOnlySet<string> Scopes,
    DateTimeOffset Expires
);

/// <summary>
/// Google's OAuth 2.0 token endpoint for service accounts: the JWT bearer grant (RFC 7523) with an RS256 assertion
/// signed by the account's key, checked as Google checks it (signature against the registered public key, iss,
/// aud = Google's token audience or the token URI, scope, iat/exp at most an hour apart and around now). Refusals are Google's: 400 with
/// <c>{"error":"invalid_grant","error_description":...}</c>.
/// </summary>
internal sealed partial class GcpOAuth(TimeProvider time, Uri tokenUri)
{
    private const string JwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);

    // Google's token endpoint knows itself by these names, whatever URL the request reached it at: Google.Apis.Auth
    // signs aud = https://oauth2.googleapis.com/token even when the key's token_uri points elsewhere.
    private static readonly HashSet<string?> GoogleAudiences =
    [
        "https://oauth2.googleapis.com/token",
        "https://accounts.google.com/o/oauth2/token",
        "https://www.googleapis.com/oauth2/v4/token",
    ];

    private readonly ConcurrentDictionary<string, (string KeyId, RSA PublicKey)> _accounts = new(
        StringComparer.Ordinal
    );
    private readonly ConcurrentDictionary<string, AccessGrant> _grants = new(
        StringComparer.Ordinal
    );

    public Uri TokenUri { get; } = tokenUri;

    public void Register(string clientEmail, string keyId, RSA publicKey) =>
        _accounts[clientEmail] = (keyId, publicKey);

    public string? KeyIdOf(string clientEmail) =>
        _accounts.TryGetValue(clientEmail, out var account) ? account.KeyId : null;

    /// <summary>
    /// The grant behind a bearer token, or null when it is unknown or expired: a token this endpoint issued, or a
    /// self-signed JWT (Google's "JWT access", AIP-4111, which Gax uses for service accounts by default) signed by a
    /// registered key with a <c>scope</c> claim or a service audience.
    /// </summary>
    public AccessGrant? Grant(string token, Uri serviceRoot)
    {
        if (_grants.TryGetValue(token, out var grant))
        {
            return grant.Expires > time.GetUtcNow() ? grant : null;
        }
        var (_, _, selfSigned) = Verify(token, serviceRoot);
        return selfSigned;
    }

    /// <summary>Answers one token request; returns a problem with the request itself (not a refusal), or null.</summary>
    public async Task<string?> HandleAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            await Refuse(context, "invalid_request", "Bad Request");
            return "token request is not application/x-www-form-urlencoded";
        }
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var grantType = form["grant_type"].ToString();
        if (grantType != JwtBearer)
        {
            await Refuse(context, "unsupported_grant_type", $"Invalid grant_type: {grantType}");
            return $"token request with grant_type '{grantType}' (the fake models the JWT bearer grant only)";
        }
        var (error, description, grant) = Verify(form["assertion"].ToString(), serviceRoot: null);
        if (grant is null)
        {
            await Refuse(context, error, description);
            return null;
        }
        var token = "ya29.fake-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        _grants[token] = grant;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(
            new JsonObject
            {
                ["access_token"] = token,
                ["expires_in"] = (int)Lifetime.TotalSeconds - 1,
                ["token_type"] = "Bearer",
            }.ToJsonString()
        );
        return null;
    }

    // A JWT bearer assertion (serviceRoot null) or a self-signed JWT used as an access token.
    private (string Error, string Description, AccessGrant? Grant) Verify(
        string assertion,
        Uri? serviceRoot
    )
    {
        var parts = assertion.Split('.');
        if (parts.Length != 3)
        {
            return ("invalid_grant", "Invalid JWT: not a JWS compact serialization.", null);
        }
        JsonObject header;
        JsonObject claims;
        byte[] signature;
        try
        {
            header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!.AsObject();
            claims = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!.AsObject();
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (Exception e)
            when (e
                    is FormatException
                        or System.Text.Json.JsonException
                        or InvalidOperationException
            )
        {
            return ("invalid_grant", "Invalid JWT: the assertion is not base64url JSON.", null);
        }
        var issuer = (string?)claims["iss"] ?? "";
        if (!_accounts.TryGetValue(issuer, out var account))
        {
            return ("invalid_grant", "Invalid grant: account not found", null);
        }
        var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        var keyMatches = header["kid"] is null || (string?)header["kid"] == account.KeyId;
        if (
            (string?)header["alg"] != "RS256"
            || !keyMatches
            || !account.PublicKey.VerifyData(
                signed,
                signature,
                HashAlgorithmName.SHA256,
                RSASignaturePadding.Pkcs1
            )
        )
        {
            return ("invalid_grant", "Invalid JWT Signature.", null);
        }
        var audience = (string?)claims["aud"];
        var audienceOk = serviceRoot is null
            ? audience == TokenUri.AbsoluteUri || GoogleAudiences.Contains(audience)
            : audience is null
                || audience == serviceRoot.AbsoluteUri
                || ServiceAudience().IsMatch(audience);
        if (!audienceOk)
        {
            return (
                "invalid_grant",
                "Invalid JWT: Failed audience check. The right audience is https://oauth2.googleapis.com/token",
                null
            );
        }
        if (serviceRoot is not null && audience is null && claims["scope"] is null)
        {
            return (
                "invalid_grant",
                "Invalid JWT: a self-signed JWT needs a scope or an audience.",
                null
            );
        }
        var now = time.GetUtcNow();
        if (
            !TryTime(claims["iat"], out var issued)
            || !TryTime(claims["exp"], out var expires)
            || expires - issued > Lifetime
            || issued > now + Skew
            || expires < now - Skew
        )
        {
            return (
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
                null
            );
        }
        var scopes = ((string?)claims["scope"] ?? "").Split(
            ' ',
            StringSplitOptions.RemoveEmptyEntries
        );
        if (serviceRoot is not null && scopes.Length == 0)
        {
            // A self-signed JWT for a service's audience stands for every scope of that service.
            scopes = ["https://www.googleapis.com/auth/cloud-platform"];
        }
        if (
            scopes.Length == 0
            || scopes.Any(s =>
                !s.StartsWith("https://www.googleapis.com/auth/", StringComparison.Ordinal)
            )
        )
        {
            return ("invalid_scope", "Invalid OAuth scope or ID token audience provided.", null);
        }
        return (
            "",
            "",
            new AccessGrant(issuer, scopes.ToHashSet(StringComparer.Ordinal), now + Lifetime)
        );
    }

    private static bool TryTime(JsonNode? node, out DateTimeOffset time)
    {
        time = default;
        if (node is not JsonValue value || !value.TryGetValue<long>(out var seconds))
        {
            return false;
        }
        time = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }

    private static Task Refuse(HttpContext context, string error, string description)
    {
        // Google answers every refused grant with 400, as RFC 6749 section 5.2 says.
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(
            new JsonObject { ["error"] = error, ["error_description"] = description }.ToJsonString()
        );
    }

    /// <summary>A service-account key file as the Cloud console writes it.</summary>
    public static string KeyFile(
        RSA privateKey,
        string keyId,
        string clientEmail,
        string projectId,
        Uri tokenUri
    ) =>
        new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = projectId,
            ["private_key_id"] = keyId,
            ["private_key"] = privateKey.ExportPkcs8PrivateKeyPem() + "\n",
            ["client_email"] = clientEmail,
            ["client_id"] = "100000000000000000001",
            ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
            ["token_uri"] = tokenUri.AbsoluteUri,
            ["auth_provider_x509_cert_url"] = "https://www.googleapis.com/oauth2/v1/certs",
            ["universe_domain"] = "googleapis.com",
        }.ToJsonString();

    [GeneratedRegex(@"^https://[a-z0-9-]+\.googleapis\.com/$")]
    private static partial Regex ServiceAudience();
}
