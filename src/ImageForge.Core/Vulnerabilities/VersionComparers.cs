namespace ImageForge.Core.Vulnerabilities;

/// <summary>
/// Debian package version ordering as dpkg defines it: <c>[epoch:]upstream[-revision]</c>, compared epoch first
/// (numerically), then upstream and revision with dpkg's verrevcmp, where <c>~</c> sorts before everything, even the
/// end of the string, and letters sort before other characters.
/// </summary>
public sealed class DebianVersionComparer : IComparer<string>
{
    /// <summary>The one instance.</summary>
    public static DebianVersionComparer Instance { get; } = new();

    /// <summary>Negative when <paramref name="x"/> is older than <paramref name="y"/>, zero when equal, positive when newer.</summary>
    public int Compare(string? x, string? y)
    {
        if (EpochVersion.CompareEnds(x, y) is { } ends)
        {
            return ends;
        }
        var (ea, ua, ra) = EpochVersion.Split(x!);
        var (eb, ub, rb) = EpochVersion.Split(y!);
        if (ea != eb)
        {
            return ea.CompareTo(eb);
        }
        var c = VerRevCmp(ua, ub);
        // A missing Debian revision is an empty one.
        return c != 0 ? Math.Sign(c) : Math.Sign(VerRevCmp(ra ?? "", rb ?? ""));
    }

    private static int Order(string s, int i)
    {
        if (i >= s.Length)
        {
            return 0;
        }
        var c = s[i];
        return c switch
        {
            >= '0' and <= '9' => 0,
            (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') => c,
            '~' => -1,
            _ => c + 256,
        };
    }

    private static bool IsDigit(string s, int i) => i < s.Length && char.IsAsciiDigit(s[i]);

    private static int VerRevCmp(string a, string b)
    {
        int i = 0,
            j = 0;
        while (i < a.Length || j < b.Length)
        {
            var firstDiff = 0;
            while ((i < a.Length && !IsDigit(a, i)) || (j < b.Length && !IsDigit(b, j)))
            {
                var ac = Order(a, i);
                var bc = Order(b, j);
                if (ac != bc)
                {
                    return ac - bc;
                }
                i++;
                j++;
            }
            while (i < a.Length && a[i] == '0')
            {
                i++;
            }
            while (j < b.Length && b[j] == '0')
            {
                j++;
            }
            while (IsDigit(a, i) && IsDigit(b, j))
            {
                if (firstDiff == 0)
                {
                    firstDiff = a[i] - b[j];
                }
                i++;
                j++;
            }
            if (IsDigit(a, i))
            {
                return 1;
            }
            if (IsDigit(b, j))
            {
                return -1;
            }
            if (firstDiff != 0)
            {
                return firstDiff;
            }
        }
        return 0;
    }
}

/// <summary>
/// RPM version ordering: <c>[epoch:]version[-release]</c>, epoch numerically (missing is 0), then version and
/// release with rpmvercmp (alternating digit and letter segments, <c>~</c> sorts before anything, <c>^</c> after the
/// end but before anything else).
/// </summary>
internal sealed class RpmVersionComparer : IComparer<string>
{
    /// <summary>The one instance.</summary>
    public static RpmVersionComparer Instance { get; } = new();

    /// <summary>Negative when <paramref name="x"/> is older than <paramref name="y"/>, zero when equal, positive when newer.</summary>
    public int Compare(string? x, string? y)
    {
        if (EpochVersion.CompareEnds(x, y) is { } ends)
        {
            return ends;
        }
        var (ea, va, ra) = EpochVersion.Split(x!);
        var (eb, vb, rb) = EpochVersion.Split(y!);
        if (ea != eb)
        {
            return ea.CompareTo(eb);
        }
        var c = RpmVerCmp(va, vb);
        if (c != 0 || ra is null || rb is null)
        {
            // A missing release matches any release (as rpm does when one side gives only a version).
            return c;
        }
        return RpmVerCmp(ra, rb);
    }

