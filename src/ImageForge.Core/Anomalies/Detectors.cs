using System.Globalization;
using ImageForge.Core.Facts;

namespace ImageForge.Core.Anomalies;

/// <summary>
/// First-seen over a window: the members of a fact set that no build of the window had. Each explains itself as
/// "absent in the last N builds".
/// </summary>
public static class FirstSeen
{
    /// <summary>The members of <paramref name="current"/> that none of <paramref name="window"/> holds, in order.</summary>
    public static IReadOnlyList<string> NewMembers(
        IReadOnlySet<string> current,
        IEnumerable<IReadOnlySet<string>> window
    )
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(window);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var set in window)
        {
            seen.UnionWith(set);
        }
        return [.. current.Where(m => !seen.Contains(m)).Order(StringComparer.Ordinal)];
    }

    /// <summary>"absent in the last 20 builds" (or "in the last build").</summary>
    public static string Baseline(int builds) =>
        builds == 1 ? "absent in the last build" : $"absent in the last {builds} builds";
}

/// <summary>
/// The robust z-score of a value against a window: 0.6745 (x - median) / MAD, where the MAD is at least a fraction of
/// the median (the floor), so a window whose values never moved still has a scale and a 40% jump still stands out.
/// </summary>
public static class RobustZ
{
    /// <summary>The constant that makes the MAD of a normal sample comparable with its standard deviation.</summary>
    public const double Consistency = 0.6745;

    /// <summary>The median of the values (which must not be empty).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            throw new ArgumentException("the median of nothing", nameof(values));
        }
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>The median absolute deviation from the median.</summary>
    public static double Mad(IReadOnlyList<double> values)
    {
        var median = Median(values);
        return Median([.. values.Select(v => Math.Abs(v - median))]);
    }

    /// <summary>The MAD divided by: the MAD, or the floor fraction of |median| (of 1 when the median is 0).</summary>
    public static double Scale(double median, double mad, double floorFraction) =>
        Math.Max(mad, floorFraction * (median == 0 ? 1 : Math.Abs(median)));

    /// <summary>The score of <paramref name="value"/> against <paramref name="window"/>.</summary>
    public static MeasurementEvidence Score(
        double value,
        IReadOnlyList<double> window,
        double floorFraction
    )
    {
        var median = Median(window);
        var mad = Mad(window);
        return new MeasurementEvidence(
            value,
            median,
            mad,
            Consistency * (value - median) / Scale(median, mad, floorFraction)
        );
    }
}

/// <summary>
/// An EWMA chart over the window and this build: z = λx + (1-λ)z, started at the window's median, with control limits
/// of <c>L σ √(λ/(2-λ))</c> where σ is the window's MAD (floored) made comparable with a standard deviation. It sees a
/// drift that no single build makes stand out.
/// </summary>
public static class Ewma
{
    /// <summary>
    /// The chart's last value's distance from the centre in units of the control limit (beyond ±1 is out), with the
    /// window's median and MAD.
    /// </summary>
    public static MeasurementEvidence Score(
        double value,
        IReadOnlyList<double> window,
        double lambda,
        double limit,
        double floorFraction
    )
    {
        var median = RobustZ.Median(window);
        var mad = RobustZ.Mad(window);
        var sigma = RobustZ.Scale(median, mad, floorFraction) / RobustZ.Consistency;
        var z = median;
        foreach (var x in window.Append(value))
        {
            z = lambda * x + (1 - lambda) * z;
        }
        var width = limit * sigma * Math.Sqrt(lambda / (2 - lambda));
        return new MeasurementEvidence(value, median, mad, (z - median) / width);
    }
}

/// <summary>Always-serious rules over one build's facts, whatever the history says.</summary>
public static class SeriousRules
{
    /// <summary>Accounts of the user set with uid 0 other than root ("toor uid=0 gid=0 shell=/bin/sh").</summary>
    public static IEnumerable<string> Uid0Accounts(FactSnapshot facts) =>
        facts
            .Set(FactNames.User)
            .Where(u =>
                u.Contains(" uid=0 ", StringComparison.Ordinal)
                && !u.StartsWith("root ", StringComparison.Ordinal)
            );

    /// <summary>Sudoers lines granting NOPASSWD.</summary>
    public static IEnumerable<string> Nopasswd(FactSnapshot facts) =>
        facts
            .Set(FactNames.Sudoers)
            .Where(l => l.Contains("NOPASSWD", StringComparison.OrdinalIgnoreCase));

    /// <summary>The sshd setting "permitrootlogin yes", when sshd has it.</summary>
    public static IEnumerable<string> PermitRootLogin(FactSnapshot facts) =>
        facts
            .Set(FactNames.Sshd)
            .Where(s =>
                string.Equals(s, "permitrootlogin yes", StringComparison.OrdinalIgnoreCase)
            );
}

/// <summary>How values and fact sets read in explanations.</summary>
public static class AnomalyText
{
    /// <summary>What a member of a fact set is called ("setuid file").</summary>
    public static string Label(string set) =>
        set switch
        {
            FactNames.AptSource => "apt source",
            FactNames.AptKey => "apt signing key",
            FactNames.CaCertificate => "CA certificate",
            FactNames.SetuidFile => "setuid/setgid file",
            FactNames.WorldWritable => "world-writable path",
            FactNames.EnabledUnit => "enabled service",
            FactNames.Timer => "enabled timer",
            FactNames.Cron => "cron entry",
            FactNames.User => "account",
            FactNames.Sudoers => "sudoers rule",
            FactNames.Sshd => "sshd setting",
            FactNames.AuthorizedKeys => "authorized_keys file",
            FactNames.Sysctl => "sysctl setting",
            FactNames.ModuleBlacklist => "blacklisted module",
            FactNames.FailedRule => "failing compliance rule",
            FactNames.CriticalFinding => "critical finding",
            _ => set.Replace('_', ' '),
        };

    /// <summary>What a measurement is called ("disk size", "build time", "stage harden time").</summary>
    public static string MeasurementLabel(string name) =>
        name switch
        {
            FactNames.DiskBytes => "disk size",
            FactNames.RootfsBytes => "root filesystem size",
            FactNames.BuildSeconds => "build time",
            FactNames.ComplianceScore => "compliance score",
            _ when name.StartsWith(FactNames.StagePrefix, StringComparison.Ordinal) =>
                $"stage {name[FactNames.StagePrefix.Length..]} time",
            _ => name,
        };

    /// <summary>A value in its unit: bytes as MB/GB, seconds as s, anything else with two decimals.</summary>
    public static string Value(string name, double value)
    {
        if (name.StartsWith("size.", StringComparison.Ordinal))
        {
            return Math.Abs(value) >= 1e9
                ? (value / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + " GB"
                : (value / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " MB";
        }
        return name.StartsWith(FactNames.StagePrefix, StringComparison.Ordinal)
            ? value.ToString("0.#", CultureInfo.InvariantCulture) + " s"
            : value.ToString("0.00", CultureInfo.InvariantCulture);
    }

    /// <summary>A number with two decimals, invariant.</summary>
    public static string Number(double value) =>
        value.ToString("0.0", CultureInfo.InvariantCulture);
}
