using ImageForge.Core.Anomalies;
using ImageForge.Core.Facts;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Anomalies;

public sealed class DetectorSpecs
{
    private static readonly DateOnly Today = new(2025, 3, 4);

    private static IReadOnlyList<Anomaly> Detect(
        Facts current,
        IReadOnlyList<FactSnapshot>? history = null,
        AnomalySettings? settings = null,
        ParentChange? parent = null
    ) =>
        AnomalyDetector.Detect(
            current.Snapshot(),
            history ?? Facts.History(20),
            settings ?? AnomalySettings.Default,
            Today,
            parent
        );

    // The one line users read, per signal: what appeared and what it was compared with.
    [Theory]
    [InlineData(
        FactNames.AptSource,
        "deb http://evil.example/debian bookworm main",
        "new apt source deb http://evil.example/debian bookworm main: absent in the last 20 builds",
        AnomalySeverity.High
    )]
    [InlineData(
        FactNames.SetuidFile,
        "/usr/local/bin/helper 9f86",
        "new setuid/setgid file /usr/local/bin/helper 9f86: absent in the last 20 builds",
        AnomalySeverity.High
    )]
    [InlineData(
        FactNames.EnabledUnit,
        "nginx.service",
        "new enabled service nginx.service: absent in the last 20 builds",
        AnomalySeverity.Medium
    )]
    [InlineData(
        FactNames.Cron,
        "/etc/cron.d/miner: * * * * * root /opt/m",
        "new cron entry /etc/cron.d/miner: * * * * * root /opt/m: absent in the last 20 builds",
        AnomalySeverity.Medium
    )]
    [InlineData(
        FactNames.FailedRule,
        "xccdf_rule_sshd_disable_root_login",
        "new failing compliance rule xccdf_rule_sshd_disable_root_login: absent in the last 20 builds",
        AnomalySeverity.Medium
    )]
    [InlineData(
        FactNames.CriticalFinding,
        "CVE-2025-0001 openssl",
        "new critical finding CVE-2025-0001 openssl: absent in the last 20 builds",
        AnomalySeverity.High
    )]
    [InlineData(
        FactNames.CaCertificate,
        "cc33",
        "new trust anchor: CA certificate cc33, absent in the last 20 builds",
        AnomalySeverity.High
    )]
    [InlineData(
        FactNames.User,
        "toor uid=0 gid=0 shell=/bin/sh",
        "account toor has uid 0 (toor uid=0 gid=0 shell=/bin/sh); only root may",
        AnomalySeverity.Critical
    )]
    [InlineData(
        FactNames.Sudoers,
        "/etc/sudoers.d/ops: ops ALL=(ALL) NOPASSWD: ALL",
        "sudoers grants NOPASSWD: /etc/sudoers.d/ops: ops ALL=(ALL) NOPASSWD: ALL",
        AnomalySeverity.Critical
    )]
    [InlineData(
        FactNames.Sshd,
        "permitrootlogin yes",
        "sshd permits root login (PermitRootLogin yes)",
        AnomalySeverity.Critical
    )]
    public void A_member_absent_from_the_window_is_one_anomaly_explained_in_one_line(
        string set,
        string member,
        string explanation,
        AnomalySeverity severity
    )
    {
        var anomaly = Detect(new Facts().With(set, member)).ShouldHaveSingleItem();

        anomaly.Explanation.ShouldBe(explanation);
        anomaly.Severity.ShouldBe(severity);
        anomaly.Subject.ShouldBe(member);
        anomaly.Raised.ShouldBeTrue();
        anomaly.Id.ShouldBe(Anomaly.IdOf(anomaly.Signal, member));
    }

    [Fact]
    public void A_clean_build_against_a_clean_window_has_no_anomaly()
    {
        Detect(new Facts()).ShouldBeEmpty();
    }

