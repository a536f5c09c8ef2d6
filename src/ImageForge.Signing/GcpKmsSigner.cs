using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Google.Apis.Auth.OAuth2;

namespace ImageForge.Signing;

/// <summary>
/// Signs with a Google Cloud KMS key version (algorithm EC_SIGN_P256_SHA256) over the Cloud KMS REST API v1:
/// <c>POST v1/{name}:asymmetricSign</c> with <c>digest.sha256</c>, answering the DER signature; the public key from
/// <c>GET v1/{name}/publicKey</c> (PEM). Credentials: Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
/// gcloud's application-default login, the metadata server), scope https://www.googleapis.com/auth/cloudkms.
/// </summary>
internal sealed class GcpKmsSigner : ISigner
{
    private const string Provider = "Google Cloud KMS";
    private static readonly Uri DefaultEndpoint = new("https://cloudkms.googleapis.com/");
    private readonly RestKeyClient _client;
    private readonly Uri _endpoint;
    private readonly string _name;

    /// <param name="http">The HTTP client to use.</param>
    /// <param name="name">projects/{p}/locations/{l}/keyRings/{r}/cryptoKeys/{k}/cryptoKeyVersions/{v}.</param>
    /// <param name="token">Bearer tokens for Cloud KMS.</param>
    /// <param name="endpoint">The API root; https://cloudkms.googleapis.com/ by default.</param>
    public GcpKmsSigner(HttpClient http, string name, AccessTokenSource token, Uri? endpoint = null)
    {
        var parts = name.Split('/');
        if (
            parts.Length != 10
            || parts[0] != "projects"
            || parts[2] != "locations"
            || parts[4] != "keyRings"
            || parts[6] != "cryptoKeys"
            || parts[8] != "cryptoKeyVersions"
        )
        {
            throw new ArgumentException(
                $"'{name}' is not a key version: expected projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>/cryptoKeyVersions/<v>",
                nameof(name)
            );
        }

        _client = new RestKeyClient(http, token, Provider);
        _endpoint = endpoint ?? DefaultEndpoint;
        _name = name;
    }

    public string KeyId => $"gcpkms:{_name}";

    public string Algorithm => SigningAlgorithms.EcdsaP256Sha256;

    public static AccessTokenSource ApplicationDefault()
    {
        ITokenAccess? credential = null;
        return async ct =>
        {
            credential ??= (await GoogleCredential.GetApplicationDefaultAsync(ct)).CreateScoped(
                "https://www.googleapis.com/auth/cloudkms"
            );
            return await credential.GetAccessTokenForRequestAsync(cancellationToken: ct);
        };
    }

    public async Task<byte[]> SignAsync(
        ReadOnlyMemory<byte> message,
        CancellationToken cancellationToken = default
    )
    {
        var digest = SHA256.HashData(message.Span);
        var answer = await _client.SendAsync(
            HttpMethod.Post,
            new Uri(_endpoint, $"v1/{_name}:asymmetricSign"),
            new JsonObject
            {
                ["digest"] = new JsonObject { ["sha256"] = Convert.ToBase64String(digest) },
            },
            cancellationToken
        );
        return Convert.FromBase64String(RestKeyClient.Required(answer, Provider, "signature"));
    }

    public async Task<string> GetPublicKeyPemAsync(CancellationToken cancellationToken = default)
    {
        var answer = await _client.SendAsync(
            HttpMethod.Get,
            new Uri(_endpoint, $"v1/{_name}/publicKey"),
            null,
            cancellationToken
        );
        var algorithm = RestKeyClient.Required(answer, Provider, "algorithm");
        if (algorithm != "EC_SIGN_P256_SHA256")
        {
            throw new SigningException(
                $"Cloud KMS key {_name} has algorithm {algorithm}; ImageForge signs with EC_SIGN_P256_SHA256 keys"
            );
        }

        using var key = EcdsaKeys.ImportPublicKeyPem(
            RestKeyClient.Required(answer, Provider, "pem")
        );
        return key.ExportSubjectPublicKeyInfoPem();
    }
}
