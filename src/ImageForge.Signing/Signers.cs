using ImageForge.Core.Errors;

namespace ImageForge.Signing;

/// <summary>
/// Chooses the key provider from one setting (environment variable <see cref="EnvironmentVariable"/>):
/// <c>file:</c> or empty (default: <c>&lt;data-dir&gt;/keys/signing-key.pem</c>), <c>file:&lt;path&gt;</c>,
/// <c>awskms:&lt;key id, alias or ARN&gt;</c>, <c>azurekv:&lt;key URL&gt;</c>, <c>gcpkms:&lt;key version resource&gt;</c>.
/// </summary>
public static class Signers
{
    /// <summary>The environment variable that selects the signing key.</summary>
    public const string EnvironmentVariable = "IMAGEFORGE_SIGNING_KEY";

    /// <summary>File name of the default file key below the data directory's keys/ folder.</summary>
    public const string DefaultKeyFile = "signing-key.pem";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The default file key's path for a data directory.</summary>
    public static string DefaultKeyPath(string dataDirectory) =>
        Path.Combine(dataDirectory, "keys", DefaultKeyFile);

    /// <summary>
    /// Creates the signer a setting names. Cloud signers contact their service only when used. A file key ImageForge
    /// creates here (the default key on first use) is added to <paramref name="trust"/> (default: the data
    /// directory's trust store) at once, so what it signs verifies; an existing key is trusted only by
    /// <c>keys trust add</c>.
    /// </summary>
    /// <exception cref="InvalidInputException">The setting has no known provider prefix or a malformed key reference.</exception>
    public static ISigner Create(string? setting, string dataDirectory, TrustStore? trust = null)
    {
        var value = setting?.Trim() ?? "";
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        var (provider, reference) =
            value.Length == 0 ? ("file", "")
            : colon < 0 ? (value, "")
            : (value[..colon], value[(colon + 1)..]);
        try
        {
            return provider switch
            {
                "file" => TrustIfCreated(
                    FileKeySigner.OpenOrCreate(
                        reference.Length == 0 ? DefaultKeyPath(dataDirectory) : reference
                    ),
                    trust ?? TrustStore.Open(null, dataDirectory, dataDirectory)
                ),
                "awskms" when reference.Length > 0 => AwsKmsSigner.FromDefaultChain(reference),
                "azurekv"
                    when Uri.TryCreate(reference, UriKind.Absolute, out var url)
                        && url.Scheme == Uri.UriSchemeHttps => new AzureKeyVaultSigner(
                    Http,
                    url,
                    AzureKeyVaultSigner.DefaultCredential()
                ),
                "gcpkms" when reference.Length > 0 => new GcpKmsSigner(
                    Http,
                    reference,
                    GcpKmsSigner.ApplicationDefault()
                ),
                _ => throw Invalid(value, "unknown provider or missing key reference"),
            };
        }
        catch (ArgumentException e)
        {
            throw Invalid(value, e.Message);
        }
    }

    private static FileKeySigner TrustIfCreated(FileKeySigner signer, TrustStore trust)
    {
        // A bundle file is the operator's to edit: a key created while one is configured is added there by hand.
        if (signer.Created && !trust.IsBundle)
        {
            trust.AddPem(signer.PublicKeyPem);
        }

        return signer;
    }

    private static InvalidInputException Invalid(string value, string why) =>
        new(
            $"{EnvironmentVariable}='{value}': {why}. Use file: (default), file:<path>, awskms:<key id or ARN>, "
                + "azurekv:https://<vault>.vault.azure.net/keys/<name>[/<version>] or "
                + "gcpkms:projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>/cryptoKeyVersions/<v>."
        );
}
