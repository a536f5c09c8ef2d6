using ImageForge.Core.Anomalies;
using ImageForge.Core.Facts;

namespace ImageForge.Core.Tests.Anomalies;

/// <summary>One kind of change injected into a build history, and the signal that must raise it.</summary>
internal sealed record InjectedKind(
    string Name,
    string Signal,
    bool Security,
    Func<Facts, int, Facts> Apply
);

/// <summary>One build of a replayed history: its facts, the parent's change it was built with, what it carries.</summary>
internal sealed record ReplayBuild(
    FactSnapshot Facts,
    ParentChange? Parent,
    InjectedKind? Injected
);

/// <summary>
/// The replay corpus, generated from a fixed seed: histories of builds of one image with measurement noise, a
/// legitimate parent update in about half of them (new CA, new unit, +30% size, all explained by the parent) and one
/// injected change of one of the twelve kinds from a build on (it stays in the builds after it).
/// </summary>
internal static class ReplayCorpus
{
    public const int Seed = 19;
    public const int Histories = 200;
    public const int Builds = 30;

    public static IReadOnlyList<InjectedKind> Kinds { get; } =
    [
        new(
            "new apt source",
            FactNames.AptSource,
            true,
            (f, i) =>
                f.With(FactNames.AptSource, $"deb http://mirror{i}.example/debian bookworm main")
        ),
        new(
            "new CA certificate",
            AnomalySettings.Rules.NewTrustAnchor,
            true,
            (f, i) => f.With(FactNames.CaCertificate, $"ca{i:x8}")
        ),
        new(
            "new setuid file",
            FactNames.SetuidFile,
            true,
            (f, i) => f.With(FactNames.SetuidFile, $"/usr/local/bin/helper{i} {i:x8}")
        ),
        new(
            "new listening service",
            FactNames.EnabledUnit,
            true,
            (f, i) => f.With(FactNames.EnabledUnit, $"listener{i}.service")
        ),
        new(
            "new uid-0 user",
            AnomalySettings.Rules.Uid0Account,
            true,
            (f, i) => f.With(FactNames.User, $"svc{i} uid=0 gid=0 shell=/bin/sh")
        ),
        new(
            "sudoers NOPASSWD",
            AnomalySettings.Rules.SudoersNopasswd,
            true,
            (f, i) =>
                f.With(FactNames.Sudoers, $"/etc/sudoers.d/ops{i}: ops ALL=(ALL) NOPASSWD: ALL")
        ),
        new(
            "PermitRootLogin yes",
            AnomalySettings.Rules.PermitRootLogin,
            true,
            (f, _) =>
                f.Without(FactNames.Sshd, "permitrootlogin no")
                    .With(FactNames.Sshd, "permitrootlogin yes")
        ),
        new(
            "new cron entry",
            FactNames.Cron,
            true,
            (f, i) => f.With(FactNames.Cron, $"/etc/cron.d/job{i}: */5 * * * * root /opt/job{i}")
        ),
        new(
            "compliance rule regression",
            FactNames.FailedRule,
            true,
            (f, i) =>
                f.With(FactNames.FailedRule, $"xccdf_org.ssgproject.content_rule_{i}")
                    .Measure(FactNames.ComplianceScore, f.Metrics[FactNames.ComplianceScore] - 0.01)
        ),
        new(
            "new critical finding",
            FactNames.CriticalFinding,
            true,
            (f, i) => f.With(FactNames.CriticalFinding, $"CVE-2025-{i:00000} openssl")
        ),
        new(
            "+40% image size",
            FactNames.RootfsBytes,
            false,
            (f, _) => f.Measure(FactNames.RootfsBytes, f.Metrics[FactNames.RootfsBytes] * 1.4)
        ),
        new(
            "3x build time",
            FactNames.BuildSeconds,
            false,
            (f, _) => f.Measure(FactNames.BuildSeconds, f.Metrics[FactNames.BuildSeconds] * 3)
        ),
    ];

    /// <summary>A history: its builds and the index of the first build with the injected change.</summary>
    public static IEnumerable<(
        IReadOnlyList<ReplayBuild> Builds,
        int InjectedAt,
        InjectedKind Kind
    )> Generate()
    {
        var random = new Random(Seed);
        for (var h = 0; h < Histories; h++)
        {
            var kind = Kinds[h % Kinds.Count];
            var injectedAt = random.Next(10, Builds);
            var parentAt = random.Next(2) == 0 ? random.Next(3, Builds) : -1;
            var size = 0.8e9 + random.NextDouble() * 1.5e9;
            var seconds = 300 + random.NextDouble() * 900;
            var score = 0.85 + random.NextDouble() * 0.1;
            var builds = new List<ReplayBuild>();
            var parentBefore = new Facts().Measure(FactNames.RootfsBytes, size).Snapshot();
            var parentAfter = ParentUpdate(new Facts().Measure(FactNames.RootfsBytes, size))
                .Snapshot();
            for (var b = 0; b < Builds; b++)
            {
                var facts = new Facts()
                    .Measure(FactNames.RootfsBytes, size * (1 + Normal(random) * 0.01))
                    .Measure(FactNames.BuildSeconds, seconds * Math.Exp(Normal(random) * 0.08))
                    .Measure(FactNames.ComplianceScore, score + Normal(random) * 0.002)
                    .As($"2025.{1 + b / 28:00}.{1 + b % 28:00}.{h + 1}");
                ParentChange? parent = null;
                if (parentAt >= 0 && b >= parentAt)
                {
                    facts = ParentUpdate(facts);
                    // The window still holds builds on the old parent until it has moved past them.
                    if (b - parentAt < AnomalySettings.Default.Window)
                    {
                        parent = new ParentChange("parent update", parentBefore, parentAfter);
                    }
                }
                if (b >= injectedAt)
                {
                    facts = kind.Apply(facts, h);
                }
                builds.Add(
                    new ReplayBuild(facts.Snapshot(), parent, b >= injectedAt ? kind : null)
                );
            }
            yield return (builds, injectedAt, kind);
        }
    }

    private static Facts ParentUpdate(Facts facts) =>
        facts
            .With(FactNames.CaCertificate, "parent-ca")
            .With(FactNames.EnabledUnit, "unattended-upgrades.service")
            .Measure(FactNames.RootfsBytes, facts.Metrics[FactNames.RootfsBytes] * 1.3);

    // Box-Muller: a standard normal from two uniforms.
    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()))
        * Math.Cos(2 * Math.PI * random.NextDouble());
}
