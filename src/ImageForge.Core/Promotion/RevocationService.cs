using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Telemetry;

namespace ImageForge.Core.Promotion;

/// <summary>
/// Revocation: now or at a time; the catalog marks the version revoked, moves the channels pointing at it to their last
/// good version and flags its descendants, then what each provider publishes per channel follows the moved channels
/// and every provider deprecates its images.
/// </summary>
public sealed class RevocationService
{
    private readonly PromotionContext _context;
    private readonly Func<string, IReadOnlyList<Definitions.TargetSpec>> _targetsOf;
    private readonly Func<string, Definitions.RevocationPolicy> _policyOf;

    internal RevocationService(
        PromotionContext context,
        Func<string, IReadOnlyList<Definitions.TargetSpec>> targetsOf,
        Func<string, Definitions.RevocationPolicy> policyOf
    )
    {
        _context = context;
        _targetsOf = targetsOf;
        _policyOf = policyOf;
    }

    /// <summary>
    /// Revokes now, or schedules the revocation for <paramref name="at"/> when it is in the future (it then takes
    /// effect when any promotion command next runs after that time, see <see cref="ApplyDueRevocationsAsync"/>).
    /// Revoking a version already revoked runs the providers' deprecation steps again (they are idempotent).
    /// </summary>
    public Task<RevocationResult> RevokeAsync(
        string image,
        string versionText,
        string reason,
        DateTimeOffset? at,
        Actor actor,
        CancellationToken cancellationToken = default
    ) =>
        ImageForgeTelemetry.TraceAsync(
            ImageForgeTelemetry.Spans.Revocation,
            image,
            versionText,
            null,
            () => RevokeOnceAsync(image, versionText, reason, at, actor, cancellationToken),
            (span, result) =>
                span?.SetTag(
                    ImageForgeTelemetry.Attributes.Outcome,
                    result.Scheduled is not null ? "scheduled"
                        : result.StepFailed ? "deprecation-failed"
                        : "revoked"
                )
        );

