using System.Globalization;
using ImageForge.Core.Admission;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Gates;
using ImageForge.Core.Promotion;
using ImageForge.Signing;
using ImageForge.Storage;

namespace ImageForge.Application.Operations;

/// <summary>What to promote where (<c>imageforge promote</c>, <c>POST .../promote</c>).</summary>
/// <param name="Image">The image.</param>
/// <param name="Version">The version (YYYY.MM.DD.N).</param>
/// <param name="Channel">The target channel.</param>
/// <param name="Resume">Retry only the failed steps of this version's unfinished promotion.</param>
/// <param name="SkipReason">
/// Admins only: why the rules in <see cref="Skip"/> are skipped (given alone, it skips the previous channel).
/// </param>
public sealed record PromoteInput(
    string Image,
    string Version,
    string Channel,
    bool Resume = false,
    string? SkipReason = null
)
{
    /// <summary>
    /// The rules an admin skips (<see cref="PromotionRuleNames"/>), each one the baseline marks skippable for the
    /// channel; empty with a <see cref="SkipReason"/> means the previous channel, as before named skips existed.
    /// </summary>
    public IReadOnlyList<string> Skip { get; init; } = [];

    /// <summary>The rules skipped, with the reason-only form read as skipping the previous channel.</summary>
    public IReadOnlySet<string> SkippedRules =>
        new HashSet<string>(
            Skip.Count == 0 && SkipReason is not null ? [PromotionRuleNames.PreviousChannel] : Skip,
            StringComparer.Ordinal
        );
}

/// <summary>
/// The promotion actions as the command line and the worker's API both perform them: the definitions and the roles
/// file read, the catalog opened (applying due scheduled revocations), the same checks, the same audit trail. The
/// caller says who acts (<see cref="Actor"/>: the CLI's OS user and roles.yaml, or the API token's name and role) and
/// prints or serializes the result records. A rule's refusal is a <see cref="RefusedException"/> (or
/// <see cref="ActionForbiddenException"/> when it is the actor's role), except for promote, whose refusals are
/// values (<see cref="PromotionView.Refusals"/>); bad input is an <see cref="InvalidInputException"/>.
/// </summary>
public sealed class PromotionOperations
{
    private readonly Pipeline _pipeline;
    private readonly HostPaths _paths;
    private readonly TimeProvider _time;

    /// <summary>
    /// Creates the operations of a host: its content (definitions, baselines) and data (catalog, roles.yaml), its
    /// clock, its providers' distribution, and its scanner for promote's fresh re-scans.
    /// </summary>
    public PromotionOperations(Pipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        _pipeline = pipeline;
        _paths = pipeline.Host.Paths;
        _time = pipeline.Host.Time;
    }

    /// <summary>
    /// Called for each scheduled revocation that an action applied because its time had come (the command line prints
    /// a note; the worker publishes the revoked event).
    /// </summary>
    public Func<RevocationResult, CancellationToken, Task>? RevocationApplied { get; init; }

    /// <summary>The roles file of the data directory (the command line resolves its actor with it).</summary>
    public AccessPolicy LoadPolicy() => AccessPolicy.Load(_paths.Data.Root);

