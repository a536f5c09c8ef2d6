using System.Diagnostics;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Telemetry;

namespace ImageForge.Core.Promotion;

/// <summary>What to promote where, by whom, along which channel path and under which rules.</summary>
public sealed record PromoteRequest(
    string Image,
    string Version,
    string Channel,
    IReadOnlyList<string> Path,
    PromotionRules Rules,
    Actor Actor,
    bool Restricted,
    bool Resume = false,
    string? SkipReason = null
)
{
    /// <summary>The rules (<see cref="PromotionRuleNames"/>) an admin skips, saying why in <see cref="SkipReason"/>.</summary>
    public IReadOnlySet<string> Skip { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The definition's targets, so that each step knows its target's channel options.</summary>
    public IReadOnlyList<Definitions.TargetSpec> Targets { get; init; } = [];

    /// <summary>
    /// What the channel's fresh re-scan found against the gates (the caller runs it: it needs a scanner); empty when it
    /// passed, was skipped, or the channel asks for none.
    /// </summary>
    public IReadOnlyList<string> RescanRefusals { get; init; } = [];
}

/// <summary>
/// How a promotion ended: refused (every reason, nothing changed), failed (some steps failed; the channel did not
/// move; --resume retries them), or promoted (the assignment). <see cref="AlreadyCurrent"/> when the channel already
/// pointed at the version.
/// </summary>
public sealed record PromotionResult(
    IReadOnlyList<string> Refusals,
    PromotionRecord? Promotion,
    ChannelAssignment? Assignment,
    IReadOnlyList<(PromotionStep Step, bool RanNow)> Steps,
    bool AlreadyCurrent = false
)
{
    public bool Promoted => Assignment is not null || AlreadyCurrent;

    /// <summary>The rules an admin skipped for this promotion (each audited as <c>promote-skip</c>).</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];
}

/// <summary>
/// A revocation's outcome: the catalog changes, then what each provider publishes per channel following the channels
/// it moved back (<see cref="Follows"/>), then each provider's deprecation step.
/// </summary>
public sealed record RevocationResult(
    RevocationRecord? Record,
    ScheduledRevocation? Scheduled,
    IReadOnlyList<(string Target, StepOutcome Outcome)> Deprecations
)
{
    /// <summary>Each provider's step following a channel the revocation moved back to an earlier version.</summary>
    public IReadOnlyList<ChannelFollow> Follows { get; init; } = [];

    /// <summary>True when a provider's step (following a channel or deprecating) failed: revoking again retries it.</summary>
    public bool StepFailed =>
        Deprecations.Any(d => !d.Outcome.Succeeded) || Follows.Any(f => !f.Outcome.Succeeded);
}

/// <summary>
/// One provider following a channel a revocation moved back: <paramref name="Channel"/> now serves
/// <paramref name="Serving"/> (null: the revocation left it empty), and the provider's outcome.
/// </summary>
public sealed record ChannelFollow(
    string Target,
    string Channel,
    string? Serving,
    StepOutcome Outcome
);

/// <summary>What retention keeps and removes, and why each kept version stays.</summary>
public sealed record RetentionPlan(
    IReadOnlyList<(RetentionCandidate Version, string Why)> Kept,
    IReadOnlyList<RetentionCandidate> Removed,
    bool Applied,
    IReadOnlyList<string> Problems
);

/// <summary>
/// Promotion and approval: the preconditions (<see cref="PromotionPreconditions"/>) are checked before anything is
/// written; the distribution plan's steps (one per target and region) run idempotently and are recorded one by one;
/// the channel pointer moves only in the transaction that checks every step succeeded.
/// </summary>
public sealed class PromotionService
{
    /// <summary>How many targets (clouds) publish at the same time.</summary>
    public const int MaxParallelTargets = 4;

    private readonly PromotionContext _context;
    private readonly PromotionPreconditions _preconditions;

    internal PromotionService(PromotionContext context)
    {
        _context = context;
        _preconditions = new PromotionPreconditions(context);
    }

    /// <summary>One step per target and region, in the order the build reported the artifacts.</summary>
    public static IReadOnlyList<DistributionStep> Plan(ImageVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return
        [
            .. version
                .Artifacts.GroupBy(a => (a.Target, a.Region))
                .Select(g => new DistributionStep(g.Key.Target, g.Key.Region, [.. g])),
        ];
    }

    /// <summary>Checks every rule, then publishes step by step and moves the channel when all succeeded.</summary>
    public Task<PromotionResult> PromoteAsync(
        PromoteRequest request,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(request);
        return ImageForgeTelemetry.TraceAsync(
            ImageForgeTelemetry.Spans.Promotion,
            request.Image,
            request.Version,
            request.Channel,
            () => PromoteOnceAsync(request, cancellationToken),
            (span, result) =>
                span?.SetTag(
                    ImageForgeTelemetry.Attributes.Outcome,
                    result.AlreadyCurrent ? "already-current"
                        : result.Refusals.Count > 0 ? "refused"
                        : result.Promotion?.State == PromotionState.Failed ? "failed"
                        : "promoted"
                )
        );
    }

    private async Task<PromotionResult> PromoteOnceAsync(
        PromoteRequest request,
        CancellationToken cancellationToken
    )
    {
        var index = PromotionContext.ChannelIndex(request.Image, request.Channel, request.Path);
        var version = await _context.VersionAsync(
            request.Image,
            request.Version,
            cancellationToken
        );
        if (request.Actor.Role < Role.Builder)
        {
            return Refused(
                $"{request.Actor.Name} is {request.Actor.RoleName} and cannot promote: that takes builder "
                    + $"(release-manager for restricted channels); roles come from <data-dir>/{AccessPolicy.FileName}"
            );
        }

        var channels = await _context.Store.GetChannelsAsync(request.Image, cancellationToken);
        var current = channels.FirstOrDefault(c => c.Channel == request.Channel)?.Version;
        if (current == request.Version && !request.Resume)
        {
            return new PromotionResult([], null, null, [], AlreadyCurrent: true);
        }

        var (refusals, skipped) = await _preconditions.CheckAsync(
            request,
            version,
            index,
            cancellationToken
        );
        if (request.Restricted && request.Actor.Role < Role.ReleaseManager)
        {
            refusals.Insert(
                0,
                $"{request.Channel} is restricted to release managers; {request.Actor.Name} is {request.Actor.RoleName}"
            );
        }

        foreach (var step in Plan(version).Where(s => !_context.Targets.ContainsKey(s.Target)))
        {
            refusals.Add(
                $"this ImageForge cannot distribute {step.Target} artifacts yet (step {step}); promote with a release that has the {step.Target} provider"
            );
        }

        var open = await _context.Store.FindOpenPromotionAsync(
            request.Image,
            request.Channel,
            cancellationToken
        );
        if (request.Resume)
        {
            if (open is null || open.Version != request.Version)
            {
                throw new InvalidInputException(
                    $"nothing to resume: no unfinished promotion of {request.Image}@{request.Version} to {request.Channel}"
                        + (
                            open is null
                                ? ""
                                : $" (the open one, #{open.Id}, is of {open.Image}@{open.Version})"
                        )
                        + "; run promote without --resume"
                );
            }
        }
        else if (open is { State: PromotionState.Failed } && open.Version == request.Version)
        {
            refusals.Add(
                $"promotion #{open.Id} of {request.Image}@{request.Version} to {request.Channel} failed at "
                    + $"{string.Join(", ", open.Steps.Where(s => s.Status != StepStatus.Succeeded).Select(s => $"{s.Target}/{s.Region}"))}; "
                    + "rerun with --resume to retry only those steps"
            );
        }

        if (refusals.Count > 0)
        {
            return new PromotionResult(refusals, null, null, []);
        }

        var audit = _context.Entry(
            request.Actor,
            "promote-start",
            request.Image,
            request.Version,
            request.Channel,
            request.SkipReason
        );
        var promotion = request.Resume
            ? await _context.Store.ResumePromotionAsync(
                open!.Id,
                audit with
                {
                    Action = "promote-resume",
                },
                cancellationToken
            )
            : await _context.Store.StartPromotionAsync(
                request.Image,
                request.Version,
                request.Channel,
                request.Actor.Name,
                request.SkipReason,
                Plan(version),
                audit,
                cancellationToken
            );
        // Each rule waved through is an event of its own, with the reason, before anything is published.
        foreach (var rule in skipped)
        {
            await _context.Audit.AppendAsync(
                _context.Entry(
                    request.Actor,
                    "promote-skip",
                    request.Image,
                    request.Version,
                    request.Channel,
                    request.SkipReason,
                    AuditChain.Details(("promotion", promotion.Id), ("rule", rule))
                ),
                CancellationToken.None
            );
        }

        return await RunStepsAsync(request, version, promotion, skipped, cancellationToken) with
        {
            Skipped = skipped,
        };
    }

    private async Task<PromotionResult> RunStepsAsync(
        PromoteRequest request,
        ImageVersion version,
        PromotionRecord promotion,
        IReadOnlyList<string> skipped,
        CancellationToken cancellationToken
    )
    {
        var plan = Plan(version);
        var ran = new (PromotionStep Step, bool RanNow)[promotion.Steps.Count];
        // Targets (clouds) run at the same time, each one's steps (regions) in order: one slow or failing cloud
        // holds back no other, and every step's outcome is recorded for --resume.
        await Parallel.ForEachAsync(
            promotion.Steps.Select((step, index) => (step, index)).GroupBy(s => s.step.Target),
            new ParallelOptions
            {
                MaxDegreeOfParallelism = MaxParallelTargets,
                CancellationToken = cancellationToken,
            },
            async (target, token) =>
            {
                foreach (var (step, index) in target)
                {
                    ran[index] =
                        step.Status == StepStatus.Succeeded
                            ? (step, false)
                            : (
                                await RunStepAsync(request, version, promotion, plan, step, token),
                                true
                            );
                }
            }
        );
        var failed = ran.Any(r => r.Step.Status == StepStatus.Failed);
        if (failed)
        {
            await _context.Store.FailPromotionAsync(
                promotion.Id,
                _context.Entry(
                    request.Actor,
                    "promote-failed",
                    request.Image,
                    request.Version,
                    request.Channel,
                    null,
                    AuditChain.Details(
                        ("promotion", promotion.Id),
                        (
                            "failed",
                            ran.Where(r => r.Step.Status == StepStatus.Failed)
                                .Select(r => $"{r.Step.Target}/{r.Step.Region}")
                                .ToArray()
                        )
                    )
                ),
                CancellationToken.None
            );
            return new PromotionResult(
                [],
                promotion with
                {
                    State = PromotionState.Failed,
                },
                null,
                ran
            );
        }

        var assignment = await _context.Store.CompletePromotionAsync(
            promotion.Id,
            _context.Entry(
                request.Actor,
                "promote",
                request.Image,
                request.Version,
                request.Channel,
                request.SkipReason,
                AuditChain.Details(
                    ("promotion", promotion.Id),
                    ("steps", ran.Select(r => $"{r.Step.Target}/{r.Step.Region}").ToArray()),
                    ("skipped", skipped.ToArray())
                )
            ),
            CancellationToken.None
        );
        return new PromotionResult(
            [],
            promotion with
            {
                State = PromotionState.Completed,
            },
            assignment,
            ran
        );
    }

    private async Task<PromotionStep> RunStepAsync(
        PromoteRequest request,
        ImageVersion version,
        PromotionRecord promotion,
        IReadOnlyList<DistributionStep> plan,
        PromotionStep step,
        CancellationToken cancellationToken
    )
    {
        var planned = plan.First(p => p.Target == step.Target && p.Region == step.Region) with
        {
            Spec = request.Targets.FirstOrDefault(t => t.Provider == step.Target),
        };
        using var span = ImageForgeTelemetry.StartStep(
            ImageForgeTelemetry.Spans.PromotionStep,
            step.Target,
            step.Region
        );
        StepOutcome outcome;
        try
        {
            outcome = await _context
                .Targets[step.Target]
                .PublishAsync(version, request.Channel, planned, cancellationToken);
        }
        catch (Exception e)
            when (e is ImageForgeException or IOException or UnauthorizedAccessException)
        {
            outcome = StepOutcome.Failed(e.Message);
        }

        var status = outcome.Succeeded ? StepStatus.Succeeded : StepStatus.Failed;
        var outcomeName = ImageForgeTelemetry.StepEnded(span, outcome.Succeeded);
        ImageForgeTelemetry.PromotionSteps.Add(
            1,
            new TagList
            {
                { ImageForgeTelemetry.Attributes.Target, step.Target },
                { ImageForgeTelemetry.Attributes.Region, step.Region },
                { ImageForgeTelemetry.Attributes.Outcome, outcomeName },
            }
        );
        // Recorded even when the caller gives up now: the next --resume must know what happened.
        await _context.Store.RecordStepAsync(
            promotion.Id,
            step.Position,
            status,
            outcome.Detail,
            _context.Now,
            CancellationToken.None
        );
        await _context.Audit.AppendAsync(
            _context.Entry(
                request.Actor,
                "promote-step",
                request.Image,
                request.Version,
                request.Channel,
                null,
                AuditChain.Details(
                    ("promotion", promotion.Id),
                    ("target", step.Target),
                    ("region", step.Region),
                    ("status", outcomeName),
                    ("detail", outcome.Detail)
                )
            ),
            CancellationToken.None
        );
        return step with { Status = status, Attempts = step.Attempts + 1, Detail = outcome.Detail };
    }

    /// <summary>
    /// A release manager approves a version for a channel; recorded with the audit event. Refused when a rejection of
    /// the version for the channel stands, and, when <paramref name="rule"/> asks four eyes, when the actor is the
    /// version's requester (<see cref="RequesterAsync"/>).
    /// </summary>
    public async Task<Approval> ApproveAsync(
        string image,
        string versionText,
        string channel,
        IReadOnlyList<string> path,
        ChannelRule rule,
        Actor actor,
        string? reason,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(actor);
        var version = await BuiltForChannelAsync(
            image,
            versionText,
            channel,
            path,
            actor,
            ("approve", "approved"),
            cancellationToken
        );
        if (
            await _context.Store.GetRejectionAsync(
                image,
                versionText,
                channel,
                cancellationToken
            ) is
            { } rejection
        )
        {
            throw new RefusedException(
                $"{rejection.Describe()}; a rejected version is not approved for {channel}: build a fixed version"
            );
        }

        if (
            rule.FourEyes
            && await RequesterAsync(version, cancellationToken) is { } requester
            && requester == actor.Name
        )
        {
            throw new RefusedException(
                $"four eyes: {actor.Name} requested the build of {image}@{versionText} and cannot approve it for "
                    + $"{channel}; another release manager must approve it (the baseline's promotion.{channel}.four_eyes)"
            );
        }

        var approval = new Approval(
            image,
            versionText,
            channel,
            actor.Name,
            actor.RoleName,
            _context.Now,
            reason
        );
        await _context.Store.AddApprovalAsync(
            approval,
            _context.Entry(actor, "approve", image, versionText, channel, reason),
            cancellationToken
        );
        return approval;
    }

    /// <summary>
    /// A release manager rejects a version for a channel, with a reason (audited as <c>reject-promotion</c>): while
    /// the rejection stands, promoting the version into the channel is refused, naming who rejected it and why.
    /// </summary>
    /// <exception cref="InvalidInputException">No reason, an unknown channel or version.</exception>
    public async Task<Rejection> RejectAsync(
        string image,
        string versionText,
        string channel,
        IReadOnlyList<string> path,
        Actor actor,
        string reason,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new InvalidInputException(
                "rejecting a version needs a reason: give --reason TEXT (why it may not enter the channel)"
            );
        }

        await BuiltForChannelAsync(
            image,
            versionText,
            channel,
            path,
            actor,
            ("reject", "rejected"),
            cancellationToken
        );
        var rejection = new Rejection(
            image,
            versionText,
            channel,
            actor.Name,
            actor.RoleName,
            _context.Now,
            reason
        );
        await _context.Store.RejectAsync(
            rejection,
            _context.Entry(actor, "reject-promotion", image, versionText, channel, reason),
            cancellationToken
        );
        return rejection;
    }

    /// <summary>
    /// Who requested the version: the actor who requested the build that produced it (the build's requester, the
    /// actor of its <c>build</c> audit event); a scheduled build's is the scheduler (<c>schedule</c>,
    /// <c>cve-rescan</c>), which never approves. Null when the build is no longer recorded.
    /// </summary>
    public async Task<string?> RequesterAsync(
        ImageVersion version,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(version);
        return (
            await _context.Catalog.GetBuildAsync(version.BuildId, cancellationToken)
        )?.Requester;
    }

    // The checks approving and rejecting share: a channel of the path, a known version, a release manager, built.
    private async Task<ImageVersion> BuiltForChannelAsync(
        string image,
        string versionText,
        string channel,
        IReadOnlyList<string> path,
        Actor actor,
        (string Verb, string Done) action,
        CancellationToken cancellationToken
    )
    {
        PromotionContext.ChannelIndex(image, channel, path);
        var version = await _context.VersionAsync(image, versionText, cancellationToken);
        AccessPolicy.Require(actor, Role.ReleaseManager, $"{action.Verb} for {channel}");
        return version.Status == VersionStatus.Built
            ? version
            : throw new RefusedException(
                $"{image}@{versionText} is {version.Status.Name()}; only built versions are {action.Done}"
            );
    }

    /// <summary>
    /// A release manager acknowledges one raised anomaly of a version, with a reason (audited as
    /// <c>acknowledge-anomaly</c>); a restricted channel needs this for every raised high or critical anomaly.
    /// </summary>
    /// <exception cref="InvalidInputException">No reason, or the version's report has no such anomaly.</exception>
    public async Task<AnomalyAcknowledgement> AcknowledgeAnomalyAsync(
        string image,
        string versionText,
        string anomalyId,
        Actor actor,
        string reason,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new InvalidInputException(
                "acknowledging an anomaly needs a reason: give --reason TEXT (why the change is accepted)"
            );
        }
        var version = await _context.VersionAsync(image, versionText, cancellationToken);
        AccessPolicy.Require(
            actor,
            Role.ReleaseManager,
            $"acknowledge an anomaly of {image}@{versionText}"
        );
        var raised = AnomalyAcknowledgements.Raised(version);
        if (!raised.Any(a => a.Id == anomalyId))
        {
            throw new InvalidInputException(
                $"{image}@{versionText} has no raised anomaly {anomalyId}; "
                    + (
                        raised.Count == 0
                            ? "it has none"
                            : "its raised anomalies are "
                                + string.Join(", ", raised.Select(a => a.Id))
                    )
                    + $" (see 'imageforge anomalies {image}@{versionText}')"
            );
        }
        var acknowledgement = new AnomalyAcknowledgement(
            image,
            versionText,
            anomalyId,
            actor.Name,
            actor.RoleName,
            _context.Now,
            reason
        );
        await _context.Store.AcknowledgeAnomalyAsync(
            acknowledgement,
            _context.Entry(
                actor,
                "acknowledge-anomaly",
                image,
                versionText,
                null,
                reason,
                anomalyId
            ),
            cancellationToken
        );
        return acknowledgement;
    }

    private static PromotionResult Refused(string reason) => new([reason], null, null, []);
}
