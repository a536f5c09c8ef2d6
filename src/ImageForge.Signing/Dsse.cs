using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ImageForge.Signing;

/// <summary>One signature of a DSSE envelope: the key id and the raw signature bytes.</summary>
public sealed record DsseSignature(string KeyId, byte[] Signature);

/// <summary>A DSSE envelope: a typed payload and its signatures over PAE(payloadType, payload).</summary>
public sealed record DsseEnvelope(
    string PayloadType,
    byte[] Payload,
    IReadOnlyList<DsseSignature> Signatures
);

/// <summary>Dead Simple Signing Envelope v1: pre-authentication encoding, signing, JSON form and verification.</summary>
public static class Dsse
{
    /// <summary>Media type of the JSON envelope.</summary>
    public const string EnvelopeMediaType = "application/vnd.dsse.envelope.v1+json";

    /// <summary><c>"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body</c>, lengths as ASCII decimal byte counts.</summary>
    public static byte[] Pae(string payloadType, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(payloadType);
        var type = Encoding.UTF8.GetBytes(payloadType);
        var head = Encoding.ASCII.GetBytes(
            string.Create(
                CultureInfo.InvariantCulture,
                $"DSSEv1 {type.Length} {payloadType} {payload.Length} "
            )
        );
        return [.. head, .. payload];
    }

    /// <summary>Signs the payload with one signer.</summary>
    public static async Task<DsseEnvelope> SignAsync(
        ISigner signer,
        string payloadType,
        byte[] payload,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(signer);
        var signature = await signer.SignAsync(Pae(payloadType, payload), cancellationToken);
        return new DsseEnvelope(payloadType, payload, [new DsseSignature(signer.KeyId, signature)]);
    }

    /// <summary>True when at least one signature verifies with the key.</summary>
    public static bool Verify(DsseEnvelope envelope, ECDsa publicKey)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(publicKey);
        var pae = Pae(envelope.PayloadType, envelope.Payload);
        return envelope.Signatures.Any(s =>
        {
            try
            {
                return publicKey.VerifyData(
                    pae,
                    s.Signature,
                    HashAlgorithmName.SHA256,
                    DSASignatureFormat.Rfc3279DerSequence
                );
            }
            catch (CryptographicException)
            {
                return false;
            }
        });
    }

    /// <summary>The standard JSON envelope, standard base64, properties in a fixed order.</summary>
    public static byte[] Serialize(DsseEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        using var buffer = new MemoryStream();
        using (
            var json = new Utf8JsonWriter(
                buffer,
                new JsonWriterOptions
                {
                    Indented = true,
                    // Base64 has + and /: written as is, so the envelope reads plainly (and with sed, see docs/signing.md).
                    Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
                }
            )
        )
        {
            json.WriteStartObject();
            json.WriteString("payloadType", envelope.PayloadType);
            json.WriteString("payload", Convert.ToBase64String(envelope.Payload));
            json.WriteStartArray("signatures");
            foreach (var s in envelope.Signatures)
            {
                json.WriteStartObject();
                json.WriteString("keyid", s.KeyId);
                json.WriteString("sig", Convert.ToBase64String(s.Signature));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Reads a JSON envelope (standard or URL-safe base64; unknown fields ignored).</summary>
    /// <exception cref="FormatException">Not a DSSE envelope.</exception>
    public static DsseEnvelope Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            var signatures = root.GetProperty("signatures")
                .EnumerateArray()
                .Select(s => new DsseSignature(
                    s.TryGetProperty("keyid", out var keyId) ? keyId.GetString() ?? "" : "",
                    FromBase64(s.GetProperty("sig").GetString())
                ))
                .ToList();
            return new DsseEnvelope(
                root.GetProperty("payloadType").GetString()
                    ?? throw new FormatException("payloadType is null"),
                FromBase64(root.GetProperty("payload").GetString()),
                signatures
            );
        }
        catch (Exception e)
            when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"not a DSSE JSON envelope: {e.Message}", e);
        }
    }

    private static byte[] FromBase64(string? text)
    {
        var s = (text ?? throw new FormatException("a base64 field is null"))
            .Replace('-', '+')
            .Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }
}