    /// <summary>
    /// Checks every precondition (and, when the channel's rule asks for it and this is not a resume, a fresh re-scan
    /// that must pass the baseline's gates), then publishes step by step and moves the channel when all succeeded.
    /// </summary>
    public async Task<PromotionView> PromoteAsync(
        Actor actor,
        PromoteInput input,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(input);
        var definitions = LoadDefinitions();
        var definition = Definition(definitions, input.Image);
        var baseline = definitions.FindBaseline(definition.Baseline);
        await using var session = await OpenAsync(cancellationToken);
        // The rules of the image's baseline (its promotion: section, docs/promotion.md).
        var rules = baseline?.Promotion ?? PromotionRules.None;
        var restricted = session.Policy.IsRestricted(input.Channel, definition.Channels);
        var skip = input.SkippedRules;
        IReadOnlyList<string> rescanRefusals = [];
        // Not run when skipped: the preconditions then check that the skip is allowed.
        if (
            rules.For(input.Channel).Rescan
            && !input.Resume
            && !skip.Contains(PromotionRuleNames.Rescan)
        )
        {
            var version =
                await session.Catalog.GetVersionAsync(input.Image, input.Version, cancellationToken)
                ?? throw new InvalidInputException(
                    $"{input.Image} has no version {input.Version}; 'imageforge images show {input.Image}' lists its versions"
                );
            rescanRefusals = await FreshRescan.RefusalsAsync(
                session.Catalog,
                version,
                definition,
                baseline,
                _pipeline,
                cancellationToken
            );
        }

        var result = await session.Services.Promotions.PromoteAsync(
            new PromoteRequest(
                input.Image,
                input.Version,
                input.Channel,
                definition.Channels,
                rules,
                actor,
                restricted,
                input.Resume,
                input.SkipReason
            )
            {
                Skip = skip,
                RescanRefusals = rescanRefusals,
                Targets = definition.Targets,
            },
            cancellationToken
        );
        var view = PromotionView.From(input.Image, input.Version, input.Channel, result);
        return result.Refusals.Count == 0
            ? view
            : view with
            {
                RequiredRole = RequiredRole(actor, input, restricted),
            };
    }

    // When the actor's role alone is among the reasons (the rules of PromotionService.PromoteAsync), the role that
    // would have been allowed: builder to promote, release-manager for a restricted channel, admin to skip a rule.
    // Null when the role is not why.
    private static Role? RequiredRole(Actor actor, PromoteInput input, bool restricted)
    {
        var needed =
            input.SkippedRules.Count > 0 ? Role.Admin
            : restricted ? Role.ReleaseManager
            : Role.Builder;
        return actor.Role < needed ? needed : null;
    }

    /// <summary>
    /// A release manager's approval of a version for a channel; approving twice counts once. Refused while a rejection
    /// stands, and for the version's requester when the channel's rule asks four eyes.
    /// </summary>
    public async Task<ApprovalView> ApproveAsync(
        Actor actor,
        string image,
        string version,
        string channel,
        string? reason,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(actor);
        var definitions = LoadDefinitions();
        var definition = Definition(definitions, image);
        var rules = definitions.FindBaseline(definition.Baseline)?.Promotion ?? PromotionRules.None;
        await using var session = await OpenAsync(cancellationToken);
        var approval = await AsForbiddenAsync(
            actor,
            Role.ReleaseManager,
            () =>
                session.Services.Promotions.ApproveAsync(
                    image,
                    version,
                    channel,
                    definition.Channels,
                    rules.For(channel),
                    actor,
                    reason,
                    cancellationToken
                )
        );
        var count = (
            await session.Catalog.GetApprovalsAsync(
                image,
                version,
                approval.Channel,
                cancellationToken
            )
        ).Count;
        return new ApprovalView(
            approval.Image,
            approval.Version,
            approval.Channel,
            approval.Actor,
            approval.Role,
            approval.At,
            approval.Reason,
            count
        );
    }

    /// <summary>
    /// A release manager's rejection of a version for a channel, with a required reason (audited as
    /// <c>reject-promotion</c>); while it stands the version is not promoted into the channel.
    /// </summary>
    public async Task<RejectionView> RejectAsync(
        Actor actor,
        string image,
        string version,
        string channel,
        string reason,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(actor);
        var definition = Definition(LoadDefinitions(), image);
        await using var session = await OpenAsync(cancellationToken);
        return RejectionView.From(
            await AsForbiddenAsync(
                actor,
                Role.ReleaseManager,
                () =>
                    session.Services.Promotions.RejectAsync(
                        image,
                        version,
                        channel,
                        definition.Channels,
                        actor,
                        reason,
                        cancellationToken
                    )
            )
        );
    }

