using ImageForge.Core.Artifacts;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;

namespace ImageForge.Core.Promotion;

/// <summary>Retention (gc): which versions stay and why, and the deletion of the others with their provider images.</summary>
public sealed class RetentionService
{
    private readonly PromotionContext _context;

    internal RetentionService(PromotionContext context) => _context = context;

    /// <summary>
    /// Keeps the newest <paramref name="keep"/> versions of each image and every version a channel points at or
    /// pointed at within <paramref name="window"/>; the rest are removed when <paramref name="apply"/> (artifact files
    /// deleted, published copies removed, versions marked deleted; evidence stays for the record).
    /// </summary>
    public async Task<RetentionPlan> CollectGarbageAsync(
        int keep,
        TimeSpan window,
        bool apply,
        Actor actor,
        DataPaths data,
        CancellationToken cancellationToken = default
    )
    {
        if (keep < 1)
        {
            throw new InvalidInputException("--keep must be at least 1");
        }

        if (apply)
        {
            AccessPolicy.Require(actor, Role.Admin, "gc --apply");
        }

        var now = _context.Now;
        var cutoff = now - window;
        var kept = new List<(RetentionCandidate, string)>();
        var removed = new List<RetentionCandidate>();
        foreach (var image in await _context.Catalog.ListImagesAsync(cancellationToken))
        {
            var history = await _context.Store.GetHistoryAsync(
                image.Image,
                null,
                cancellationToken
            );
            var protectedVersions = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var channel in history.GroupBy(h => h.Channel))
            {
                var list = channel.ToList();
                for (var i = 0; i < list.Count; i++)
                {
                    var until = i + 1 < list.Count ? list[i + 1].At : (DateTimeOffset?)null;
                    if (list[i].Version is { } v && (until is null || until >= cutoff))
                    {
                        protectedVersions.TryAdd(
                            v,
                            until is null
                                ? $"{channel.Key} points at it"
                                : $"{channel.Key} pointed at it until {AuditChain.FormatTime(until.Value)}"
                        );
                    }
                }
            }

            var versions = await _context.Store.ListRetainableAsync(image.Image, cancellationToken);
            for (var i = 0; i < versions.Count; i++)
            {
                if (i < keep)
                {
                    kept.Add((versions[i], $"among the newest {keep}"));
                }
                else if (protectedVersions.TryGetValue(versions[i].Version, out var why))
                {
                    kept.Add((versions[i], why));
                }
                else
                {
                    removed.Add(versions[i]);
                }
            }
        }

        var problems = new List<string>();
        if (apply && removed.Count > 0)
        {
            await _context.Store.MarkDeletedAsync(
                [.. removed.Select(r => (r.Image, r.Version))],
                _context.Entry(
                    actor,
                    "gc",
                    null,
                    null,
                    null,
                    null,
                    AuditChain.Details(
                        ("deleted", removed.Select(r => $"{r.Image}@{r.Version}").ToArray()),
                        ("keep", keep),
                        ("window_days", window.TotalDays)
                    )
                ),
                cancellationToken
            );
            foreach (var r in removed)
            {
                var version = await _context.Catalog.GetVersionAsync(
                    r.Image,
                    r.Version,
                    cancellationToken
                );
                foreach (var artifact in version?.Artifacts ?? [])
                {
                    // Only build output below the artifact store (or this data directory): a provider image or any
                    // other path is left alone. The store resolves and deletes them, so any worker's gc removes any
                    // worker's files.
                    var stored = data.Store.Store(artifact.Location);
                    if (
                        stored.Root == LocationRoot.AsGiven
                        || !stored.Location.StartsWith(
                            "artifacts" + Path.DirectorySeparatorChar,
                            StringComparison.Ordinal
                        )
                    )
                    {
                        continue;
                    }

                    try
                    {
                        data.Store.Delete(artifact.Location);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        problems.Add(
                            $"{r.Image}@{r.Version}: could not delete {artifact.Location}: {e.Message}"
                        );
                    }
                }

                foreach (
                    var target in (version?.Artifacts ?? [])
                        .Select(a => a.Target)
                        .Distinct(StringComparer.Ordinal)
                )
                {
                    var outcome = _context.Targets.TryGetValue(target, out var provider)
                        ? await provider.DeleteAsync(version!, cancellationToken)
                        : StepOutcome.Failed(
                            $"no {target} provider in this ImageForge; delete its images by hand"
                        );
                    if (!outcome.Succeeded)
                    {
                        problems.Add($"{r.Image}@{r.Version}: {target}: {outcome.Detail}");
                    }
                }
            }
        }

        return new RetentionPlan(kept, removed, apply, problems);
    }
}
