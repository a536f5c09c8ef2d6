using System.Text.RegularExpressions;

namespace ImageForge.Core.Sbom;

/// <summary>
/// Turns declared licenses (DEP-5 short names such as <c>GPL-2+</c>, rpm License tags) into SPDX license
/// expressions where every part maps to a known SPDX id; anything else stays a plain name.
/// </summary>
internal static partial class Licenses
{
    // DEP-5 short names (copyright-format 1.0) and common spellings -> SPDX ids. A name listed here is an SPDX id.
    private static readonly Dictionary<string, string> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["GPL-1"] = "GPL-1.0-only",
        ["GPL-1+"] = "GPL-1.0-or-later",
        ["GPL-2"] = "GPL-2.0-only",
        ["GPL-2+"] = "GPL-2.0-or-later",
        ["GPL-2.0"] = "GPL-2.0-only",
        ["GPL-2.0+"] = "GPL-2.0-or-later",
        ["GPL-3"] = "GPL-3.0-only",
        ["GPL-3+"] = "GPL-3.0-or-later",
        ["GPL-3.0"] = "GPL-3.0-only",
        ["GPL-3.0+"] = "GPL-3.0-or-later",
        ["GPLv2"] = "GPL-2.0-only",
        ["GPLv2+"] = "GPL-2.0-or-later",
        ["GPLv3"] = "GPL-3.0-only",
        ["GPLv3+"] = "GPL-3.0-or-later",
        ["LGPL-2"] = "LGPL-2.0-only",
        ["LGPL-2+"] = "LGPL-2.0-or-later",
        ["LGPL-2.1"] = "LGPL-2.1-only",
        ["LGPL-2.1+"] = "LGPL-2.1-or-later",
        ["LGPL-3"] = "LGPL-3.0-only",
        ["LGPL-3+"] = "LGPL-3.0-or-later",
        ["LGPLv2+"] = "LGPL-2.0-or-later",
        ["LGPLv2.1+"] = "LGPL-2.1-or-later",
        ["AGPL-3"] = "AGPL-3.0-only",
        ["AGPL-3+"] = "AGPL-3.0-or-later",
        ["Apache-2.0"] = "Apache-2.0",
        ["Apache-2"] = "Apache-2.0",
        ["ASL 2.0"] = "Apache-2.0",
        ["Artistic"] = "Artistic-1.0-Perl",
        ["Artistic-1.0"] = "Artistic-1.0",
        ["Artistic-2.0"] = "Artistic-2.0",
        ["BSD-2-clause"] = "BSD-2-Clause",
        ["BSD-3-clause"] = "BSD-3-Clause",
        ["BSD-4-clause"] = "BSD-4-Clause",
        ["Expat"] = "MIT",
        ["MIT"] = "MIT",
        ["ISC"] = "ISC",
        ["Zlib"] = "Zlib",
        ["MPL-1.1"] = "MPL-1.1",
        ["MPL-2.0"] = "MPL-2.0",
        ["OpenSSL"] = "OpenSSL",
        ["Python-2.0"] = "Python-2.0",
        ["PSF-2.0"] = "PSF-2.0",
        ["CC0-1.0"] = "CC0-1.0",
        ["Unicode-DFS-2016"] = "Unicode-DFS-2016",
        ["X11"] = "X11",
        ["curl"] = "curl",
        ["BSL-1.0"] = "BSL-1.0",
        ["GFDL-1.2"] = "GFDL-1.2-only",
        ["GFDL-1.2+"] = "GFDL-1.2-or-later",
        ["GFDL-1.3"] = "GFDL-1.3-only",
        ["GFDL-1.3+"] = "GFDL-1.3-or-later",
        ["Sleepycat"] = "Sleepycat",
        ["WTFPL"] = "WTFPL",
        ["0BSD"] = "0BSD",
        ["Unlicense"] = "Unlicense",
        ["EPL-1.0"] = "EPL-1.0",
        ["EPL-2.0"] = "EPL-2.0",
    };

    /// <summary>The SPDX expression for a declared license, or null when some part has no SPDX id.</summary>
    public static string? ToSpdxExpression(string declared)
    {
        var text = declared.Trim();
        if (text.Length == 0)
        {
            return null;
        }
        // DEP-5 writes "GPL-2+ or Artistic", "LGPL-2.1+ and BSD-3-clause"; rpm writes "GPLv2+ and LGPLv2+".
        var parts = Operators().Split(text);
        var result = new List<string>();
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i].Trim();
            if (i % 2 == 1)
            {
                result.Add(part.ToUpperInvariant());
                continue;
            }
            var token = part.Trim('(', ')').Trim();
            if (!Known.TryGetValue(token, out var id))
            {
                return null;
            }
            result.Add(id);
        }
        return string.Join(' ', result);
    }

    /// <summary>True when the expression is one SPDX id (no operator).</summary>
    public static bool IsSingleId(string expression) =>
        !expression.Contains(' ', StringComparison.Ordinal);

    /// <summary>A LicenseRef- id for a name that is not an SPDX expression: letters, digits, '.', '-' only.</summary>
    public static string LicenseRef(string name) =>
        "LicenseRef-" + NotIdChars().Replace(name.Trim(), "-").Trim('-');

    [GeneratedRegex(@"\s+(or|and|with)\s+", RegexOptions.IgnoreCase)]
    private static partial Regex Operators();

    [GeneratedRegex(@"[^A-Za-z0-9.\-]+")]
    private static partial Regex NotIdChars();
}
