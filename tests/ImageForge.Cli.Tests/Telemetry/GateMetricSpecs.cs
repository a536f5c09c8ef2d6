using System.Diagnostics.Metrics;
using ImageForge.Cli.Tests.Promotion;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Gates;
using ImageForge.Core.Telemetry;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests.Telemetry;

/// <summary>
/// The gate collector counts its decision by outcome and every rule it found not met, by gate and rule: what an
/// operations team charts to see which rule rejects versions.
/// </summary>
[Collection(nameof(TelemetrySpecs))]
public sealed class GateMetricSpecs
{
    [Fact(Timeout = 30_000)]
    public async Task A_decision_without_evidence_is_counted_as_failed_with_each_rule_it_could_not_meet()
    {
        var set = DefinitionLoader.Load(
            ContentPaths.UnderRoot(RepoPaths.Root),
            new DateOnly(2026, 1, 2),
            TestProviders.Shipped
        );
        var definition = set.FindImage("debian-11-cis")!;
        using var evidence = new TempDirectory("imageforge-gate-metric");
        var measured =
            new List<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (
                    instrument.Meter.Name == ImageForgeTelemetry.Name
                    && instrument.Name
                        is ImageForgeTelemetry.Metrics.GateDecisions
                            or ImageForgeTelemetry.Metrics.GateRulesNotMet
                )
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>(
            (instrument, value, tags, _) =>
            {
                lock (measured)
                {
                    measured.Add(
                        (
                            instrument.Name,
                            value,
                            tags.ToArray().ToDictionary(t => t.Key, t => t.Value)
                        )
                    );
                }
            }
        );
        listener.Start();

        var documents = await new GateCollector(NoRevocationData.Instance).CollectAsync(
            new EvidenceContext(
                definition,
                set.FindBaseline(definition.Baseline)!,
                definition.Targets[0],
                "2026.12.2.1",
                "b-gate-metric",
                [],
                [],
                evidence.Path,
                TimeProvider.System.GetUtcNow()
            )
            {
                BaseImage = TestProviders
                    .Shipped.Get(definition.Targets[0].Provider)
                    .BaseImage(definition, definition.Targets[0]),
            },
            new SignedVersions.NullSink()
        );

        var decision = GateDecision.Read(documents.ShouldHaveSingleItem().Location);
        decision.Decision.ShouldBe(GateOutcome.Fail);
        var counted = measured
            .Where(m => m.Instrument == ImageForgeTelemetry.Metrics.GateDecisions)
            .ShouldHaveSingleItem();
        counted.Value.ShouldBe(1);
        counted.Tags[ImageForgeTelemetry.Attributes.Image].ShouldBe("debian-11-cis");
        counted.Tags[ImageForgeTelemetry.Attributes.Target].ShouldBe("local");
        counted.Tags[ImageForgeTelemetry.Attributes.Outcome].ShouldBe("fail");
        measured
            .Where(m => m.Instrument == ImageForgeTelemetry.Metrics.GateRulesNotMet)
            .Select(m =>
                (
                    (string)m.Tags[ImageForgeTelemetry.Attributes.Gate]!,
                    (string)m.Tags[ImageForgeTelemetry.Attributes.Rule]!,
                    (string)m.Tags[ImageForgeTelemetry.Attributes.Outcome]!
                )
            )
            .ShouldBe([
                .. decision.Violations.Select(v => (v.Gate, v.Rule, GateDecision.Name(v.Outcome))),
            ]);
        decision.Violations.ShouldNotBeEmpty();
    }
}