    [Fact]
    public void A_member_seen_in_any_build_of_the_window_is_not_new()
    {
        var history = Facts.History(
            20,
            i => i == 3 ? new Facts().With(FactNames.EnabledUnit, "nginx.service") : new Facts()
        );

        Detect(new Facts().With(FactNames.EnabledUnit, "nginx.service"), history).ShouldBeEmpty();
    }

    [Fact]
    public void Only_the_window_counts_a_member_seen_before_it_is_new_again()
    {
        var history = Facts.History(
            25,
            i => i == 1 ? new Facts().With(FactNames.EnabledUnit, "nginx.service") : new Facts()
        );

        Detect(new Facts().With(FactNames.EnabledUnit, "nginx.service"), history)
            .ShouldHaveSingleItem()
            .Baseline.ShouldBe("absent in the last 20 builds");
    }

    [Fact]
    public void The_first_build_has_nothing_to_compare_with_but_the_always_serious_rules_hold()
    {
        var anomalies = Detect(
            new Facts()
                .With(FactNames.EnabledUnit, "nginx.service")
                .Without(FactNames.Sshd, "permitrootlogin no")
                .With(FactNames.Sshd, "permitrootlogin yes"),
            history: []
        );

        anomalies.ShouldHaveSingleItem().Signal.ShouldBe(AnomalySettings.Rules.PermitRootLogin);
    }

    [Fact]
    public void The_second_build_is_compared_with_the_first()
    {
        Detect(new Facts().With(FactNames.SetuidFile, "/usr/bin/x 12"), Facts.History(1))
            .ShouldHaveSingleItem()
            .Baseline.ShouldBe("absent in the last build");
    }

    [Fact]
    public void A_jump_in_size_is_measured_in_MADs_from_the_median_of_the_window()
    {
        var history = Facts.History(
            20,
            i => new Facts().Measure(FactNames.RootfsBytes, 1.2e9 + (i % 5) * 4e6)
        );

        var anomaly = Detect(new Facts().Measure(FactNames.RootfsBytes, 1.2e9 * 1.4), history)
            .ShouldHaveSingleItem();

        anomaly.Detector.ShouldBe(AnomalyDetectorKind.RobustZ);
        anomaly.Measurement!.Median.ShouldBe(1.208e9);
        anomaly.Measurement.Mad.ShouldBe(4e6);
        anomaly.Explanation.ShouldBe(
            "root filesystem size 1.68 GB is 5.3 MADs above the median 1.21 GB, MAD 4.0 MB over the last 20 builds"
        );
    }

    [Fact]
    public void When_the_window_never_moved_the_MAD_floor_gives_it_a_scale()
    {
        var evidence = RobustZ.Score(140, [100, 100, 100], floorFraction: 0.05);

        evidence.Mad.ShouldBe(0);
        evidence.Score.ShouldBe(0.6745 * 40 / 5, 1e-9);
        RobustZ.Score(101, [100, 100, 100], 0.05).Score.ShouldBeLessThan(3.5);
    }

    [Fact]
    public void Build_time_three_times_the_median_is_raised_but_a_faster_build_is_not()
    {
        Detect(new Facts().Measure(FactNames.BuildSeconds, 1800))
            .ShouldHaveSingleItem()
            .Explanation.ShouldStartWith("build time 1800 s is ");
        Detect(new Facts().Measure(FactNames.BuildSeconds, 200)).ShouldBeEmpty();
    }

    [Fact]
    public void A_lower_compliance_score_is_raised_a_higher_one_is_not()
    {
        Detect(new Facts().Measure(FactNames.ComplianceScore, 0.80))
            .ShouldHaveSingleItem()
            .Signal.ShouldBe(FactNames.ComplianceScore);
        Detect(new Facts().Measure(FactNames.ComplianceScore, 0.99)).ShouldBeEmpty();
    }

