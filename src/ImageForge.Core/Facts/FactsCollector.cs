using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Gates;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Core.Facts;

/// <summary>
/// The "facts" evidence collector: joins the facts the target collected inside the image (image-facts.json) with the
/// build's own (seconds per stage, compliance after hardening, findings by severity) into facts.json (kind
/// <see cref="FactsDocuments.Kind"/>) and records them as catalog rows, so later builds compare with them. It runs
/// after compliance and vulnerabilities and before the gates. A target that collects no image facts gets none.
/// </summary>
/// <param name="store">Where the facts are kept as rows.</param>
/// <param name="readLog">Reads a build's log (its "step" lines time the stages).</param>
public sealed class FactsCollector(
    IFactsStore store,
    Func<string, CancellationToken, Task<IReadOnlyList<LogLine>>> readLog
) : IEvidenceCollector
{
    /// <summary>The log stream whose lines mark the start of a stage's step ("stage | detail").</summary>
    public const string StepStream = "step";

    /// <inheritdoc />
    public string Name => "collecting the image's facts";

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvidenceDocument>> CollectAsync(
        EvidenceContext context,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sink);
        var source = EvidenceFiles.Current(context.Evidence, FactsDocuments.ImageKind);
        if (source is null)
        {
            sink.Log(
                "facts",
                $"no image facts from the {context.Target.Provider} target; no facts, no anomaly detection"
            );
            return [];
        }

        sink.Progress("facts", "joining the image's facts with the build's");
        var document = new FactsDocument
        {
            Image = context.Definition.Name,
            Version = context.Version,
            Target = context.Target.Provider,
            ImageFacts = WithDiskSize(FactsDocuments.ReadImageFacts(source.Location), context),
            Build = BuildFactsOf(
                context,
                StageSeconds(await readLog(context.BuildId, cancellationToken), context.At)
            ),
        };
        var written = await EvidenceFiles.WriteAsync(
            Path.Combine(context.EvidenceDirectory, FactsDocuments.FileName),
            FactsDocuments.ToJson(document),
            FactsDocuments.Kind,
            FactsDocuments.MediaType,
            cancellationToken
        );
        var snapshot = FactSnapshot.From(document);
        await store.RecordFactsAsync(document.Image, document.Target, snapshot, cancellationToken);
        sink.Log(
            "facts",
            $"facts: {snapshot.Sets.Values.Sum(s => s.Count)} members in {snapshot.Sets.Count} sets, "
                + $"{snapshot.Metrics.Count} measurements"
        );
        return [written];
    }

    // The raw disk is written after the tree's facts are collected (the export releases the tree): its size is the
    // disk artifact's.
    private static ImageFacts WithDiskSize(ImageFacts facts, EvidenceContext context)
    {
        const string DiskBytes = "disk_bytes";
        return
            facts.Sizes.ContainsKey(DiskBytes)
            || context.Artifacts.FirstOrDefault(a => a.Kind == "disk-raw")
                is not { SizeBytes: { } size }
            ? facts
            : facts with
            {
                Sizes = new Dictionary<string, long>(facts.Sizes, StringComparer.Ordinal)
                {
                    [DiskBytes] = size,
                },
            };
    }

    /// <summary>
    /// Seconds per stage from the build's "step" lines: a stage lasts from its first step to the first step of the
    /// next stage; the last one until <paramref name="end"/>. A stage seen again later adds to its time.
    /// </summary>
    public static IReadOnlyDictionary<string, double> StageSeconds(
        IReadOnlyList<LogLine> log,
        DateTimeOffset end
    )
    {
        ArgumentNullException.ThrowIfNull(log);
        var seconds = new Dictionary<string, double>(StringComparer.Ordinal);
        string? current = null;
        DateTimeOffset started = default;
        foreach (var line in log.Where(l => l.Stream == StepStream))
        {
            var separator = line.Text.IndexOf(" | ", StringComparison.Ordinal);
            var stage = separator > 0 ? line.Text[..separator] : line.Text;
            if (stage == current)
            {
                continue;
            }
            Close(current, started, line.Time);
            current = stage;
            started = line.Time;
        }
        Close(current, started, end);
        return seconds;

        void Close(string? stage, DateTimeOffset from, DateTimeOffset to)
        {
            if (stage is not null)
            {
                seconds[stage] =
                    seconds.GetValueOrDefault(stage) + Math.Max(0, (to - from).TotalSeconds);
            }
        }
    }

    // Through the gates' own reader of compliance and findings, so both see the same facts.
    private static BuildFacts BuildFactsOf(
        EvidenceContext context,
        IReadOnlyDictionary<string, double> stageSeconds
    )
    {
        var evidence = GateEvidence.From(
            context,
            new RevocationState(false, NoRevocationData.Detail)
        );
        var open = evidence.Findings?.Where(f => !f.Suppressed).ToList() ?? [];
        return new BuildFacts(
            stageSeconds,
            evidence.Compliance?.Score,
            evidence
                .Compliance?.Rules?.Where(r => r.Value == RuleOutcome.Fail)
                .Select(r => r.Key)
                .Order(StringComparer.Ordinal)
                .ToList()
                ?? [],
            evidence.Findings is null
                ? new Dictionary<string, int>()
                : Enum.GetValues<Severity>()
                    .ToDictionary(Severities.Name, s => open.Count(f => f.Severity == s)),
            open.Where(f => f.Severity == Severity.Critical)
                .Select(f => $"{f.Advisory} {f.Package}")
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .ToList()
        );
    }
}
