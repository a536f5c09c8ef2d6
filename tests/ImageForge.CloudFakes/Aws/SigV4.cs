using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ImageForge.CloudFakes.Aws;

/// <summary>Who signed a request: an IAM user of the fake or a role session from AssumeRole.</summary>
internal sealed record Principal(string Account, string Arn, string UserId);

/// <summary>A key pair the fake accepts; temporary ones carry a session token and an expiry.</summary>
internal sealed record Credential(
    string AccessKeyId,
    string SecretAccessKey,
    string? SessionToken,
    DateTimeOffset? Expires,
    Principal Principal
);

/// <summary>
/// The SigV4 <c>Authorization</c> header: its credential scope (which names the region and service the fake
/// answers for) and the signature, checked by recomputing it from the request as received.
/// </summary>
internal sealed partial record SignedRequest(
    string AccessKeyId,
    string Date,
    string Region,
    string Service,
    string[] SignedHeaders,
    string Signature
)
{
    public static SignedRequest? Parse(string authorization)
    {
        var match = AuthorizationPattern().Match(authorization);
        return match.Success
            ? new SignedRequest(
                match.Groups["key"].Value,
                match.Groups["date"].Value,
                match.Groups["region"].Value,
                match.Groups["service"].Value,
                match.Groups["headers"].Value.Split(';'),
                match.Groups["signature"].Value
            )
            : null;
    }

    /// <summary>Null when the signature matches; otherwise the canonical request the fake computed (S3 answers it too).</summary>
    public string? Mismatch(HttpContext http, string secret, string payloadHash)
    {
        var request = http.Request;
        var target = http.Features.Get<IHttpRequestFeature>()!.RawTarget.Split('?', 2);
        var query = target.Length == 2 ? CanonicalQuery(target[1]) : "";
        var headers = string.Concat(
            SignedHeaders.Select(h => $"{h}:{Collapse(request.Headers[h].ToString())}\n")
        );
        var canonical =
            $"{request.Method}\n{target[0]}\n{query}\n{headers}\n{string.Join(';', SignedHeaders)}\n{payloadHash}";
        var amzDate = request.Headers["X-Amz-Date"].ToString();
        var scope = $"{Date}/{Region}/{Service}/aws4_request";
        var toSign =
            $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secret), Date);
        key = Hmac(Hmac(Hmac(key, Region), Service), "aws4_request");
        var expected = Hex(Hmac(key, toSign));
        return CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(expected),
            Encoding.ASCII.GetBytes(Signature)
        )
            ? null
            : canonical;
    }

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static byte[] Hmac(byte[] key, string data) =>
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string CanonicalQuery(string rawQuery) =>
        string.Join(
            '&',
            rawQuery
                .Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('=', 2))
                .Select(p =>
                    (
                        Key: Encode(Uri.UnescapeDataString(p[0])),
                        Value: Encode(p.Length == 2 ? Uri.UnescapeDataString(p[1]) : "")
                    )
                )
                .OrderBy(p => p.Key, StringComparer.Ordinal)
                .ThenBy(p => p.Value, StringComparer.Ordinal)
                .Select(p => $"{p.Key}={p.Value}")
        );

    /// <summary>SigV4's URI encoding: unreserved characters as they are, every other byte as %XX.</summary>
    private static string Encode(string value)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder
                    .Append('%')
                    .Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static string Collapse(string value) => SpacesPattern().Replace(value.Trim(), " ");

    [GeneratedRegex(
        @"^AWS4-HMAC-SHA256 Credential=(?<key>[^/]+)/(?<date>\d{8})/(?<region>[^/]+)/(?<service>[^/]+)/aws4_request,\s*SignedHeaders=(?<headers>[^,]+),\s*Signature=(?<signature>[0-9a-f]{64})$"
    )]
    private static partial Regex AuthorizationPattern();

    [GeneratedRegex(" +")]
    private static partial Regex SpacesPattern();
}