    /// <summary>
    /// The approvals queue: for each image and each channel whose rule asks approvals, the version that would be
    /// promoted into it (the one in the channel before it that is not in it already and not rejected for it), with its
    /// gate decision, approvals so far and needed, and who requested it. Images in definitions order, channels in path
    /// order.
    /// </summary>
    public async Task<IReadOnlyList<PendingApprovalView>> PendingApprovalsAsync(
        CancellationToken cancellationToken = default
    )
    {
        var definitions = LoadDefinitions();
        await using var session = await OpenAsync(cancellationToken);
        var pending = new List<PendingApprovalView>();
        foreach (var definition in definitions.Images)
        {
            var rules =
                definitions.FindBaseline(definition.Baseline)?.Promotion ?? PromotionRules.None;
            var path = definition.Channels;
            var states = await session.Catalog.GetChannelsAsync(definition.Name, cancellationToken);
            string? At(string channel) => states.FirstOrDefault(c => c.Channel == channel)?.Version;
            for (var i = 1; i < path.Count; i++)
            {
                var rule = rules.For(path[i]);
                if (
                    rule.Approvals == 0
                    || At(path[i - 1]) is not { } number
                    || number == At(path[i])
                    || await session.Catalog.GetVersionAsync(
                        definition.Name,
                        number,
                        cancellationToken
                    )
                        is not { } version
                    || await session.Catalog.GetRejectionAsync(
                        definition.Name,
                        number,
                        path[i],
                        cancellationToken
                    )
                        is not null
                )
                {
                    continue;
                }

                var (gate, reasons) = GateOf(version);
                var approvals = await session.Catalog.GetApprovalsAsync(
                    definition.Name,
                    number,
                    path[i],
                    cancellationToken
                );
                pending.Add(
                    new PendingApprovalView(
                        definition.Name,
                        path[i],
                        path[i - 1],
                        number,
                        gate,
                        reasons,
                        [.. approvals.Select(a => a.Actor)],
                        rule.Approvals,
                        await session.Services.Promotions.RequesterAsync(
                            version,
                            cancellationToken
                        ),
                        rule.FourEyes,
                        session.Policy.IsRestricted(path[i], path)
                    )
                );
            }
        }

        return pending;
    }

    // The version's newest gate decision and its reasons that did not pass; an unreadable one says why.
    private static (string? Gate, IReadOnlyList<string> Reasons) GateOf(ImageVersion version)
    {
        try
        {
            return GateDecision.Current(version) is { } recorded
                ? (
                    GateDecision.Name(recorded.Decision.Decision),
                    [.. recorded.Decision.Violations.Select(r => r.ToString())]
                )
                : (null, ["no gate decision recorded"]);
        }
        catch (InvalidInputException e)
        {
            return (null, [$"the gate decision is unreadable: {e.Message}"]);
        }
    }

    /// <summary>A release manager's acknowledgement of one raised anomaly of a version, with a reason (audited).</summary>
    public async Task<AnomalyAcknowledgement> AcknowledgeAnomalyAsync(
        Actor actor,
        string image,
        string version,
        string anomalyId,
        string reason,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var session = await OpenAsync(cancellationToken);
        return await AsForbiddenAsync(
            actor,
            Role.ReleaseManager,
            () =>
                session.Services.Promotions.AcknowledgeAnomalyAsync(
                    image,
                    version,
                    anomalyId,
                    actor,
                    reason,
                    cancellationToken
                )
        );
    }

    /// <summary>
    /// Moves the channel back to the version it had before the current one (skipping revoked and deleted ones), or to
    /// <paramref name="to"/>, which must have been in the channel and still be built.
    /// </summary>
    public async Task<AssignmentView> RollbackAsync(
        Actor actor,
        string image,
        string channel,
        string? to,
        string? reason,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(actor);
        var definition = Definition(LoadDefinitions(), image);
        await using var session = await OpenAsync(cancellationToken);
        var restricted = session.Policy.IsRestricted(channel, definition.Channels);
        var moved = await AsForbiddenAsync(
            actor,
            restricted ? Role.ReleaseManager : Role.Builder,
            () =>
                session.Services.Rollbacks.RollbackAsync(
                    image,
                    channel,
                    to,
                    definition.Channels,
                    actor,
                    restricted,
                    reason,
                    definition.Targets,
                    cancellationToken
                )
        );
        return AssignmentView.From(moved);
    }

