using ImageForge.Application;
using ImageForge.Application.Operations;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Sbom;
using ImageForge.Core.Worker;
using ImageForge.Server.Queue;
using ImageForge.Storage;

namespace ImageForge.Server.Scheduling;

/// <summary>One image whose channel version has fixable advisories, and what was done about it.</summary>
/// <param name="Image">The image.</param>
/// <param name="Version">The version a channel points at.</param>
/// <param name="Advisories">The advisory set (sorted ids of fixable findings at or above the baseline's severity).</param>
/// <param name="Queued">The patch build queued now, or null when this set already had its build (or none could be).</param>
/// <param name="Problem">Why no build could be queued (the definition has problems now), or null.</param>
public sealed record CveRescanResult(
    string Image,
    string Version,
    IReadOnlyList<string> Advisories,
    BuildRecord? Queued,
    string? Problem = null
);

/// <summary>
/// The CVE job: re-scans the SBOM of every version a channel points at with the newest vulnerability data and
/// queues one patch build (trigger cve) per image and advisory set, when the image's baseline asks for it
/// (<c>rebuild.on_fixable_cve</c>).
/// </summary>
public sealed class CveRescan(
    Catalog catalog,
    Pipeline pipeline,
    QueueSignal signal,
    TimeProvider time
)
{
    /// <summary>The requester recorded on CVE-driven builds.</summary>
    public const string Requester = "cve-rescan";

    /// <summary>Scans once; returns, per image with fixable advisories, the set and the build it queued (if new).</summary>
    public async Task<IReadOnlyList<CveRescanResult>> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var set = pipeline.LoadDefinitions();
        var scanner = pipeline.Scanner();
        var results = new List<CveRescanResult>();
        foreach (var definition in set.Images)
        {
            var baseline = set.FindBaseline(definition.Baseline);
            if (baseline?.Rebuild.CveMinSeverity is null)
            {
                continue;
            }

            var versions = (await catalog.GetChannelsAsync(definition.Name, cancellationToken))
                .Select(c => c.Version)
                .OfType<string>()
                .Distinct(StringComparer.Ordinal);
            var advisories = new SortedSet<string>(StringComparer.Ordinal);
            string? scanned = null;
            foreach (var name in versions)
            {
                var version = await catalog.GetVersionAsync(
                    definition.Name,
                    name,
                    cancellationToken
                );
                if (version is null)
                {
                    continue;
                }

                var options = VersionRescan.OptionsFor(
                    version,
                    definition,
                    baseline,
                    pipeline.Providers,
                    pipeline.OsvDirectory(null),
                    [],
                    now
                );
                try
                {
                    var scan = await scanner.ScanAsync(
                        EvidenceFiles.ReadInventory(version),
                        definition.Os,
                        options,
                        cancellationToken
                    );
                    advisories.UnionWith(CveRebuildPlanner.AdvisorySet(scan, baseline.Rebuild));
                    scanned ??= name;
                }
                catch (ImageForgeException)
                {
                    // A version without its SBOM on disk (collected) cannot be re-scanned; the others still are.
                }
            }

            if (advisories.Count == 0 || scanned is null)
            {
                continue;
            }

            var ids = advisories.ToList();
            // The target the worker builds (a definition may list cloud targets first).
            var target = definition
                .Targets.Select(t => t.Provider)
                .FirstOrDefault(pipeline.BuildableProviders.Contains);
            if (target is null)
            {
                continue;
            }

            PreparedBuild prepared;
            try
            {
                prepared = await pipeline.PrepareForQueueAsync(
                    catalog,
                    new BuildCommand(
                        definition.Name,
                        target,
                        BuildTrigger.Cve,
                        Requester,
                        CveRebuildPlanner.Reason(ids)
                    ),
                    cancellationToken
                );
            }
            catch (InvalidInputException e)
            {
                // One image that cannot be built now does not stop the others' patch builds.
                results.Add(new CveRescanResult(definition.Name, scanned, ids, null, e.Message));
                continue;
            }

            var queued = await catalog.EnqueueOnceAsync(
                BuildRequests.NewBuildOf(prepared),
                ids,
                now,
                cancellationToken
            );
            if (queued is not null)
            {
                signal.Notify();
            }

            results.Add(new CveRescanResult(definition.Name, scanned, ids, queued));
        }

        return results;
    }
}
