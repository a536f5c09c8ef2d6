using ImageForge.Core.Facts;

namespace ImageForge.Core.Tests.Anomalies;

/// <summary>Builds fact snapshots for the anomaly specs: a clean image, changed one fact at a time.</summary>
internal sealed record Facts
{
    public string Version { get; init; } = "2025.03.04.1";

    public Dictionary<string, SortedSet<string>> Sets { get; init; } =
        new(StringComparer.Ordinal)
        {
            [FactNames.AptSource] = ["deb http://deb.debian.org/debian bookworm main"],
            [FactNames.CaCertificate] = ["aa11", "bb22"],
            [FactNames.SetuidFile] = ["/usr/bin/su 5e7a"],
            [FactNames.EnabledUnit] = ["ssh.service", "cron.service"],
            [FactNames.User] =
            [
                "root uid=0 gid=0 shell=/bin/bash",
                "daemon uid=1 gid=1 shell=/usr/sbin/nologin",
            ],
            [FactNames.Sudoers] = ["/etc/sudoers: %sudo ALL=(ALL:ALL) ALL"],
            [FactNames.Sshd] = ["permitrootlogin no", "passwordauthentication no"],
            [FactNames.Cron] = ["/etc/cron.d/e2scrub_all: 30 3 * * 0 root e2scrub_all"],
            [FactNames.FailedRule] = [],
            [FactNames.CriticalFinding] = [],
        };

    public Dictionary<string, double> Metrics { get; init; } =
        new(StringComparer.Ordinal)
        {
            [FactNames.RootfsBytes] = 1.2e9,
            [FactNames.BuildSeconds] = 600,
            [FactNames.ComplianceScore] = 0.92,
        };

    public Facts With(string set, string member)
    {
        var copy = Copy();
        copy.Sets.TryAdd(set, []);
        copy.Sets[set].Add(member);
        return copy;
    }

    public Facts Without(string set, string member)
    {
        var copy = Copy();
        copy.Sets[set].Remove(member);
        return copy;
    }

    public Facts Measure(string name, double value)
    {
        var copy = Copy();
        copy.Metrics[name] = value;
        return copy;
    }

    public Facts As(string version) => Copy() with { Version = version };

    public FactSnapshot Snapshot() =>
        new(
            Version,
            Sets.ToDictionary(
                s => s.Key,
                s => (IReadOnlySet<string>)new SortedSet<string>(s.Value, StringComparer.Ordinal),
                StringComparer.Ordinal
            ),
            new Dictionary<string, double>(Metrics, StringComparer.Ordinal)
        );

    public static List<FactSnapshot> History(int builds, Func<int, Facts>? vary = null) =>
        [
            .. Enumerable
                .Range(1, builds)
                .Select(i => (vary?.Invoke(i) ?? new Facts()).As($"2025.02.{i:00}.1").Snapshot()),
        ];

    private Facts Copy() =>
        this with
        {
            Sets = Sets.ToDictionary(
                s => s.Key,
                s => new SortedSet<string>(s.Value, StringComparer.Ordinal),
                StringComparer.Ordinal
            ),
            Metrics = new Dictionary<string, double>(Metrics, StringComparer.Ordinal),
        };
}
