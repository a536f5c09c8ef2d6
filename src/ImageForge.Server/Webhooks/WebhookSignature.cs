using System.Security.Cryptography;
using System.Text;

namespace ImageForge.Server.Webhooks;

/// <summary>
/// The signature of a webhook body: header <c>X-ImageForge-Signature: sha256=&lt;lowercase hex HMAC-SHA256&gt;</c>
/// of the raw body bytes, keyed with the endpoint's secret (UTF-8). Receivers check it with <see cref="Verify"/>.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The header carrying the signature.</summary>
    public const string Header = "X-ImageForge-Signature";

    /// <summary>The header carrying the event type (build.finished, ...).</summary>
    public const string EventHeader = "X-ImageForge-Event";

    /// <summary>The header carrying the delivery id (the same on every retry of one delivery).</summary>
    public const string DeliveryHeader = "X-ImageForge-Delivery";

    private const string Prefix = "sha256=";

    /// <summary>The header value for <paramref name="body"/>: <c>sha256=</c> and 64 lowercase hex digits.</summary>
    public static string Sign(string secret, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        return Prefix
            + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
    }

    /// <summary>
    /// True when <paramref name="signatureHeader"/> is the signature of <paramref name="body"/> with
    /// <paramref name="secret"/>. Compares in constant time; a missing or malformed header is false.
    /// </summary>
    public static bool Verify(string secret, ReadOnlySpan<byte> body, string? signatureHeader)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        if (
            signatureHeader is null
            || !signatureHeader.StartsWith(Prefix, StringComparison.Ordinal)
            || signatureHeader.Length != Prefix.Length + (HMACSHA256.HashSizeInBytes * 2)
        )
        {
            return false;
        }

        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (
            Convert.FromHexString(
                signatureHeader.AsSpan(Prefix.Length),
                given,
                out _,
                out var written
            ) != System.Buffers.OperationStatus.Done
            || written != given.Length
        )
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body, expected);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }
}
