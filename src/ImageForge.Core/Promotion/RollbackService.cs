using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Telemetry;

namespace ImageForge.Core.Promotion;

/// <summary>Moves a channel back in one step, to its previous good version or to one it had.</summary>
public sealed class RollbackService
{
    private readonly PromotionContext _context;

    internal RollbackService(PromotionContext context) => _context = context;

    /// <summary>Moves the channel back to its previous good version, or to <paramref name="to"/>, in one step.</summary>
    public Task<ChannelAssignment> RollbackAsync(
        string image,
        string channel,
        string? to,
        IReadOnlyList<string> path,
        Actor actor,
        bool restricted,
        string? reason,
        CancellationToken cancellationToken = default
    ) => RollbackAsync(image, channel, to, path, actor, restricted, reason, [], cancellationToken);

    /// <summary>
    /// Moves the channel back as above; the providers first follow with what they publish per channel, given the
    /// definition's <paramref name="targets"/> (their channel options).
    /// </summary>
    public Task<ChannelAssignment> RollbackAsync(
        string image,
        string channel,
        string? to,
        IReadOnlyList<string> path,
        Actor actor,
        bool restricted,
        string? reason,
        IReadOnlyList<Definitions.TargetSpec> targets,
        CancellationToken cancellationToken = default
    ) =>
        ImageForgeTelemetry.TraceAsync(
            ImageForgeTelemetry.Spans.Rollback,
            image,
            to,
            channel,
            () =>
                RollbackOnceAsync(
                    image,
                    channel,
                    to,
                    path,
                    actor,
                    restricted,
                    reason,
                    targets,
                    cancellationToken
                ),
            (span, assignment) =>
            {
                span?.SetTag(ImageForgeTelemetry.Attributes.Version, assignment.Version);
                span?.SetTag(ImageForgeTelemetry.Attributes.Outcome, "rolled-back");
            }
        );

    private async Task<ChannelAssignment> RollbackOnceAsync(
        string image,
        string channel,
        string? to,
        IReadOnlyList<string> path,
        Actor actor,
        bool restricted,
        string? reason,
        IReadOnlyList<Definitions.TargetSpec> targets,
        CancellationToken cancellationToken
    )
    {
        PromotionContext.ChannelIndex(image, channel, path);
        if (to is not null)
        {
            await _context.VersionAsync(image, to, cancellationToken);
        }

        AccessPolicy.Require(
            actor,
            restricted ? Role.ReleaseManager : Role.Builder,
            $"roll back {channel}"
        );
        var current = (await _context.Store.GetChannelsAsync(image, cancellationToken))
            .FirstOrDefault(c => c.Channel == channel)
            ?.Version;
        var history = await _context.Store.GetHistoryAsync(image, channel, cancellationToken);
        string target;
        if (to is not null)
        {
            if (!history.Any(h => h.Version == to))
            {
                throw new RefusedException(
                    $"{image}@{to} has never been in {channel}; rollback only returns to a version the channel had"
                );
            }

            if (to == current)
            {
                throw new RefusedException($"{channel} already points at {image}@{to}");
            }

            var status = (await _context.VersionAsync(image, to, cancellationToken)).Status;
            if (status != VersionStatus.Built)
            {
                throw new RefusedException(
                    $"{image}@{to} is {status.Name()}; a channel never returns to it"
                );
            }

            target = to;
        }
        else
        {
            target =
                await PreviousGoodAsync(image, current, history, cancellationToken)
                ?? throw new RefusedException(
                    current is null
                        ? $"{channel} of {image} is empty; there is nothing to roll back"
                        : $"{channel} has no version before {image}@{current} that is still good; promote one instead"
                );
        }

        await RollBackProvidersAsync(image, channel, current, target, targets, cancellationToken);
        return await _context.Store.MovePointerAsync(
            image,
            channel,
            current,
            target,
            AssignmentActions.Rollback,
            _context.Entry(
                actor,
                "rollback",
                image,
                target,
                channel,
                reason,
                AuditChain.Details(("from", current))
            ),
            cancellationToken
        );
    }

    // Every provider holding artifacts of either version follows first; one that fails leaves the pointer where it was.
    private async Task RollBackProvidersAsync(
        string image,
        string channel,
        string? current,
        string target,
        IReadOnlyList<Definitions.TargetSpec> targets,
        CancellationToken cancellationToken
    )
    {
        var to = await _context.VersionAsync(image, target, cancellationToken);
        var from = current is null
            ? null
            : await _context.Catalog.GetVersionAsync(image, current, cancellationToken);
        var providers = to
            .Artifacts.Concat(from?.Artifacts ?? [])
            .Select(a => a.Target)
            .Distinct(StringComparer.Ordinal)
            .Where(_context.Targets.ContainsKey);
        foreach (var provider in providers)
        {
            var outcome = await _context
                .Targets[provider]
                .RollBackAsync(channel, from, to, targets, cancellationToken);
            if (!outcome.Succeeded)
            {
                throw new Errors.ToolFailedException(
                    provider,
                    $"{provider} could not follow the rollback of {channel} to {image}@{target}: {outcome.Detail}; the channel did not move, roll back again when it is fixed",
                    []
                );
            }
        }
    }

    // The version the channel had before the current one was promoted into it, skipping versions no longer good.
    private async Task<string?> PreviousGoodAsync(
        string image,
        string? current,
        IReadOnlyList<ChannelAssignment> history,
        CancellationToken cancellationToken
    )
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var candidate = current;
        while (candidate is not null && seen.Add(candidate))
        {
            candidate = history
                .LastOrDefault(h => h.Version == candidate && h.Action == AssignmentActions.Promote)
                ?.PreviousVersion;
            if (candidate is not null && !seen.Contains(candidate))
            {
                var found = await _context.Catalog.GetVersionAsync(
                    image,
                    candidate,
                    cancellationToken
                );
                if (found?.Status == VersionStatus.Built)
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
