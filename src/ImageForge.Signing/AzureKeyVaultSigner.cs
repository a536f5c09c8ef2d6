using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Identity;

namespace ImageForge.Signing;

/// <summary>
/// Signs with an Azure Key Vault EC key (P-256) over the Key Vault REST API 7.4: <c>POST {key}/sign</c> with alg ES256
/// and the SHA-256 digest; Key Vault answers the raw r||s signature, converted here to DER. The public key comes from
/// <c>GET {key}</c> (a JWK). Credentials: Azure.Identity's DefaultAzureCredential (environment service principal,
/// workload identity, managed identity, Azure CLI login), scope https://vault.azure.net/.default.
/// </summary>
internal sealed class AzureKeyVaultSigner : ISigner
{
    private const string ApiVersion = "api-version=7.4";
    private const string Provider = "Azure Key Vault";
    private readonly RestKeyClient _client;
    private readonly Uri _keyUrl;

    /// <param name="http">The HTTP client to use.</param>
    /// <param name="keyUrl">https://{vault}.vault.azure.net/keys/{name}[/{version}].</param>
    /// <param name="token">Bearer tokens for the vault.</param>
    public AzureKeyVaultSigner(HttpClient http, Uri keyUrl, AccessTokenSource token)
    {
        _client = new RestKeyClient(http, token, Provider);
        _keyUrl = new Uri(keyUrl.GetLeftPart(UriPartial.Path).TrimEnd('/'));
        var segments = _keyUrl.AbsolutePath.Trim('/').Split('/');
        if (segments.Length is < 2 or > 3 || segments[0] != "keys")
        {
            throw new ArgumentException(
                $"'{keyUrl}' is not a Key Vault key URL: expected https://<vault>.vault.azure.net/keys/<name>[/<version>]",
                nameof(keyUrl)
            );
        }
    }

    public string KeyId => $"azurekv:{_keyUrl}";

    public string Algorithm => SigningAlgorithms.EcdsaP256Sha256;

    public static AccessTokenSource DefaultCredential()
    {
        var credential = new DefaultAzureCredential();
        return async ct =>
            (
                await credential.GetTokenAsync(
                    new TokenRequestContext(["https://vault.azure.net/.default"]),
                    ct
                )
            ).Token;
    }

    public async Task<byte[]> SignAsync(
        ReadOnlyMemory<byte> message,
        CancellationToken cancellationToken = default
    )
    {
        var digest = SHA256.HashData(message.Span);
        var answer = await _client.SendAsync(
            HttpMethod.Post,
            new Uri($"{_keyUrl}/sign?{ApiVersion}"),
            new JsonObject { ["alg"] = "ES256", ["value"] = Base64Url(digest) },
            cancellationToken
        );
        return EcdsaKeys.P1363ToDer(
            FromBase64Url(RestKeyClient.Required(answer, Provider, "value"))
        );
    }

    public async Task<string> GetPublicKeyPemAsync(CancellationToken cancellationToken = default)
    {
        var answer = await _client.SendAsync(
            HttpMethod.Get,
            new Uri($"{_keyUrl}?{ApiVersion}"),
            null,
            cancellationToken
        );
        var kty = RestKeyClient.Required(answer, Provider, "key", "kty");
        var crv = RestKeyClient.Required(answer, Provider, "key", "crv");
        if (kty is not ("EC" or "EC-HSM") || crv != "P-256")
        {
            throw new SigningException(
                $"Key Vault key {_keyUrl} is {kty} {crv}; ImageForge signs with EC P-256 keys"
            );
        }

        using var key = ECDsa.Create(
            new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint
                {
                    X = FromBase64Url(RestKeyClient.Required(answer, Provider, "key", "x")),
                    Y = FromBase64Url(RestKeyClient.Required(answer, Provider, "key", "y")),
                },
            }
        );
        return key.ExportSubjectPublicKeyInfoPem();
    }

    internal static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    internal static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }
}