    [Fact]
    public void A_drift_no_single_build_makes_stand_out_is_seen_by_the_EWMA_chart()
    {
        // From the 13th build each is 3% larger than the one before: this one is not beyond 3.5 MADs alone, but the
        // chart leaves its limits.
        var history = Facts.History(
            20,
            i =>
                new Facts().Measure(
                    FactNames.RootfsBytes,
                    1e9 * (i <= 12 ? 1 : 1 + 0.03 * (i - 12))
                )
        );

        var anomaly = Detect(new Facts().Measure(FactNames.RootfsBytes, 1.24e9), history)
            .ShouldHaveSingleItem();

        anomaly.Detector.ShouldBe(AnomalyDetectorKind.Ewma);
        anomaly.Explanation.ShouldStartWith(
            "root filesystem size drifting up: 1.24 GB takes its EWMA past the control limit"
        );
    }

    [Fact]
    public void A_difference_the_parent_brought_is_marked_inherited_not_raised()
    {
        var before = new Facts().Snapshot();
        var after = new Facts()
            .With(FactNames.CaCertificate, "cc33")
            .With(FactNames.EnabledUnit, "unattended-upgrades.service")
            .Measure(FactNames.RootfsBytes, 1.2e9 * 1.3)
            .Snapshot();

        var anomalies = Detect(
            new Facts()
                .With(FactNames.EnabledUnit, "unattended-upgrades.service")
                .With(FactNames.EnabledUnit, "nginx.service")
                .Measure(FactNames.RootfsBytes, 1.2e9 * 1.3),
            parent: new ParentChange("parent base 1 -> 2", before, after)
        );

        anomalies.Where(a => a.Raised).ShouldHaveSingleItem().Subject.ShouldBe("nginx.service");
        anomalies
            .Where(a => a.Inherited)
            .Select(a => a.Subject)
            .ShouldBe(["unattended-upgrades.service", FactNames.RootfsBytes], ignoreOrder: true);
    }

    [Fact]
    public void An_expected_change_suppresses_with_its_reason_until_it_expires()
    {
        var settings = AnomalySettings.Default with
        {
            Expected =
            [
                new ExpectedChange(
                    FactNames.EnabledUnit,
                    "nginx",
                    "this version adds nginx",
                    Today.AddDays(1)
                ),
            ],
        };
        var expired = AnomalySettings.Default with
        {
            Expected =
            [
                new ExpectedChange(
                    FactNames.EnabledUnit,
                    "nginx",
                    "this version adds nginx",
                    Today
                ),
            ],
        };
        var current = new Facts().With(FactNames.EnabledUnit, "nginx.service");

        var suppressed = Detect(current, settings: settings).ShouldHaveSingleItem();

        suppressed.Raised.ShouldBeFalse();
        suppressed.SuppressedBy.ShouldBe("expected: this version adds nginx (until 2025-03-05)");
        Detect(current, settings: expired).ShouldHaveSingleItem().Raised.ShouldBeTrue();
    }

    [Fact]
    public void A_configured_severity_replaces_the_default()
    {
        var settings = AnomalySettings.Default with
        {
            Severities = new Dictionary<string, AnomalySeverity>
            {
                [FactNames.EnabledUnit] = AnomalySeverity.High,
            },
        };

        Detect(new Facts().With(FactNames.EnabledUnit, "nginx.service"), settings: settings)
            .ShouldHaveSingleItem()
            .Severity.ShouldBe(AnomalySeverity.High);
    }

    [Fact]
    public void The_same_facts_give_the_same_anomalies_in_the_same_order()
    {
        var current = new Facts()
            .With(FactNames.EnabledUnit, "b.service")
            .With(FactNames.EnabledUnit, "a.service")
            .With(FactNames.User, "toor uid=0 gid=0 shell=/bin/sh")
            .Measure(FactNames.BuildSeconds, 3000);

        var first = Detect(current).Select(a => a.Id).ToList();

        first.ShouldBe(Detect(current).Select(a => a.Id).ToList());
        Detect(current)[0].Severity.ShouldBe(AnomalySeverity.Critical);
    }
}
