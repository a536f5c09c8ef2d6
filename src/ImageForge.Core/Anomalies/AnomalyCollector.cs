using ImageForge.Core.Builds;
using ImageForge.Core.Facts;
using ImageForge.Core.Sbom;

namespace ImageForge.Core.Anomalies;

/// <summary>
/// The "anomalies" evidence collector: compares the version's facts (facts.json) with the newest successful builds
/// of the same image and target, as the baseline's <c>anomalies:</c> section says, and writes anomalies.json (kind
/// <see cref="AnomalyReport.Kind"/>). After the facts, before the gates (which may fail or warn on anomalies) and
/// provenance (which signs the report). A version without facts gets no report.
/// </summary>
/// <param name="store">The history of facts.</param>
public sealed class AnomalyCollector(IFactsStore store) : IEvidenceCollector
{
    /// <inheritdoc />
    public string Name => "comparing the image's facts with its history";

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvidenceDocument>> CollectAsync(
        EvidenceContext context,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sink);
        if (EvidenceFiles.Current(context.Evidence, FactsDocuments.Kind) is not { } facts)
        {
            return [];
        }
        var settings = context.Baseline.Anomalies;
        var current = FactSnapshot.From(FactsDocuments.Read(facts.Location));
        var history = await store.HistoryAsync(
            context.Definition.Name,
            context.Target.Provider,
            context.Version,
            settings.Window,
            cancellationToken
        );
        var parent = BaseChange(current, history, context.BaseImage.Lineage);
        var anomalies = AnomalyDetector.Detect(
            current,
            history,
            settings,
            DateOnly.FromDateTime(context.At.UtcDateTime),
            parent
        );
        var report = new AnomalyReport
        {
            Image = context.Definition.Name,
            Version = context.Version,
            Target = context.Target.Provider,
            ComparedWith = [.. history.Select(h => h.Version)],
            ParentChange = parent?.Description,
            Anomalies = anomalies,
        };
        var document = await EvidenceFiles.WriteAsync(
            Path.Combine(context.EvidenceDirectory, AnomalyReport.FileName),
            report.ToJson(),
            AnomalyReport.Kind,
            AnomalyReport.MediaType,
            cancellationToken
        );
        foreach (var anomaly in report.Raised)
        {
            sink.Log(
                "anomalies",
                $"anomaly {anomaly.Id} ({AnomalySeverities.Name(anomaly.Severity)}): {anomaly.Explanation}"
            );
        }
        sink.Progress(
            "anomalies",
            history.Count == 0
                ? "first build of the image and target: nothing to compare with yet"
                : $"{report.Raised.Count()} anomal{(report.Raised.Count() == 1 ? "y" : "ies")} raised against "
                    + $"{history.Count} build(s), {anomalies.Count(a => !a.Raised)} inherited or expected"
        );
        return [document];
    }

    /// <summary>
    /// The base's own change since the newest build of the window: when that build's base was made from the same
    /// inputs (the same key) and its facts differ, the source changed under the image (a Debian point release, a
    /// package's new version), and a difference the base shows too came with it. A new key means the image's own
    /// inputs changed (a package added to the definition): nothing is inherited then, and what it brought is raised.
    /// </summary>
    public static ParentChange? BaseChange(
        FactSnapshot current,
        IReadOnlyList<FactSnapshot> history,
        string baseImage
    )
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(history);
        if (
            current is not { Base: { } after, BaseKey: { } key }
            || history.Count == 0
            || history[^1] is not { Base: { } before } previous
            || previous.BaseKey != key
            || before.Digest() == after.Digest()
        )
        {
            return null;
        }
        return new ParentChange(
            $"base {baseImage} made again from the same inputs since {previous.Version}, with other contents",
            before,
            after
        );
    }
}
