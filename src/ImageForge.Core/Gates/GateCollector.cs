using System.Diagnostics;
using ImageForge.Core.Builds;
using ImageForge.Core.Sbom;
using ImageForge.Core.Telemetry;

namespace ImageForge.Core.Gates;

/// <summary>
/// The "gates" evidence collector: evaluates the baseline's gates against the evidence collected before it and
/// writes <c>gate-decision.json</c> (kind <see cref="GateDecision.Kind"/>). It runs before provenance, so the decision
/// is signed with the rest. A failing decision does not fail the build: the version is recorded as rejected.
/// </summary>
public sealed class GateCollector(IRevocationLookup revocations) : IEvidenceCollector
{
    /// <inheritdoc />
    public string Name => "evaluating the baseline's gates";

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvidenceDocument>> CollectAsync(
        EvidenceContext context,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sink);
        var revocation = await revocations.LookupAsync(
            context.Target.Provider,
            context.Target.BaseImage,
            cancellationToken
        );
        var decision = GateEvaluator.Evaluate(
            context.Baseline.Name,
            context.Baseline.Gates,
            GateEvidence.From(context, revocation),
            context.At
        );
        var document = await EvidenceFiles.WriteAsync(
            Path.Combine(context.EvidenceDirectory, GateDecision.FileName),
            decision.ToJson(),
            GateDecision.Kind,
            GateDecision.MediaType,
            cancellationToken
        );
        ImageForgeTelemetry.GateDecisions.Add(
            1,
            new TagList
            {
                { ImageForgeTelemetry.Attributes.Image, context.Definition.Name },
                { ImageForgeTelemetry.Attributes.Target, context.Target.Provider },
                { ImageForgeTelemetry.Attributes.Outcome, GateDecision.Name(decision.Decision) },
            }
        );
        foreach (var reason in decision.Violations)
        {
            sink.Log(reason.Outcome == GateOutcome.Fail ? "stderr" : "stdout", $"gates: {reason}");
            ImageForgeTelemetry.GateRulesNotMet.Add(
                1,
                new TagList
                {
                    { ImageForgeTelemetry.Attributes.Gate, reason.Gate },
                    { ImageForgeTelemetry.Attributes.Rule, reason.Rule },
                    { ImageForgeTelemetry.Attributes.Outcome, GateDecision.Name(reason.Outcome) },
                }
            );
        }
        sink.Progress(
            "gates",
            $"decision {GateDecision.Name(decision.Decision)}: {decision.Reasons.Count} rule(s) checked, "
                + $"{decision.Violations.Count()} not met"
        );
        return [document];
    }
}
