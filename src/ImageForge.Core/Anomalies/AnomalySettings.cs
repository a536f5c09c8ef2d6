using ImageForge.Core.Facts;

namespace ImageForge.Core.Anomalies;

/// <summary>
/// A change the baseline expects ("this version adds nginx"): an anomaly of <see cref="Signal"/> whose subject
/// contains <see cref="Match"/> is shown as suppressed, with the reason, until the expiry.
/// </summary>
/// <param name="Signal">The signal it applies to (a fact set, a measurement or a rule name).</param>
/// <param name="Match">Text the anomaly's subject contains; empty matches every anomaly of the signal.</param>
/// <param name="Reason">Why the change is expected.</param>
/// <param name="Expires">The first day it no longer applies.</param>
public sealed record ExpectedChange(string Signal, string Match, string Reason, DateOnly Expires);

/// <summary>How anomalies are detected for an image: the baseline's <c>anomalies:</c> section, or the defaults.</summary>
public sealed record AnomalySettings
{
    /// <summary>The defaults, for a baseline without an <c>anomalies:</c> section.</summary>
    public static AnomalySettings Default { get; } = new();

    /// <summary>How many of the newest successful builds of the image and target are compared with.</summary>
    public int Window { get; init; } = 20;

    /// <summary>The robust z-score (0.6745 (x - median) / MAD) beyond which a measurement is raised.</summary>
    public double ZThreshold { get; init; } = 3.5;

    /// <summary>The fewest builds a measurement needs in the window before the EWMA chart is read.</summary>
    public int EwmaMinimumBuilds { get; init; } = 8;

    /// <summary>The EWMA's weight of the newest value.</summary>
    public double EwmaLambda { get; init; } = 0.3;

    /// <summary>The EWMA's control limits, in standard deviations of the chart.</summary>
    public double EwmaLimit { get; init; } = 3.5;

    /// <summary>
    /// The smallest MAD a measurement is divided by, as a fraction of its median, per measurement prefix (size.,
    /// duration., compliance.): a window whose values never moved (MAD 0) still has a scale.
    /// </summary>
    public IReadOnlyDictionary<string, double> MadFloors { get; init; } =
        new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["size."] = 0.05,
            ["duration."] = 0.2,
            ["compliance."] = 0.02,
        };

    /// <summary>Severity per signal, over <see cref="DefaultSeverities"/>; <see cref="AnomalySeverity.Info"/> silences one.</summary>
    public IReadOnlyDictionary<string, AnomalySeverity> Severities { get; init; } =
        new Dictionary<string, AnomalySeverity>(StringComparer.Ordinal);

    /// <summary>Changes the baseline expects, each with a reason and an expiry.</summary>
    public IReadOnlyList<ExpectedChange> Expected { get; init; } = [];

    /// <summary>The severity of a signal: configured, else its default.</summary>
    public AnomalySeverity SeverityOf(string signal) =>
        Severities.TryGetValue(signal, out var configured) ? configured
        : DefaultSeverities.TryGetValue(signal, out var known) ? known
        : signal.StartsWith(FactNames.StagePrefix, StringComparison.Ordinal) ? AnomalySeverity.Low
        : AnomalySeverity.Medium;

    /// <summary>The MAD floor of a measurement (fraction of its median).</summary>
    public double MadFloorOf(string measurement) =>
        MadFloors
            .Where(f => measurement.StartsWith(f.Key, StringComparison.Ordinal))
            .Select(f => f.Value)
            .DefaultIfEmpty(0.1)
            .First();

    /// <summary>The rule signals (always serious).</summary>
    public static class Rules
    {
        /// <summary>An account with uid 0 other than root.</summary>
        public const string Uid0Account = "uid0_account";

        /// <summary>A sudoers rule with NOPASSWD.</summary>
        public const string SudoersNopasswd = "sudoers_nopasswd";

        /// <summary>sshd's PermitRootLogin yes.</summary>
        public const string PermitRootLogin = "permit_root_login";

        /// <summary>A CA certificate or apt key absent from the window.</summary>
        public const string NewTrustAnchor = "new_trust_anchor";
    }

    /// <summary>Severity of each known signal when the baseline says nothing.</summary>
    public static IReadOnlyDictionary<string, AnomalySeverity> DefaultSeverities { get; } =
        new Dictionary<string, AnomalySeverity>(StringComparer.Ordinal)
        {
            [Rules.Uid0Account] = AnomalySeverity.Critical,
            [Rules.SudoersNopasswd] = AnomalySeverity.Critical,
            [Rules.PermitRootLogin] = AnomalySeverity.Critical,
            [Rules.NewTrustAnchor] = AnomalySeverity.High,
            [FactNames.AptSource] = AnomalySeverity.High,
            [FactNames.SetuidFile] = AnomalySeverity.High,
            [FactNames.User] = AnomalySeverity.High,
            [FactNames.Sudoers] = AnomalySeverity.High,
            [FactNames.AuthorizedKeys] = AnomalySeverity.High,
            [FactNames.WorldWritable] = AnomalySeverity.High,
            [FactNames.CriticalFinding] = AnomalySeverity.High,
            [FactNames.EnabledUnit] = AnomalySeverity.Medium,
            [FactNames.Timer] = AnomalySeverity.Medium,
            [FactNames.Cron] = AnomalySeverity.Medium,
            [FactNames.Sshd] = AnomalySeverity.Medium,
            [FactNames.FailedRule] = AnomalySeverity.Medium,
            [FactNames.Sysctl] = AnomalySeverity.Low,
            [FactNames.ModuleBlacklist] = AnomalySeverity.Low,
            [FactNames.ComplianceScore] = AnomalySeverity.Medium,
            [FactNames.BuildSeconds] = AnomalySeverity.Low,
        };
}
