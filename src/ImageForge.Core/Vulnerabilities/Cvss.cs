using System.Globalization;

namespace ImageForge.Core.Vulnerabilities;

/// <summary>CVSS v3.0/v3.1 base score from a vector (the formula of the CVSS v3.1 specification, section 7).</summary>
internal static class Cvss
{
    /// <summary>The base score, or null when the vector is not a complete CVSS:3.x base vector.</summary>
    public static double? BaseScoreV3(string vector)
    {
        var parts = vector.Split('/');
        if (parts.Length < 9 || !parts[0].StartsWith("CVSS:3", StringComparison.Ordinal))
        {
            return null;
        }
        var m = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in parts.Skip(1))
        {
            var kv = part.Split(':');
            if (kv.Length == 2)
            {
                m[kv[0]] = kv[1];
            }
        }
        try
        {
            var scopeChanged = m["S"] switch
            {
                "U" => false,
                "C" => true,
                _ => throw new FormatException(),
            };
            var av = m["AV"] switch
            {
                "N" => 0.85,
                "A" => 0.62,
                "L" => 0.55,
                "P" => 0.2,
                _ => throw new FormatException(),
            };
            var ac = m["AC"] switch
            {
                "L" => 0.77,
                "H" => 0.44,
                _ => throw new FormatException(),
            };
            var pr = m["PR"] switch
            {
                "N" => 0.85,
                "L" => scopeChanged ? 0.68 : 0.62,
                "H" => scopeChanged ? 0.5 : 0.27,
                _ => throw new FormatException(),
            };
            var ui = m["UI"] switch
            {
                "N" => 0.85,
                "R" => 0.62,
                _ => throw new FormatException(),
            };
            double Cia(string key) =>
                m[key] switch
                {
                    "H" => 0.56,
                    "L" => 0.22,
                    "N" => 0,
                    _ => throw new FormatException(),
                };
            var iss = 1 - ((1 - Cia("C")) * (1 - Cia("I")) * (1 - Cia("A")));
            var impact = scopeChanged
                ? (7.52 * (iss - 0.029)) - (3.25 * Math.Pow(iss - 0.02, 15))
                : 6.42 * iss;
            var exploitability = 8.22 * av * ac * pr * ui;
            if (impact <= 0)
            {
                return 0;
            }
            return scopeChanged
                ? RoundUp(Math.Min(1.08 * (impact + exploitability), 10))
                : RoundUp(Math.Min(impact + exploitability, 10));
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException)
        {
            return null;
        }
    }

    // The specification's Roundup: the smallest number with one decimal that is >= the input, free of float noise.
    private static double RoundUp(double value)
    {
        var scaled = (long)Math.Round(value * 100000);
        return scaled % 10000 == 0 ? scaled / 100000.0 : (Math.Floor(scaled / 10000.0) + 1) / 10.0;
    }

    /// <summary>Parses a score written as text ("7.5"), or null.</summary>
    public static double? ParseScore(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : null;
}
