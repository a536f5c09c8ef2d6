using System.Formats.Asn1;
using System.Security.Cryptography;

namespace ImageForge.Signing;

/// <summary>Conversions between the encodings providers use for P-256 keys and signatures.</summary>
internal static class EcdsaKeys
{
    /// <summary>Raw r||s (IEEE P1363, 64 bytes for P-256) to an ASN.1 DER SEQUENCE of two INTEGERs.</summary>
    public static byte[] P1363ToDer(ReadOnlySpan<byte> raw)
    {
        if (raw.Length != 64)
        {
            throw new SigningException(
                $"expected a 64-byte r||s P-256 signature, got {raw.Length} bytes"
            );
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteIntegerUnsigned(raw[..32]);
            writer.WriteIntegerUnsigned(raw[32..]);
        }

        return writer.Encode();
    }

    /// <summary>Loads a PEM public key and checks it is a P-256 key.</summary>
    public static ECDsa ImportPublicKeyPem(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            EnsureP256(key);
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public static string PemFromSubjectPublicKeyInfo(ReadOnlySpan<byte> spki)
    {
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(spki, out _);
        EnsureP256(key);
        return key.ExportSubjectPublicKeyInfoPem();
    }

    /// <summary>The fingerprint used in file key ids: sha256 of the DER SubjectPublicKeyInfo.</summary>
    public static string Fingerprint(ECDsa key) =>
        Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    private static void EnsureP256(ECDsa key)
    {
        var curve = key.ExportParameters(false).Curve;
        if (curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new SigningException(
                $"the key is on curve {curve.Oid.FriendlyName ?? curve.Oid.Value}; ImageForge signs with ECDSA P-256 (secp256r1) keys only"
            );
        }
    }
}
