using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ImageForge.Providers.Gcp;

/// <summary>
/// How ImageForge names things in GCE, in one place: image names, families, labels and request ids. GCE names are
/// RFC 1035 labels (<c>[a-z]([-a-z0-9]*[a-z0-9])?</c>, at most 63 characters) and label values allow no dots.
/// </summary>
internal static partial class GcpNames
{
    private const int MaxName = 63;

    /// <summary>
    /// The GCE image of a version: <c>&lt;image&gt;-&lt;yyyymmdd&gt;-&lt;n&gt;</c> (2026.12.02.1 becomes
    /// <c>-20261202-1</c>). An image name too long for that keeps its first characters and a 6-hex digest of the whole.
    /// </summary>
    public static string Image(string image, string version)
    {
        var parts = version.Split('.');
        var suffix =
            parts.Length == 4
                ? $"-{parts[0]}{parts[1]}{parts[2]}-{parts[3]}"
                : "-" + NonName().Replace(version.ToLowerInvariant(), "-");
        var stem = Stem(image);
        if (stem.Length + suffix.Length <= MaxName)
        {
            return stem + suffix;
        }

        var digest = Digest(image);
        var keep = MaxName - suffix.Length - digest.Length - 1;
        return $"{stem[..keep].TrimEnd('-')}-{digest}{suffix}";
    }

    /// <summary>The family a channel's consumers resolve when the target names none: <c>&lt;image&gt;-&lt;channel&gt;</c>.</summary>
    public static string Family(string image, string channel)
    {
        var name = $"{Stem(image)}-{NonName().Replace(channel.ToLowerInvariant(), "-")}".TrimEnd(
            '-'
        );
        return name.Length <= MaxName
            ? name
            : $"{name[..(MaxName - 7)].TrimEnd('-')}-{Digest(name)}";
    }

    /// <summary>A value GCE takes as a label value: lowercase letters, digits, '_' and '-', at most 63 characters.</summary>
    public static string LabelValue(string value)
    {
        var text = NonLabel().Replace(value.ToLowerInvariant(), "-");
        return text.Length <= MaxName ? text : text[..MaxName];
    }

    /// <summary>
    /// A requestId (a non-zero UUID, which GCE deduplicates for a while) from an <c>ImportTokens</c>-style token:
    /// the same step of the same build always sends the same id.
    /// </summary>
    public static string RequestId(string token)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(token))[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50); // version 5 (name-based)
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes, bigEndian: true).ToString("D", CultureInfo.InvariantCulture);
    }

    /// <summary>The parts of an image URL: its project and name, or null when it is not one.</summary>
    public static (string Project, string Name)? ParseImageUrl(string value)
    {
        var match = ImageUrl().Match(value);
        return match.Success ? (match.Groups["project"].Value, match.Groups["name"].Value) : null;
    }

    /// <summary>The canonical self link of an image, as GCE writes it.</summary>
    public static string SelfLink(string project, string name) =>
        $"https://www.googleapis.com/compute/v1/projects/{project}/global/images/{name}";

    private static string Stem(string image)
    {
        var stem = NonName().Replace(image.ToLowerInvariant(), "-").Trim('-');
        return stem.Length > 0 && char.IsAsciiLetter(stem[0]) ? stem : "i-" + stem;
    }

    private static string Digest(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..6];

    [GeneratedRegex("[^a-z0-9-]", RegexOptions.CultureInvariant)]
    private static partial Regex NonName();

    [GeneratedRegex("[^a-z0-9_-]", RegexOptions.CultureInvariant)]
    private static partial Regex NonLabel();

    [GeneratedRegex(
        @"^(?:https://(?:www|compute)\.googleapis\.com/compute/v1/)?projects/(?<project>[a-z][-a-z0-9]{4,28}[a-z0-9])/global/images/(?<name>[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)$",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex ImageUrl();
}
