using System.Security.Cryptography;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;

namespace ImageForge.Signing;

/// <summary>
/// Signs with an asymmetric AWS KMS key (key spec ECC_NIST_P256, usage SIGN_VERIFY): the SHA-256 digest is computed
/// here and sent as MessageType DIGEST with ECDSA_SHA_256; KMS returns the DER signature. Credentials and region come
/// from the AWS SDK's default chain (environment, shared config and credentials files, SSO, web identity, instance
/// or container role); a key ARN also names its region.
/// </summary>
internal sealed class AwsKmsSigner : ISigner, IDisposable
{
    private readonly IAmazonKeyManagementService _kms;
    private readonly string _keyId;
    private readonly bool _ownsClient;

    public AwsKmsSigner(IAmazonKeyManagementService kms, string keyId, bool ownsClient = false)
    {
        _kms = kms;
        _keyId = keyId;
        _ownsClient = ownsClient;
    }

    public string KeyId => $"awskms:{_keyId}";

    public string Algorithm => SigningAlgorithms.EcdsaP256Sha256;

    /// <summary>A client from the default credential chain; the region from the ARN when the key id is one.</summary>
    public static AwsKmsSigner FromDefaultChain(string keyId)
    {
        var parts = keyId.Split(':');
        var client =
            parts.Length > 3 && parts[0] == "arn" && parts[3].Length > 0
                ? new AmazonKeyManagementServiceClient(
                    Amazon.RegionEndpoint.GetBySystemName(parts[3])
                )
                : new AmazonKeyManagementServiceClient();
        return new AwsKmsSigner(client, keyId, ownsClient: true);
    }

    public async Task<byte[]> SignAsync(
        ReadOnlyMemory<byte> message,
        CancellationToken cancellationToken = default
    )
    {
        using var digest = new MemoryStream(SHA256.HashData(message.Span));
        try
        {
            var response = await _kms.SignAsync(
                new SignRequest
                {
                    KeyId = _keyId,
                    Message = digest,
                    MessageType = MessageType.DIGEST,
                    SigningAlgorithm = SigningAlgorithmSpec.ECDSA_SHA_256,
                },
                cancellationToken
            );
            return response.Signature.ToArray();
        }
        catch (AmazonServiceException e)
        {
            throw new SigningException(
                $"AWS KMS Sign with key {_keyId} failed: {e.ErrorCode} {e.Message}. Check the key id, that it is an "
                    + "ECC_NIST_P256 SIGN_VERIFY key, and that the credentials may call kms:Sign.",
                e
            );
        }
        catch (AmazonClientException e)
        {
            throw new SigningException(
                $"AWS KMS is not reachable or not configured: {e.Message}",
                e
            );
        }
    }

    public async Task<string> GetPublicKeyPemAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await _kms.GetPublicKeyAsync(
                new GetPublicKeyRequest { KeyId = _keyId },
                cancellationToken
            );
            if (response.KeySpec is { } spec && spec != KeySpec.ECC_NIST_P256)
            {
                throw new SigningException(
                    $"AWS KMS key {_keyId} has key spec {spec.Value}; ImageForge signs with ECC_NIST_P256 keys"
                );
            }

            return EcdsaKeys.PemFromSubjectPublicKeyInfo(response.PublicKey.ToArray());
        }
        catch (AmazonServiceException e)
        {
            throw new SigningException(
                $"AWS KMS GetPublicKey for {_keyId} failed: {e.ErrorCode} {e.Message}; the credentials need kms:GetPublicKey",
                e
            );
        }
        catch (AmazonClientException e)
        {
            throw new SigningException(
                $"AWS KMS is not reachable or not configured: {e.Message}",
                e
            );
        }
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _kms.Dispose();
        }
    }
}
