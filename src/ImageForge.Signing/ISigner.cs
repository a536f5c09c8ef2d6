using ImageForge.Core.Errors;

namespace ImageForge.Signing;

/// <summary>
/// Signs bytes with one key: ECDSA P-256 over SHA-256, DER-encoded signature (as DSSE and openssl expect). One
/// implementation per key provider; the private key never leaves a cloud provider.
/// </summary>
public interface ISigner
{
    /// <summary>The key as configured, with its provider prefix, e.g. <c>awskms:arn:aws:kms:...</c>; recorded as the DSSE keyid.</summary>
    string KeyId { get; }

    /// <summary>Always <see cref="SigningAlgorithms.EcdsaP256Sha256"/> for now.</summary>
    string Algorithm { get; }

    /// <summary>Signs the message (hashed with SHA-256 here or by the provider) and returns the DER signature.</summary>
    Task<byte[]> SignAsync(
        ReadOnlyMemory<byte> message,
        CancellationToken cancellationToken = default
    );

    /// <summary>The public key as PEM (SubjectPublicKeyInfo, <c>-----BEGIN PUBLIC KEY-----</c>).</summary>
    Task<string> GetPublicKeyPemAsync(CancellationToken cancellationToken = default);
}

/// <summary>Names of the signature algorithms ImageForge records.</summary>
public static class SigningAlgorithms
{
    /// <summary>ECDSA on NIST P-256 with SHA-256, ASN.1 DER signature (RFC 3279).</summary>
    public const string EcdsaP256Sha256 = "ECDSA_P256_SHA256";
}

/// <summary>A key provider failed or refused (unreachable, denied, wrong key type): exit code 3.</summary>
public sealed class SigningException : ImageForgeException
{
    public SigningException(string message, Exception? inner = null)
        : base(message, inner) { }

    public override int ExitCode => 3;
}
