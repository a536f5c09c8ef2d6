using System.Text;
using ImageForge.Core.Definitions;
using ImageForge.Core.Inventory;

namespace ImageForge.Core.Sbom;

/// <summary>Package URLs (purl) of installed OS packages.</summary>
internal static class Purl
{
    /// <summary>
    /// <c>pkg:deb/&lt;distro&gt;/&lt;name&gt;@&lt;version&gt;?arch=&lt;arch&gt;&amp;distro=&lt;distro&gt;-&lt;release&gt;</c>, or for rpm
    /// <c>pkg:rpm/redhat/&lt;name&gt;@&lt;version-release&gt;?arch=&lt;arch&gt;[&amp;epoch=N]&amp;distro=rhel-&lt;release&gt;</c>
    /// (the rpm epoch is a qualifier, as the purl spec says). Name and version are percent-encoded.
    /// </summary>
    public static string For(InstalledPackage package, OsSpec os)
    {
        if (package.Type == PackageType.Rpm)
        {
            var version = package.Version;
            string? epoch = null;
            var colon = version.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0)
            {
                epoch = version[..colon];
                version = version[(colon + 1)..];
            }
            var qualifiers = $"arch={Encode(package.Architecture)}";
            if (epoch is not null && epoch != "0")
            {
                qualifiers += $"&epoch={Encode(epoch)}";
            }
            return $"pkg:rpm/{Namespace(os)}/{Encode(package.Name)}@{Encode(version)}?{qualifiers}&distro={Distro(os)}";
        }
        return $"pkg:deb/{Namespace(os)}/{Encode(package.Name)}@{Encode(package.Version)}?arch={Encode(package.Architecture)}&distro={Distro(os)}";
    }

    /// <summary>debian, ubuntu, or redhat for rhel.</summary>
    public static string Namespace(OsSpec os) => os.Family == "rhel" ? "redhat" : os.Family;

    /// <summary>debian-11, ubuntu-22.04, rhel-9.</summary>
    public static string Distro(OsSpec os) => $"{os.Family}-{os.Release}";

    /// <summary>Percent-encodes everything but unreserved characters and ':' (kept readable in epochs).</summary>
    public static string Encode(string text)
    {
        var sb = new StringBuilder(text.Length + 8);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '~' or ':')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%')
                    .Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }
}
