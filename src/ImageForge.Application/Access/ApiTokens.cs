using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace ImageForge.Application.Access;

/// <summary>
/// API token secrets: <c>ifg_</c> and 43 base64url characters (32 random bytes). Only <see cref="Hash"/> of a secret
/// is stored; the secret itself is shown once, when it is created, and never logged.
/// </summary>
public static class ApiTokens
{
    /// <summary>The prefix every secret starts with (so secret scanners and people recognise one).</summary>
    public const string Prefix = "ifg_";

    /// <summary>A new random secret.</summary>
    public static string Generate() =>
        Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>The sha256 of the secret's UTF-8 bytes, lowercase hex: what the token store keeps.</summary>
    public static string Hash(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }
}