    /// <summary>rpmvercmp: -1, 0 or 1.</summary>
    public static int RpmVerCmp(string a, string b)
    {
        if (string.Equals(a, b, StringComparison.Ordinal))
        {
            return 0;
        }
        int i = 0,
            j = 0;
        while (i < a.Length || j < b.Length)
        {
            while (i < a.Length && !char.IsAsciiLetterOrDigit(a[i]) && a[i] is not '~' and not '^')
            {
                i++;
            }
            while (j < b.Length && !char.IsAsciiLetterOrDigit(b[j]) && b[j] is not '~' and not '^')
            {
                j++;
            }
            var ca = i < a.Length ? a[i] : '\0';
            var cb = j < b.Length ? b[j] : '\0';
            if (ca == '~' || cb == '~')
            {
                if (ca != '~')
                {
                    return 1;
                }
                if (cb != '~')
                {
                    return -1;
                }
                i++;
                j++;
                continue;
            }
            if (ca == '^' || cb == '^')
            {
                if (ca == '\0')
                {
                    return -1;
                }
                if (cb == '\0')
                {
                    return 1;
                }
                if (ca != '^')
                {
                    return 1;
                }
                if (cb != '^')
                {
                    return -1;
                }
                i++;
                j++;
                continue;
            }
            if (ca == '\0' || cb == '\0')
            {
                break;
            }
            int si = i,
                sj = j;
            var numeric = char.IsAsciiDigit(ca);
            if (numeric)
            {
                while (i < a.Length && char.IsAsciiDigit(a[i]))
                {
                    i++;
                }
                while (j < b.Length && char.IsAsciiDigit(b[j]))
                {
                    j++;
                }
            }
            else
            {
                while (i < a.Length && char.IsAsciiLetter(a[i]))
                {
                    i++;
                }
                while (j < b.Length && char.IsAsciiLetter(b[j]))
                {
                    j++;
                }
            }
            if (sj == j)
            {
                // Segments of different kinds: a number is newer than letters.
                return numeric ? 1 : -1;
            }
            var sa = a.AsSpan(si, i - si);
            var sb = b.AsSpan(sj, j - sj);
            if (numeric)
            {
                sa = sa.TrimStart('0');
                sb = sb.TrimStart('0');
                if (sa.Length != sb.Length)
                {
                    return sa.Length > sb.Length ? 1 : -1;
                }
            }
            var c = sa.SequenceCompareTo(sb);
            if (c != 0)
            {
                return c < 0 ? -1 : 1;
            }
        }
        var endA = i >= a.Length;
        var endB = j >= b.Length;
        return endA && endB ? 0
            : endA ? -1
            : 1;
    }
}

/// <summary>Which ordering a package ecosystem's versions follow.</summary>
internal static class VersionOrdering
{
    /// <summary>The comparer for an OSV ecosystem name (Debian, Ubuntu: dpkg; Red Hat, Rocky, AlmaLinux, SUSE: rpm), or null when unknown.</summary>
    public static IComparer<string>? ForEcosystem(string ecosystem)
    {
        var family = ecosystem.Split(':', 2)[0];
        return family switch
        {
            "Debian" or "Ubuntu" => DebianVersionComparer.Instance,
            "Red Hat" or "Rocky Linux" or "AlmaLinux" or "SUSE" or "openSUSE" or "Mageia" =>
                RpmVersionComparer.Instance,
            _ => null,
        };
    }
}

/// <summary>
/// What Debian and RPM version strings share: <c>[epoch:]version[-release]</c> with a numeric epoch (missing is 0),
/// the release after the last dash, and null sorting before any version.
/// </summary>
internal static class EpochVersion
{
    /// <summary>The order when either side is null or both are the same string; null when the versions must be compared.</summary>
    public static int? CompareEnds(string? x, string? y) =>
        ReferenceEquals(x, y) ? 0
        : x is null ? -1
        : y is null ? 1
        : null;

    /// <summary>Splits a trimmed version; the release is null when there is no dash.</summary>
    public static (long Epoch, string Version, string? Release) Split(string text)
    {
        var version = text.Trim();
        long epoch = 0;
        var colon = version.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            _ = long.TryParse(
                version.AsSpan(0, colon),
                System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture,
                out epoch
            );
            version = version[(colon + 1)..];
        }
        var dash = version.LastIndexOf('-');
        return dash >= 0 ? (epoch, version[..dash], version[(dash + 1)..]) : (epoch, version, null);
    }
}
