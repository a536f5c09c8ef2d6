using System.Security.Cryptography;
using System.Text;
using ImageForge.Core.Artifacts;
using ImageForge.Core.Builds;

namespace ImageForge.Core.Compliance;

/// <summary>
/// The "compliance" evidence collector: reads the XCCDF results the target build kept (kinds
/// <see cref="BeforeResultsKind"/> and <see cref="AfterResultsKind"/>), evaluates them against the baseline and
/// writes <c>compliance-summary.json</c> (kind <see cref="SummaryKind"/>).
/// <para>
/// A failing verdict does not fail the build: it is recorded in the summary (<c>verdict.enforced = false</c>) and
/// reported as a warning; deciding whether a version may be promoted belongs to the release gate.
/// </para>
/// </summary>
public sealed class ComplianceCollector : IEvidenceCollector
{
    /// <summary>Evidence kind of the XCCDF results of the scan before hardening.</summary>
    public const string BeforeResultsKind = "compliance-before-results";

    /// <summary>Evidence kind of the XCCDF results of the scan after hardening.</summary>
    public const string AfterResultsKind = "compliance-after-results";

    /// <summary>Evidence kind of the summary this collector writes.</summary>
    public const string SummaryKind = "compliance-summary";

    /// <summary>File name of the summary in the evidence directory.</summary>
    public const string SummaryFile = "compliance-summary.json";

    /// <inheritdoc />
    public string Name => "compliance";

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvidenceDocument>> CollectAsync(
        EvidenceContext context,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        var before = context.Evidence.LastOrDefault(e => e.Kind == BeforeResultsKind);
        var after = context.Evidence.LastOrDefault(e => e.Kind == AfterResultsKind);
        if (before is null || after is null)
        {
            // A target that does not scan (yet): nothing to summarise, and saying so beats an empty document.
            sink.Log(
                "compliance",
                $"no compliance scan results from the {context.Target.Provider} target; no compliance summary"
            );
            return [];
        }

        sink.Progress("compliance", "evaluating the scans against the baseline");
        var summary = ComplianceEvaluator.Evaluate(
            context.Definition.Name,
            context.Version,
            context.Baseline,
            XccdfResultsReader.Read(before.Location),
            XccdfResultsReader.Read(after.Location),
            context.At
        );

        var path = Path.Combine(context.EvidenceDirectory, SummaryFile);
        var bytes = Encoding.UTF8.GetBytes(summary.ToJson() + "\n");
        await AtomicFile.WriteAsync(path, bytes, cancellationToken);

        sink.Log(
            "compliance",
            $"compliance score before {ComplianceSummary.FormatScore(summary.Before.Score)}, after "
                + $"{ComplianceSummary.FormatScore(summary.After.Score)} ({summary.After.Pass} pass, "
                + $"{summary.After.Fail} fail, {summary.After.Waived} waived)"
        );
        sink.Progress(
            "compliance",
            summary.Verdict.Passed
                ? $"baseline {summary.Baseline} passed"
                : $"baseline {summary.Baseline} FAILED (recorded, not enforced): "
                    + string.Join("; ", summary.Verdict.Reasons)
        );

        return
        [
            new EvidenceDocument
            {
                Kind = SummaryKind,
                Location = path,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
                SizeBytes = bytes.Length,
                MediaType = "application/json",
            },
        ];
    }
}
