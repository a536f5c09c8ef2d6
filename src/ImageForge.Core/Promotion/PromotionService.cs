using System.Text.Json;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;

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
);

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
}

/// <summary>A revocation's outcome: the catalog changes, then each provider's deprecation step.</summary>
public sealed record RevocationResult(
    RevocationRecord? Record,
    ScheduledRevocation? Scheduled,
    IReadOnlyList<(string Target, StepOutcome Outcome)> Deprecations
);

/// <summary>What retention keeps and removes, and why each kept version stays.</summary>
public sealed record RetentionPlan(
    IReadOnlyList<(RetentionCandidate Version, string Why)> Kept,
    IReadOnlyList<RetentionCandidate> Removed,
    bool Applied,
    IReadOnlyList<string> Problems
);

/// <summary>
/// Promotion, approval, rollback, revocation and retention over the catalog. Preconditions are checked before
/// anything is written; a promotion's distribution steps run idempotently and are recorded one by one; the channel
/// pointer moves only in the transaction that checks every step succeeded.
/// </summary>
public sealed class PromotionService
{
    /// <summary>The evidence kind the gate writes.</summary>
    public const string GateDecisionKind = "gate-decision";

    private readonly ICatalog _catalog;
    private readonly IPromotionStore _store;
    private readonly Dictionary<string, IDistributionTarget> _targets;
    private readonly Func<
        ImageVersion,
        CancellationToken,
        Task<IReadOnlyList<string>>
    > _signatureProblems;
    private readonly IAuditLog _audit;
    private readonly TimeProvider _time;

    /// <summary>
    /// Creates the service; <paramref name="signatureProblems"/> verifies a version's signature and digests (empty
    /// when it verifies).
    /// </summary>
    public PromotionService(
        ICatalog catalog,
        IPromotionStore store,
        IAuditLog audit,
        IEnumerable<IDistributionTarget> targets,
        Func<ImageVersion, CancellationToken, Task<IReadOnlyList<string>>> signatureProblems,
        TimeProvider time
    )
    {
        _catalog = catalog;
        _store = store;
        _audit = audit;
        _targets = targets.ToDictionary(t => t.Target, StringComparer.Ordinal);
        _signatureProblems = signatureProblems;
        _time = time;
    }

    /// <summary>One step per target and region, in the order the build reported the artifacts.</summary>
    public static IReadOnlyList<DistributionStep> Plan(ImageVersion version) =>
        [
            .. version
                .Artifacts.GroupBy(a => (a.Target, a.Region))
                .Select(g => new DistributionStep(g.Key.Target, g.Key.Region, [.. g])),
        ];