    private async Task<RevocationResult> RevokeOnceAsync(
        string image,
        string versionText,
        string reason,
        DateTimeOffset? at,
        Actor actor,
        CancellationToken cancellationToken
    )
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new InvalidInputException("--reason is required: say why the version is revoked");
        }

        var version = await _context.VersionAsync(image, versionText, cancellationToken);
        AccessPolicy.Require(actor, Role.ReleaseManager, "revoke");
        if (version.Status == VersionStatus.Deleted)
        {
            throw new RefusedException(
                $"{image}@{versionText} was deleted by gc; there is nothing left to revoke"
            );
        }

        var now = _context.Now;
        if (at is { } when && when > now && version.Status != VersionStatus.Revoked)
        {
            var scheduled = new ScheduledRevocation(
                0,
                image,
                versionText,
                reason,
                when,
                actor.Name,
                actor.RoleName
            );
            await _context.Store.ScheduleRevocationAsync(
                scheduled,
                _context.Entry(
                    actor,
                    "revoke-scheduled",
                    image,
                    versionText,
                    null,
                    reason,
                    AuditChain.Details(("effective_at", AuditChain.FormatTime(when)))
                ),
                cancellationToken
            );
            return new RevocationResult(null, scheduled, []);
        }

        RevocationRecord? record = null;
        if (version.Status != VersionStatus.Revoked)
        {
            record = await _context.Store.RevokeAsync(
                image,
                versionText,
                reason,
                _context.Entry(actor, "revoke", image, versionText, null, reason),
                cancellationToken
            );
        }

        return await StepsAsync(record, null, version, reason, actor, cancellationToken);
    }

    // The providers' steps after the catalog's change: each channel the revocation moved back is followed by every
    // provider first (what it publishes per channel: an SSM parameter, a family, a gallery's latest), then each
    // provider deprecates the version's images.
    private async Task<RevocationResult> StepsAsync(
        RevocationRecord? record,
        ScheduledRevocation? scheduled,
        ImageVersion version,
        string reason,
        Actor actor,
        CancellationToken cancellationToken
    )
    {
        var follows = await FollowMovesAsync(version, reason, actor, cancellationToken);
        return new RevocationResult(
            record,
            scheduled,
            await DeprecateAsync(version, reason, actor, cancellationToken)
        )
        {
            Follows = follows,
        };
    }

    private async Task<IReadOnlyList<(string, StepOutcome)>> DeprecateAsync(
        ImageVersion version,
        string reason,
        Actor actor,
        CancellationToken cancellationToken
    )
    {
        var outcomes = new List<(string, StepOutcome)>();
        foreach (
            var target in version.Artifacts.Select(a => a.Target).Distinct(StringComparer.Ordinal)
        )
        {
            using var span = ImageForgeTelemetry.StartStep(
                ImageForgeTelemetry.Spans.RevocationStep,
                target,
                null
            );
            StepOutcome outcome;
            if (!_context.Targets.TryGetValue(target, out var provider))
            {
                outcome = StepOutcome.Failed(
                    $"no {target} provider in this ImageForge; deprecate its images by hand"
                );
            }
            else
            {
                try
                {
                    outcome = await provider.DeprecateAsync(version, reason, cancellationToken);
                    // The baseline's revocation: { disable: true }: nothing may launch the images any more.
                    if (outcome.Succeeded && _policyOf(version.Image).DisableImages)
                    {
                        var disabled = await provider.DisableAsync(
                            version,
                            reason,
                            cancellationToken
                        );
                        outcome = disabled with { Detail = $"{outcome.Detail}; {disabled.Detail}" };
                    }
                }
                catch (Exception e)
                    when (e is ImageForgeException or IOException or UnauthorizedAccessException)
                {
                    outcome = StepOutcome.Failed(e.Message);
                }
            }

            ImageForgeTelemetry.StepEnded(span, outcome.Succeeded);
            await _context.Audit.AppendAsync(
                _context.Entry(
                    actor,
                    outcome.Succeeded ? "deprecate" : "deprecate-failed",
                    version.Image,
                    version.Version,
                    null,
                    reason,
                    AuditChain.Details(("target", target), ("detail", outcome.Detail))
                ),
                CancellationToken.None
            );
            outcomes.Add((target, outcome));
        }

        return outcomes;
    }

    // The channels whose pointer a revocation of this version moved back (their last move is that revocation, so a
    // revocation run again finds them too), each followed by the providers of the version it left and the one it
    // serves now, as a rollback is (IDistributionTarget.RollBackAsync, idempotent). A channel left empty is followed
    // with nothing to serve: what it published of the version is withdrawn (an AWS parameter would otherwise keep
    // naming the revoked AMI).
    private async Task<IReadOnlyList<ChannelFollow>> FollowMovesAsync(
        ImageVersion version,
        string reason,
        Actor actor,
        CancellationToken cancellationToken
    )
    {
        var outcomes = new List<ChannelFollow>();
        var moved = (await _context.Store.GetChannelsAsync(version.Image, cancellationToken)).Where(
            c => c.Action == AssignmentActions.Revoke && c.PreviousVersion == version.Version
        );
        foreach (var channel in moved)
        {
            var serving = channel.Version is null
                ? null
                : await _context.Catalog.GetVersionAsync(
                    version.Image,
                    channel.Version,
                    cancellationToken
                );
            if (channel.Version is not null && serving is null)
            {
                continue;
            }
            var providers = (serving?.Artifacts ?? [])
                .Concat(version.Artifacts)
                .Select(a => a.Target)
                .Distinct(StringComparer.Ordinal)
                .Where(_context.Targets.ContainsKey);
            foreach (var target in providers)
            {
                StepOutcome outcome;
                try
                {
                    outcome = await _context
                        .Targets[target]
                        .RollBackAsync(
                            channel.Channel,
                            version,
                            serving,
                            _targetsOf(version.Image),
                            cancellationToken
                        );
                }
                catch (Exception e)
                    when (e is ImageForgeException or IOException or UnauthorizedAccessException)
                {
                    outcome = StepOutcome.Failed(e.Message);
                }
                await _context.Audit.AppendAsync(
                    _context.Entry(
                        actor,
                        outcome.Succeeded ? "revoke-follow" : "revoke-follow-failed",
                        version.Image,
                        version.Version,
                        channel.Channel,
                        reason,
                        AuditChain.Details(("target", target), ("detail", outcome.Detail))
                    ),
                    CancellationToken.None
                );
                outcomes.Add(new ChannelFollow(target, channel.Channel, serving?.Version, outcome));
            }
        }
        return outcomes;
    }

    /// <summary>Applies every scheduled revocation whose time has come, as the actor who scheduled it.</summary>
    public async Task<IReadOnlyList<RevocationResult>> ApplyDueRevocationsAsync(
        CancellationToken cancellationToken = default
    )
    {
        var results = new List<RevocationResult>();
        foreach (
            var due in await _context.Store.DueRevocationsAsync(_context.Now, cancellationToken)
        )
        {
            var actor = new Actor(due.Actor, RoleNames.Parse(due.Role) ?? Role.ReleaseManager);
            var version = await _context.Catalog.GetVersionAsync(
                due.Image,
                due.Version,
                cancellationToken
            );
            // Claimed and revoked in one step: of workers and commands applying the same due revocation at once,
            // one applies it and the others skip it.
            var claim = await _context.Store.ClaimScheduledRevocationAsync(
                due,
                _context.Now,
                _context.Entry(
                    actor,
                    "revoke",
                    due.Image,
                    due.Version,
                    null,
                    due.Reason,
                    AuditChain.Details(("scheduled", due.Id))
                ),
                cancellationToken
            );
            if (claim.Record is { } record && version is not null)
            {
                // The providers' deprecation steps run after the claim; a failed one is audited
                // (deprecate-failed) and is retried by revoking the version again (the steps are idempotent).
                results.Add(
                    await StepsAsync(record, due, version, due.Reason, actor, cancellationToken)
                );
            }
        }

        return results;
    }
}
