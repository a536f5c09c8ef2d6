using ImageForge.Core.Anomalies;
using ImageForge.Core.Facts;
using ImageForge.Core.Gates;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Anomalies;

public sealed class AnomalyGateSpecs
{
    private static readonly DateTimeOffset At = new(2025, 3, 4, 9, 0, 0, TimeSpan.Zero);

    private static readonly GatePolicy Policy = new()
    {
        Anomalies = new AnomaliesGate(AnomalySeverity.Critical, AnomalySeverity.Medium),
    };

    private static IReadOnlyList<Anomaly> AnomaliesOf(Facts current) =>
        AnomalyDetector.Detect(
            current.Snapshot(),
            Facts.History(20),
            AnomalySettings.Default,
            DateOnly.FromDateTime(At.UtcDateTime)
        );

    private static GateDecision Decide(IReadOnlyList<Anomaly>? anomalies) =>
        GateEvaluator.Evaluate("cis", Policy, new GateEvidence { Anomalies = anomalies }, At);

    [Fact]
    public void A_raised_critical_anomaly_fails_the_gate_naming_it()
    {
        var anomalies = AnomaliesOf(
            new Facts().With(FactNames.User, "toor uid=0 gid=0 shell=/bin/sh")
        );

        var decision = Decide(anomalies);

        decision.Decision.ShouldBe(GateOutcome.Fail);
        decision.Violations.First().Found.ShouldContain("account toor has uid 0");
    }

    [Fact]
    public void A_medium_anomaly_only_warns_and_a_clean_build_passes()
    {
        Decide(AnomaliesOf(new Facts().With(FactNames.EnabledUnit, "nginx.service")))
            .Decision.ShouldBe(GateOutcome.Warn);
        Decide(AnomaliesOf(new Facts())).Decision.ShouldBe(GateOutcome.Pass);
    }

    [Fact]
    public void Inherited_and_expected_anomalies_do_not_count()
    {
        var expected = AnomalyDetector.Detect(
            new Facts().With(FactNames.User, "toor uid=0 gid=0 shell=/bin/sh").Snapshot(),
            Facts.History(20),
            AnomalySettings.Default with
            {
                Expected =
                [
                    new ExpectedChange(
                        AnomalySettings.Rules.Uid0Account,
                        "toor",
                        "break-glass account",
                        new DateOnly(2026, 1, 1)
                    ),
                ],
            },
            DateOnly.FromDateTime(At.UtcDateTime)
        );

        Decide(expected).Decision.ShouldBe(GateOutcome.Pass);
    }

    [Fact]
    public void A_version_without_an_anomaly_report_fails_the_gate_as_missing_evidence()
    {
        var decision = Decide(null);

        decision.Decision.ShouldBe(GateOutcome.Fail);
        decision.Violations.First().Found.ShouldBe("no anomalies evidence");
    }
}