    public async Task<PromotionResult> PromoteAsync(
        PromoteRequest request,
        CancellationToken cancellationToken = default
    )
    {
        var index = ChannelIndex(request.Image, request.Channel, request.Path);
        var version = await VersionAsync(request.Image, request.Version, cancellationToken);
        var refusals = new List<string>();
        if (request.Actor.Role < Role.Builder)
        {
            return Refused(
                $"{request.Actor.Name} is {request.Actor.RoleName} and cannot promote: that takes builder "
                    + $"(release-manager for restricted channels); roles come from <data-dir>/{AccessPolicy.FileName}"
            );
        }

        if (request.Restricted && request.Actor.Role < Role.ReleaseManager)
        {
            refusals.Add(
                $"{request.Channel} is restricted to release managers; {request.Actor.Name} is {request.Actor.RoleName}"
            );
        }

        var channels = await _store.GetChannelsAsync(request.Image, cancellationToken);
        var current = channels.FirstOrDefault(c => c.Channel == request.Channel)?.Version;
        if (current == request.Version && !request.Resume)
        {
            return new PromotionResult([], null, null, [], AlreadyCurrent: true);
        }

        await CheckVersionAsync(version, refusals, cancellationToken);
        await CheckPathAsync(request, index, refusals, cancellationToken);
        foreach (var step in Plan(version).Where(s => !_targets.ContainsKey(s.Target)))
        {
            refusals.Add(
                $"this ImageForge cannot distribute {step.Target} artifacts yet (step {step}); promote with a release that has the {step.Target} provider"
            );
        }

        var open = await _store.FindOpenPromotionAsync(
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

        var audit = Entry(
            request.Actor,
            "promote-start",
            request.Image,
            request.Version,
            request.Channel,
            request.SkipReason
        );
        var promotion = request.Resume
            ? await _store.ResumePromotionAsync(
                open!.Id,
                audit with
                {
                    Action = "promote-resume",
                },
                cancellationToken
            )
            : await _store.StartPromotionAsync(
                request.Image,
                request.Version,
                request.Channel,
                request.Actor.Name,
                request.SkipReason,
                Plan(version),
                audit,
                cancellationToken
            );
        return await RunStepsAsync(request, version, promotion, cancellationToken);
    }

    private async Task<PromotionResult> RunStepsAsync(
        PromoteRequest request,
        ImageVersion version,
        PromotionRecord promotion,
        CancellationToken cancellationToken
    )
    {
        var plan = Plan(version);
        var ran = new List<(PromotionStep, bool)>();
        var failed = false;
        foreach (var step in promotion.Steps)
        {
            if (step.Status == StepStatus.Succeeded)
            {
                ran.Add((step, false));
                continue;
            }

            var planned = plan.First(p => p.Target == step.Target && p.Region == step.Region);
            StepOutcome outcome;
            try
            {
                outcome = await _targets[step.Target]
                    .PublishAsync(version, request.Channel, planned, cancellationToken);
            }
            catch (Exception e)
                when (e is ImageForgeException or IOException or UnauthorizedAccessException)
            {
                outcome = StepOutcome.Failed(e.Message);
            }

            var status = outcome.Succeeded ? StepStatus.Succeeded : StepStatus.Failed;
            // Recorded even when the caller gives up now: the next --resume must know what happened.
            await _store.RecordStepAsync(
                promotion.Id,
                step.Position,
                status,
                outcome.Detail,
                _time.GetUtcNow(),
                CancellationToken.None
            );
            failed |= !outcome.Succeeded;
            ran.Add(
                (
                    step with
                    {
                        Status = status,
                        Attempts = step.Attempts + 1,
                        Detail = outcome.Detail,
                    },
                    true
                )
            );
        }

        if (failed)
        {
            await _store.FailPromotionAsync(
                promotion.Id,
                Entry(
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
                            ran.Where(r => r.Item1.Status == StepStatus.Failed)
                                .Select(r => $"{r.Item1.Target}/{r.Item1.Region}")
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

        var assignment = await _store.CompletePromotionAsync(
            promotion.Id,
            Entry(
                request.Actor,
                "promote",
                request.Image,
                request.Version,
                request.Channel,
                request.SkipReason,
                AuditChain.Details(
                    ("promotion", promotion.Id),
                    ("steps", ran.Select(r => $"{r.Item1.Target}/{r.Item1.Region}").ToArray()),
                    ("skipped_channel", request.SkipReason is not null)
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

    private async Task CheckVersionAsync(
        ImageVersion version,
        List<string> refusals,
        CancellationToken cancellationToken
    )
    {
        var name = $"{version.Image}@{version.Version}";
        if (version.Status != VersionStatus.Built)
        {
            refusals.Add($"{name} is {version.Status}; only built versions are promoted");
            return;
        }

        var gate = version.Evidence.LastOrDefault(e => e.Kind == GateDecisionKind);
        if (gate is null)
        {
            refusals.Add(
                $"{name}: no gate decision recorded; the gate must pass (or warn) before promotion"
            );
        }
        else
        {
            var decision = await ReadDecisionAsync(gate.Location, cancellationToken);
            if (decision is not ("pass" or "warn"))
            {
                refusals.Add(
                    decision is null
                        ? $"{name}: the gate decision {gate.Location} is missing or unreadable"
                        : $"{name}: the gate decision is {decision}; only pass or warn may be promoted"
                );
            }
        }

        var problems = await _signatureProblems(version, cancellationToken);
        if (problems.Count > 0)
        {
            refusals.Add(
                $"{name}: the signature does not verify ({string.Join("; ", problems)}); see 'imageforge verify {name}'"
            );
        }
    }

    private async Task CheckPathAsync(
        PromoteRequest request,
        int index,
        List<string> refusals,
        CancellationToken cancellationToken
    )
    {
        if (index == 0)
        {
            return;
        }

        var previous = request.Path[index - 1];
        var history = await _store.GetHistoryAsync(request.Image, previous, cancellationToken);
        var inPrevious = history.Where(h => h.Version == request.Version).ToList();
        if (inPrevious.Count == 0)
        {
            if (request.SkipReason is null)
            {
                refusals.Add(
                    $"{request.Image}@{request.Version} has never been in {previous}, the channel before {request.Channel}; "
                        + $"promote it to {previous} first (an admin may skip with --skip-reason)"
                );
            }
            else if (request.Actor.Role < Role.Admin)
            {
                refusals.Add(
                    $"only an admin may skip {previous}; {request.Actor.Name} is {request.Actor.RoleName}"
                );
            }

            return;
        }

        var rule = request.Rules.For(request.Channel);
        var now = _time.GetUtcNow();
        var soaked = now - inPrevious.Min(h => h.At);
        if (soaked < rule.Soak)
        {
            refusals.Add(
                $"{request.Image}@{request.Version} has soaked in {previous} for {Describe(soaked)}; {request.Channel} "
                    + $"needs {Describe(rule.Soak)} (promote after {AuditChain.FormatTime(inPrevious.Min(h => h.At) + rule.Soak)})"
            );
        }

        if (rule.Approvals > 0)
        {
            var approvals = await _store.GetApprovalsAsync(
                request.Image,
                request.Version,
                request.Channel,
                cancellationToken
            );
            if (approvals.Count < rule.Approvals)
            {
                refusals.Add(
                    $"{request.Channel} needs {rule.Approvals} approval(s) of {request.Image}@{request.Version}, it has "
                        + $"{approvals.Count}{(approvals.Count > 0 ? $" ({string.Join(", ", approvals.Select(a => a.Actor))})" : "")}; "
                        + $"release managers approve with 'imageforge approve {request.Image}@{request.Version} --for {request.Channel}'"
                );
            }
        }
    }

    /// <summary>A release manager approves a version for a channel; recorded with the audit event.</summary>
    public async Task<Approval> ApproveAsync(
        string image,
        string versionText,
        string channel,
        IReadOnlyList<string> path,
        Actor actor,
        string? reason,
        CancellationToken cancellationToken = default
    )
    {
        ChannelIndex(image, channel, path);
        var version = await VersionAsync(image, versionText, cancellationToken);
        AccessPolicy.Require(actor, Role.ReleaseManager, $"approve for {channel}");
        if (version.Status != VersionStatus.Built)
        {
            throw new RefusedException(
                $"{image}@{versionText} is {version.Status}; only built versions are approved"
            );
        }

        var approval = new Approval(
            image,
            versionText,
            channel,
            actor.Name,
            actor.RoleName,
            _time.GetUtcNow(),
            reason
        );
        await _store.AddApprovalAsync(
            approval,
            Entry(actor, "approve", image, versionText, channel, reason),
            cancellationToken
        );
        return approval;
    }

    /// <summary>Moves the channel back to its previous good version, or to <paramref name="to"/>, in one step.</summary>
    public async Task<ChannelAssignment> RollbackAsync(
        string image,
        string channel,
        string? to,
        IReadOnlyList<string> path,
        Actor actor,
        bool restricted,
        string? reason,
        CancellationToken cancellationToken = default
    )
    {
        ChannelIndex(image, channel, path);
        if (to is not null)
        {
            await VersionAsync(image, to, cancellationToken);
        }

        AccessPolicy.Require(
            actor,
            restricted ? Role.ReleaseManager : Role.Builder,
            $"roll back {channel}"
        );
        var current = (await _store.GetChannelsAsync(image, cancellationToken))
            .FirstOrDefault(c => c.Channel == channel)
            ?.Version;
        var history = await _store.GetHistoryAsync(image, channel, cancellationToken);
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

            var status = (await VersionAsync(image, to, cancellationToken)).Status;
            if (status != VersionStatus.Built)
            {
                throw new RefusedException(
                    $"{image}@{to} is {status}; a channel never returns to it"
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

        return await _store.MovePointerAsync(
            image,
            channel,
            current,
            target,
            AssignmentActions.Rollback,
            Entry(
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
                var found = await _catalog.GetVersionAsync(image, candidate, cancellationToken);
                if (found?.Status == VersionStatus.Built)
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Revokes now, or schedules the revocation for <paramref name="at"/> when it is in the future (it then takes
    /// effect when any promotion command next runs after that time, see <see cref="ApplyDueRevocationsAsync"/>).
    /// Revoking a version already revoked runs the providers' deprecation steps again (they are idempotent).
    /// </summary>
    public async Task<RevocationResult> RevokeAsync(
        string image,
        string versionText,
        string reason,
        DateTimeOffset? at,
        Actor actor,
        CancellationToken cancellationToken = default
    )
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new InvalidInputException("--reason is required: say why the version is revoked");
        }

        var version = await VersionAsync(image, versionText, cancellationToken);
        AccessPolicy.Require(actor, Role.ReleaseManager, "revoke");
        if (version.Status == VersionStatus.Deleted)
        {
            throw new RefusedException(
                $"{image}@{versionText} was deleted by gc; there is nothing left to revoke"
            );
        }

        var now = _time.GetUtcNow();
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
            await _store.ScheduleRevocationAsync(
                scheduled,
                Entry(
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
            record = await _store.RevokeAsync(
                image,
                versionText,
                reason,
                Entry(actor, "revoke", image, versionText, null, reason),
                cancellationToken
            );
        }

        return new RevocationResult(
            record,
            null,
            await DeprecateAsync(version, reason, actor, cancellationToken)
        );
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
            StepOutcome outcome;
            if (!_targets.TryGetValue(target, out var provider))
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
                }
                catch (Exception e)
                    when (e is ImageForgeException or IOException or UnauthorizedAccessException)
                {
                    outcome = StepOutcome.Failed(e.Message);
                }
            }

            await _audit.AppendAsync(
                Entry(
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

    /// <summary>Applies every scheduled revocation whose time has come, as the actor who scheduled it.</summary>
    public async Task<IReadOnlyList<RevocationResult>> ApplyDueRevocationsAsync(
        CancellationToken cancellationToken = default
    )
    {
        var results = new List<RevocationResult>();
        foreach (var due in await _store.DueRevocationsAsync(_time.GetUtcNow(), cancellationToken))
        {
            var actor = new Actor(due.Actor, RoleNames.Parse(due.Role) ?? Role.ReleaseManager);
            var version = await _catalog.GetVersionAsync(due.Image, due.Version, cancellationToken);
            if (
                version is not null
                && version.Status is VersionStatus.Built or VersionStatus.Rejected
            )
            {
                var record = await _store.RevokeAsync(
                    due.Image,
                    due.Version,
                    due.Reason,
                    Entry(
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
                results.Add(
                    new RevocationResult(
                        record,
                        due,
                        await DeprecateAsync(version, due.Reason, actor, cancellationToken)
                    )
                );
            }

            await _store.MarkRevocationAppliedAsync(due.Id, _time.GetUtcNow(), cancellationToken);
        }

        return results;
    }

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

        var now = _time.GetUtcNow();
        var cutoff = now - window;
        var kept = new List<(RetentionCandidate, string)>();
        var removed = new List<RetentionCandidate>();
        foreach (var image in await _catalog.ListImagesAsync(cancellationToken))
        {
            var history = await _store.GetHistoryAsync(image.Image, null, cancellationToken);
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

            var versions = await _store.ListRetainableAsync(image.Image, cancellationToken);
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
            await _store.MarkDeletedAsync(
                [.. removed.Select(r => (r.Image, r.Version))],
                Entry(
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
                var version = await _catalog.GetVersionAsync(r.Image, r.Version, cancellationToken);
                foreach (var artifact in version?.Artifacts ?? [])
                {
                    // Only files this data directory owns; a provider image or a foreign path is left alone.
                    var full = Path.GetFullPath(artifact.Location);
                    if (
                        full.StartsWith(
                            Path.GetFullPath(data.Artifacts) + Path.DirectorySeparatorChar,
                            StringComparison.Ordinal
                        ) && File.Exists(full)
                    )
                    {
                        try
                        {
                            File.Delete(full);
                        }
                        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                        {
                            problems.Add(
                                $"{r.Image}@{r.Version}: could not delete {full}: {e.Message}"
                            );
                        }
                    }
                }

                foreach (
                    var target in (version?.Artifacts ?? [])
                        .Select(a => a.Target)
                        .Distinct(StringComparer.Ordinal)
                )
                {
                    if (
                        _targets.TryGetValue(target, out var provider)
                        && provider is IRetainingTarget retaining
                    )
                    {
                        var outcome = await retaining.DeleteAsync(version!, cancellationToken);
                        if (!outcome.Succeeded)
                        {
                            problems.Add($"{r.Image}@{r.Version}: {target}: {outcome.Detail}");
                        }
                    }
                }
            }
        }

        return new RetentionPlan(kept, removed, apply, problems);
    }

    private static int ChannelIndex(string image, string channel, IReadOnlyList<string> path)
    {
        var index = path.ToList().IndexOf(channel);
        return index >= 0
            ? index
            : throw new InvalidInputException(
                $"{image} has no channel '{channel}'; its channels are {string.Join(" -> ", path)}"
            );
    }

    private async Task<ImageVersion> VersionAsync(
        string image,
        string version,
        CancellationToken cancellationToken
    ) =>
        await _catalog.GetVersionAsync(image, version, cancellationToken)
        ?? throw new InvalidInputException(
            $"{image} has no version {version}; 'imageforge images show {image}' lists its versions"
        );

    private static async Task<string?> ReadDecisionAsync(
        string path,
        CancellationToken cancellationToken
    )
    {
        try
        {
            await using var stream = File.OpenRead(path);
            using var json = await JsonDocument.ParseAsync(
                stream,
                cancellationToken: cancellationToken
            );
            return json.RootElement.TryGetProperty("decision", out var d) ? d.GetString() : null;
        }
        catch (Exception e)
            when (e
                    is IOException
                        or UnauthorizedAccessException
                        or JsonException
                        or InvalidOperationException
            )
        {
            return null;
        }
    }

    private AuditEntry Entry(
        Actor actor,
        string action,
        string? image,
        string? version,
        string? channel,
        string? reason,
        string? details = null
    ) =>
        new()
        {
            Action = action,
            Actor = actor.Name,
            Role = actor.RoleName,
            Time = _time.GetUtcNow(),
            Image = image,
            Version = version,
            Channel = channel,
            Reason = reason,
            Details = details,
        };

    private static PromotionResult Refused(string reason) => new([reason], null, null, []);

    private static string Describe(TimeSpan span) =>
        span.TotalHours >= 1
            ? $"{span.TotalHours:0.#} h"
            : $"{Math.Max(0, span.TotalMinutes):0} min";
}

/// <summary>A target that can also delete what it published (retention).</summary>
public interface IRetainingTarget
{
    Task<StepOutcome> DeleteAsync(
        ImageVersion version,
        CancellationToken cancellationToken = default
    );
}