    /// <summary>
    /// Revokes the version now, or schedules it when <paramref name="at"/> is in the future: channels pointing at it
    /// fall back to their last good version (or are left empty), descendants are flagged, providers deprecate it.
    /// </summary>
    public async Task<RevocationView> RevokeAsync(
        Actor actor,
        string image,
        string version,
        string reason,
        DateTimeOffset? at,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var session = await OpenAsync(cancellationToken);
        var result = await AsForbiddenAsync(
            actor,
            Role.ReleaseManager,
            () =>
                session.Services.Revocations.RevokeAsync(
                    image,
                    version,
                    reason,
                    at,
                    actor,
                    cancellationToken
                )
        );
        return Revocation(image, version, reason, result);
    }

    /// <summary>
    /// What revoking the version would hit, changing nothing: the versions built on it, the channels pointing at it
    /// now (each would fall back to its last good version) and its images per target and region.
    /// </summary>
    public async Task<RevocationPreviewView> PreviewRevocationAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    )
    {
        await using var session = await OpenAsync(cancellationToken);
        var found =
            await session.Catalog.GetVersionAsync(image, version, cancellationToken)
            ?? throw new InvalidInputException(
                $"{image} has no version {version}; imageforge images show {image} lists its versions"
            );
        var children = await session.Catalog.GetChildrenAsync(image, version, cancellationToken);
        var channels = await session.Catalog.GetChannelsAsync(image, cancellationToken);
        return new RevocationPreviewView(
            image,
            version,
            found.Status,
            [.. children.Select(c => new VersionReferenceView(c.Image, c.Version))],
            [.. channels.Where(c => c.Version == version).Select(c => c.Channel)],
            [.. found.Artifacts.Select(a => $"{a.Target}/{a.Region}").Distinct()]
        );
    }

    /// <summary>The view of a revocation's outcome (also of a scheduled one applied when its time came).</summary>
    public static RevocationView Revocation(
        string image,
        string version,
        string reason,
        RevocationResult result
    )
    {
        ArgumentNullException.ThrowIfNull(result);
        var record = result.Record;
        return new RevocationView(
            image,
            version,
            record is not null ? RevocationStatuses.Revoked
                : result.Scheduled is not null ? RevocationStatuses.Scheduled
                : RevocationStatuses.AlreadyRevoked,
            record?.Reason ?? result.Scheduled?.Reason ?? reason,
            record?.EffectiveAt ?? result.Scheduled?.EffectiveAt,
            [.. (record?.Channels ?? []).Select(m => new ChannelMoveView(m.Channel, m.From, m.To))],
            [
                .. (record?.FlaggedDescendants ?? []).Select(d => new VersionReferenceView(
                    d.Image,
                    d.Version
                )),
            ],
            [
                .. result.Deprecations.Select(d => new DeprecationView(
                    d.Target,
                    d.Outcome.Succeeded,
                    d.Outcome.Detail
                )),
            ]
        )
        {
            Follows =
            [
                .. result.Follows.Select(f => new ChannelFollowView(
                    f.Target,
                    f.Channel,
                    f.Serving,
                    f.Outcome.Succeeded,
                    f.Outcome.Detail
                )),
            ],
        };
    }

    /// <summary>Where each channel of the image's path points, and with <paramref name="history"/> every assignment.</summary>
    /// <summary>
    /// Each channel of the image's path with its version and that version's image per provider and region; with
    /// <paramref name="live"/> each provider is asked what it holds now and differences are flagged as drift.
    /// </summary>
    public async Task<ChannelsView> ChannelsAsync(
        string image,
        bool history,
        bool live,
        CancellationToken cancellationToken = default
    )
    {
        var definition = Definition(LoadDefinitions(), image);
        await using var session = await OpenAsync(cancellationToken);
        var states = await session.Catalog.GetChannelsAsync(image, cancellationToken);
        var versions = new Dictionary<string, IReadOnlyList<ChannelImageView>>(
            StringComparer.Ordinal
        );
        foreach (var number in states.Select(s => s.Version).OfType<string>().Distinct())
        {
            if (
                await session.Catalog.GetVersionAsync(image, number, cancellationToken) is
                { } version
            )
            {
                versions[number] = await ChannelImagesAsync(version, live, cancellationToken);
            }
        }

        IReadOnlyList<AssignmentView>? assignments = history
            ?
            [
                .. (await session.Catalog.GetHistoryAsync(image, null, cancellationToken)).Select(
                    AssignmentView.From
                ),
            ]
            : null;
        return View(definition, session.Policy, states, versions, assignments);
    }

    /// <summary>
    /// <see cref="ChannelsAsync"/> of many images at once, without history or live checks (the dashboard's overview):
    /// the definitions are loaded and the catalog opened once, every channel pointer is read in one query and the
    /// versions they point at in one more (with their artifacts and only their <paramref name="evidenceKinds"/>
    /// evidence, kept in <see cref="ImageChannels.Versions"/>), whatever the number of images. An image without a
    /// definition has the reason <see cref="ChannelsAsync"/> would refuse it with instead of its channels.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, ImageChannels>> ChannelsOfAsync(
        IReadOnlyCollection<string> images,
        IReadOnlyCollection<string> evidenceKinds,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(images);
        var set = LoadDefinitions();
        await using var session = await OpenAsync(cancellationToken);
        var states = (await session.Catalog.GetAllChannelsAsync(cancellationToken)).ToLookup(
            s => s.Image,
            StringComparer.Ordinal
        );
        var pointed = await session.Catalog.GetVersionsAsync(
            [
                .. images.SelectMany(i =>
                    states[i].Select(s => s.Version).OfType<string>().Select(v => (i, v))
                ),
            ],
            evidenceKinds,
            cancellationToken
        );
        var byImage = pointed.ToLookup(v => v.Image, StringComparer.Ordinal);
        var versions = new Dictionary<string, Dictionary<string, IReadOnlyList<ChannelImageView>>>(
            StringComparer.Ordinal
        );
        foreach (var version in pointed)
        {
            if (!versions.TryGetValue(version.Image, out var ofImage))
            {
                ofImage = new(StringComparer.Ordinal);
                versions[version.Image] = ofImage;
            }

            ofImage[version.Version] = await ChannelImagesAsync(version, false, cancellationToken);
        }

        var result = new Dictionary<string, ImageChannels>(StringComparer.Ordinal);
        foreach (var image in images)
        {
            try
            {
                var definition = Definition(set, image);
                result[image] = new ImageChannels(
                    View(
                        definition,
                        session.Policy,
                        [.. states[image]],
                        versions.GetValueOrDefault(image) ?? new(StringComparer.Ordinal),
                        null
                    ),
                    null
                )
                {
                    States = [.. states[image]],
                    Versions = [.. byImage[image]],
                };
            }
            catch (InvalidInputException e)
            {
                result[image] = new ImageChannels(null, e.Message);
            }
        }

        return result;
    }

    // Each channel of the definition's path with where it points and that version's images.
    private static ChannelsView View(
        ImageDefinition definition,
        AccessPolicy policy,
        IReadOnlyList<ChannelState> states,
        Dictionary<string, IReadOnlyList<ChannelImageView>> versions,
        IReadOnlyList<AssignmentView>? assignments
    )
    {
        var channels = definition
            .Channels.Select(channel =>
            {
                var state = states.FirstOrDefault(s => s.Channel == channel);
                return new ChannelView(
                    channel,
                    state?.Version,
                    state?.Since,
                    policy.IsRestricted(channel, definition.Channels)
                )
                {
                    Images =
                        state?.Version is { } number && versions.TryGetValue(number, out var images)
                            ? images
                            : [],
                };
            })
            .ToList();
        return new ChannelsView(definition.Name, channels, assignments);
    }

    private async Task<IReadOnlyList<ChannelImageView>> ChannelImagesAsync(
        ImageVersion version,
        bool live,
        CancellationToken cancellationToken
    )
    {
        var report = live
            ? await LiveReport.CheckAsync(
                version,
                _pipeline.Connected.Distribution,
                cancellationToken
            )
            : null;
        return
        [
            .. version
                .Artifacts.Where(LiveImages.IsProviderImage)
                .Select(a =>
                {
                    var seen = report?.Images.FirstOrDefault(i =>
                        i.Target == a.Target && i.Region == a.Region && i.Id == a.Location
                    );
                    var drift = report?.Drifts.FirstOrDefault(d =>
                        d.Target == a.Target && d.Region == a.Region && d.Id == a.Location
                    );
                    var state =
                        seen is not null ? seen.State.ToString().ToLowerInvariant()
                        : version.Status == VersionStatus.Revoked ? "deprecated"
                        : "published";
                    return new ChannelImageView(
                        a.Target,
                        a.Region,
                        a.Location,
                        state,
                        drift?.Problem
                    );
                }),
        ];
    }

    /// <summary>
    /// Retention: keeps the newest <paramref name="keep"/> versions of each image and every version a channel pointed
    /// at within <paramref name="windowDays"/>; with <paramref name="apply"/> (admins) deletes the rest.
    /// </summary>
    public async Task<RetentionView> CollectGarbageAsync(
        Actor actor,
        int keep,
        int windowDays,
        bool apply,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (windowDays < 0)
        {
            throw new InvalidInputException("--window must be 0 or more days");
        }

        await using var session = await OpenAsync(cancellationToken);
        var plan = await AsForbiddenAsync(
            actor,
            apply ? Role.Admin : Role.Viewer,
            () =>
                session.Services.Retention.CollectGarbageAsync(
                    keep,
                    TimeSpan.FromDays(windowDays),
                    apply,
                    actor,
                    _paths.Data,
                    cancellationToken
                )
        );
        return new RetentionView(
            plan.Applied,
            keep,
            windowDays,
            [
                .. plan.Kept.Select(k => new KeptVersionView(
                    k.Version.Image,
                    k.Version.Version,
                    k.Version.Status,
                    k.Why
                )),
            ],
            [.. plan.Removed.Select(r => new VersionStatusView(r.Image, r.Version, r.Status))],
            plan.Problems
        );
    }

    /// <summary>
    /// The deploy-time gate: each image is admitted when it is an artifact of a recorded version that is built, whose
    /// signed provenance verifies, and that <paramref name="channel"/> (or any channel) points at now. The image's
    /// provider module says how an id names an artifact (a local image: its file, resolved against
    /// <paramref name="workingDirectory"/> and hashed, or sha256:hex).
    /// </summary>
    public async Task<AdmissionView> AdmitAsync(
        IReadOnlyList<PlannedImage> images,
        string? region,
        string? channel,
        string workingDirectory,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(images);
        // Definitions are read once, and only when a channel's path has to be checked.
        var definitions = new Lazy<DefinitionSet>(LoadDefinitions);
        await using var session = await OpenAsync(cancellationToken);
        var decisions = new List<AdmissionDecision>();
        foreach (var image in images)
        {
            decisions.Add(
                await DecideAsync(
                    definitions,
                    session.Catalog,
                    image,
                    region,
                    channel,
                    workingDirectory,
                    cancellationToken
                )
            );
        }

        return new AdmissionView(decisions.All(d => d.Admitted), decisions);
    }

    private async Task<AdmissionDecision> DecideAsync(
        Lazy<DefinitionSet> definitions,
        Catalog catalog,
        PlannedImage image,
        string? region,
        string? channel,
        string workingDirectory,
        CancellationToken cancellationToken
    )
    {
        // The provider says what its ids are: a file (hashed) or a digest for local images, an id for cloud images.
        var module = _pipeline.Providers.Get(image.Provider);
        var query = await module.ResolveImageIdAsync(
            image.ImageId,
            workingDirectory,
            cancellationToken
        );
        // A plan may mix clouds: the region given applies to the images of the cloud whose region it names.
        var owners = await catalog.FindArtifactOwnersAsync(
            image.Provider,
            query.Location,
            query.Sha256,
            region is not null && module.Rules.RegionPattern?.IsMatch(region) == true
                ? region
                : null,
            cancellationToken
        );
        if (owners.Count == 0)
        {
            return Refused(
                image,
                [$"no ImageForge version has a {image.Provider} artifact {image.ImageId}"]
            );
        }

        var reasons = new List<string>();
        foreach (var (name, number) in owners)
        {
            var reference = $"{name}@{number}";
            var version = await catalog.GetVersionAsync(name, number, cancellationToken);
            if (version is null)
            {
                continue;
            }

            var problems = new List<string>();
            if (version.Status != VersionStatus.Built)
            {
                problems.Add($"{reference} is {version.Status.Name()}");
            }

            var channels = await catalog.GetChannelsAsync(name, cancellationToken);
            var serving = channels.Where(c => c.Version == number).Select(c => c.Channel).ToList();
            if (channel is not null)
            {
                var path = Definition(definitions.Value, name).Channels;
                if (!path.Contains(channel))
                {
                    throw new InvalidInputException(
                        $"{name} has no channel '{channel}'; its channels are {string.Join(", ", path)}"
                    );
                }

                if (!serving.Contains(channel))
                {
                    var now = channels.FirstOrDefault(c => c.Channel == channel)?.Version;
                    problems.Add(
                        $"{reference} is not what {channel} points at (it points at {now ?? "nothing"})"
                    );
                }
            }
            else if (serving.Count == 0)
            {
                problems.Add($"{reference} is in no channel now");
            }

            var report = await VersionVerifier.VerifyAsync(
                version,
                null,
                _pipeline.TrustStore(),
                cancellationToken
            );
            if (!report.Ok)
            {
                problems.Add(
                    $"{reference}: provenance does not verify: {string.Join("; ", report.Problems)}"
                );
            }

            if (problems.Count == 0)
            {
                return new AdmissionDecision(
                    image.Address,
                    image.Provider,
                    image.ImageId,
                    true,
                    reference,
                    channel ?? string.Join(", ", serving),
                    []
                );
            }

            reasons.AddRange(problems);
        }

        return Refused(image, reasons);
    }

    private static AdmissionDecision Refused(PlannedImage image, IReadOnlyList<string> reasons) =>
        new(image.Address, image.Provider, image.ImageId, false, null, null, reasons);

    /// <summary>Parses an ISO-8601 time (a revocation's <c>at</c>); <paramref name="name"/> names the input in the error.</summary>
    public static DateTimeOffset ParseTime(string text, string name) =>
        DateTimeOffset.TryParse(
            text,
            CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal,
            out var parsed
        )
            ? parsed
            : throw new InvalidInputException(
                $"{name} {text}: expected an ISO-8601 time such as 2026-12-01T00:00Z"
            );

    /// <summary>Every definition and baseline, loaded once per action.</summary>
    private DefinitionSet LoadDefinitions() => _pipeline.LoadDefinitions();

    // The image's definition (for its channel path); an unknown image is bad input.
    private ImageDefinition Definition(DefinitionSet set, string image) =>
        set.FindImage(image)
        ?? throw new InvalidInputException(
            $"no image definition named '{image}' in {_paths.Content.Definitions}; known: {string.Join(", ", set.Images.Select(i => i.Name))}"
        );

    private Task<PromotionSession> OpenAsync(CancellationToken cancellationToken) =>
        PromotionSession.OpenAsync(_pipeline, RevocationApplied, cancellationToken);

    // The service says "X is viewer and cannot ..." as a refusal; when the actor's role is below what the action takes,
    // it is the role that refused (HTTP 403), whatever else would have.
    private static async Task<T> AsForbiddenAsync<T>(Actor actor, Role needed, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (RefusedException e) when (actor.Role < needed)
        {
            throw new ActionForbiddenException(needed, e.Reasons, e);
        }
    }
}

/// <summary>
/// The actor's role does not allow the action (exit code 1 on the command line, HTTP 403 from the API). Nothing was
/// changed.
/// </summary>
public sealed class ActionForbiddenException : ImageForgeException
{
    /// <summary>Creates it with the role the action takes and every reason.</summary>
    public ActionForbiddenException(
        Role requiredRole,
        IReadOnlyList<string> reasons,
        Exception? inner = null
    )
        : base(string.Join(Environment.NewLine, reasons), inner)
    {
        RequiredRole = requiredRole;
        Reasons = reasons;
    }

    /// <summary>The lowest role that may do it (the API's <c>required_role</c>).</summary>
    public Role RequiredRole { get; }

    /// <summary>Why, one line each.</summary>
    public IReadOnlyList<string> Reasons { get; }

    /// <inheritdoc />
    public override int ExitCode => 1;
}
