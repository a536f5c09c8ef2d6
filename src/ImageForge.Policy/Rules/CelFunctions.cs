using System.Collections;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Cel;

namespace ImageForge.Policy.Rules;

/// <summary>
/// The functions rules call besides CEL's own: networks and ports, written once for every cloud's notation (an Azure
/// source may be <c>*</c>, <c>Internet</c> or a service tag; ports may be <c>22</c>, <c>20-30</c> or every port).
/// </summary>
internal static class CelFunctions
{
    /// <summary>The longest predicate accepted.</summary>
    public const int MaxPredicateLength = 4096;

    /// <summary>The deepest nesting of brackets in a predicate (CEL's parser recurses on each level).</summary>
    public const int MaxPredicateNesting = 32;

    // The sources Azure writes for "anywhere"; other service tags (VirtualNetwork, AzureLoadBalancer) are not the internet.
    private static readonly HashSet<string> Anywhere = new(StringComparer.OrdinalIgnoreCase)
    {
        "*",
        "Internet",
        "Any",
    };

    private static readonly IPNetwork[] NotPublic =
    [
        .. new[]
        {
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "224.0.0.0/4",
            "240.0.0.0/4",
            "::/128",
            "::1/128",
            "fc00::/7",
            "fe80::/10",
            "ff00::/8",
        }.Select(c => Network(c)!.Value),
    ];

    /// <summary>A CEL environment with the functions registered.</summary>
    public static CelEnvironment Environment()
    {
        var env = new CelEnvironment(null, null);
        env.RegisterFunction(
            "cidr_contains",
            [typeof(string), typeof(string)],
            a => a[0] is string outer && a[1] is string inner && CidrContains(outer, inner)
        );
        env.RegisterFunction(
            "is_public_cidr",
            [typeof(string)],
            a => a[0] is string s && IsPublic(s)
        );
        env.RegisterFunction(
            "port_range_covers",
            [typeof(object), typeof(long)],
            a => a[1] is long port && Covers(a[0], port)
        );
        return env;
    }

    /// <summary>Why <paramref name="predicate"/> cannot be compiled safely, or null.</summary>
    public static string? TooComplex(string predicate)
    {
        if (predicate.Length > MaxPredicateLength)
        {
            return $"at most {MaxPredicateLength} characters; this one has {predicate.Length}";
        }
        int depth = 0,
            max = 0;
        foreach (var c in predicate)
        {
            if (c is '(' or '[' or '{')
            {
                max = Math.Max(max, ++depth);
            }
            else if (c is ')' or ']' or '}')
            {
                depth--;
            }
        }
        return max > MaxPredicateNesting
            ? $"brackets nested {max} deep; at most {MaxPredicateNesting}"
            : null;
    }

    /// <summary><c>cidr_contains(outer, inner)</c>: every address of <paramref name="inner"/> (a CIDR or an address) is in <paramref name="outer"/>.</summary>
    public static bool CidrContains(string outer, string inner) =>
        (Anywhere.Contains(outer) ? Network("0.0.0.0/0") : Network(outer)) is { } o
        && (Anywhere.Contains(inner) ? Network("0.0.0.0/0") : Network(inner)) is { } i
        && Inside(i, o);

    /// <summary><c>is_public_cidr(source)</c>: the source includes addresses reachable from the internet.</summary>
    public static bool IsPublic(string source) =>
        Anywhere.Contains(source) || Network(source) is { } n && !NotPublic.Any(p => Inside(n, p));

    /// <summary><c>port_range_covers(ports, port)</c>: one of the ranges (<c>22</c>, <c>20-30</c>, <c>*</c>) includes the port.</summary>
    public static bool Covers(object? ports, long port) =>
        ports switch
        {
            string s => RangeCovers(s, port),
            IEnumerable list => list.Cast<object?>()
                .Any(p => p is string s && RangeCovers(s, port)),
            _ => false,
        };

    private static bool RangeCovers(string range, long port)
    {
        if (range is "*" or "")
        {
            return true;
        }
        var dash = range.IndexOf('-', StringComparison.Ordinal);
        return dash < 0
            ? long.TryParse(range, NumberStyles.None, CultureInfo.InvariantCulture, out var only)
                && only == port
            : long.TryParse(
                range[..dash],
                NumberStyles.None,
                CultureInfo.InvariantCulture,
                out var low
            )
                && long.TryParse(
                    range[(dash + 1)..],
                    NumberStyles.None,
                    CultureInfo.InvariantCulture,
                    out var high
                )
                && low <= port
                && port <= high;
    }

    private static bool Inside(IPNetwork inner, IPNetwork outer) =>
        inner.BaseAddress.AddressFamily == outer.BaseAddress.AddressFamily
        && outer.PrefixLength <= inner.PrefixLength
        && outer.Contains(inner.BaseAddress);

    // Clouds accept host bits in a prefix ("10.0.0.1/8"); IPNetwork does not, so they are cleared first.
    private static IPNetwork? Network(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address))
        {
            return null;
        }
        var bits = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        var prefix = bits;
        if (
            slash >= 0
            && (
                !int.TryParse(
                    text[(slash + 1)..],
                    NumberStyles.None,
                    CultureInfo.InvariantCulture,
                    out prefix
                )
                || prefix > bits
            )
        )
        {
            return null;
        }
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPNetwork(new IPAddress(bytes), prefix);
    }
}
