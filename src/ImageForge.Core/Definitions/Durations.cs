using System.Globalization;
using System.Text.RegularExpressions;

namespace ImageForge.Core.Definitions;

/// <summary>Durations in YAML content: a whole number and one unit, s, m, h or d ("30m", "24h", "3d").</summary>
internal static partial class Durations
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        var match = Pattern().Match(text);
        if (!match.Success)
        {
            duration = default;
            return false;
        }

        var amount = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        duration = match.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            "h" => TimeSpan.FromHours(amount),
            _ => TimeSpan.FromDays(amount),
        };
        return true;
    }

    [GeneratedRegex(@"^(\d{1,5})([smhd])$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
