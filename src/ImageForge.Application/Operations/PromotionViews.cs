using System.Text.Json.Serialization;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;

namespace ImageForge.Application.Operations;

/// <summary>The values of <see cref="PromotionView.Status"/>.</summary>
public static class PromotionStatuses
{
    /// <summary>A rule refused it; nothing changed.</summary>
    public const string Refused = "refused";

    /// <summary>The channel already pointed at the version; nothing to do.</summary>
    public const string AlreadyCurrent = "already_current";

    /// <summary>Every step succeeded and the channel moved.</summary>
    public const string Promoted = "promoted";

    /// <summary>A step failed; the channel did not move (resume retries the failed steps).</summary>
    public const string Failed = "failed";
}

/// <summary>What a promotion did (the CLI's <c>--output json</c> and the API's body are this one shape).</summary>
/// <param name="Image">The image.</param>
/// <param name="Version">The version promoted.</param>
/// <param name="Channel">The target channel.</param>
/// <param name="Status">refused, already_current, promoted or failed (<see cref="PromotionStatuses"/>).</param>
/// <param name="PromotionId">The recorded promotion, null when refused or already current.</param>
/// <param name="PreviousVersion">What the channel pointed at before a successful promotion (null: empty).</param>
/// <param name="Steps">The distribution steps, in order.</param>
/// <param name="Refusals">Every reason a rule refused the promotion; empty unless refused.</param>
public sealed record PromotionView(
    string Image,
    string Version,
    string Channel,
    string Status,
    long? PromotionId,
    string? PreviousVersion,
    IReadOnlyList<StepView> Steps,
    IReadOnlyList<string> Refusals
)
{
    /// <summary>
    /// When a refusal is about the actor's role (HTTP 403 rather than 409), the lowest role that would have been
    /// allowed; null otherwise.
    /// </summary>
    [JsonIgnore]
    public Role? RequiredRole { get; init; }

    /// <summary>True when a refusal is about the actor's role.</summary>
    [JsonIgnore]
    public bool Forbidden => RequiredRole is not null;

    /// <summary>The promotion rules an admin skipped (previous-channel, soak, approvals, rescan).</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];

    internal static PromotionView From(
        string image,
        string version,
        string channel,
        PromotionResult result
    ) =>
        new(
            image,
            version,
            channel,
            result.Refusals.Count > 0 ? PromotionStatuses.Refused
                : result.AlreadyCurrent ? PromotionStatuses.AlreadyCurrent
                : result.Assignment is not null ? PromotionStatuses.Promoted
                : PromotionStatuses.Failed,
            result.Promotion?.Id,
            result.Assignment?.PreviousVersion,
            [
                .. result.Steps.Select(s => new StepView(
                    s.Step.Target,
                    s.Step.Region,
                    s.Step.Status.ToString().ToLowerInvariant(),
                    s.Step.Attempts,
                    s.Step.Detail,
                    s.RanNow
                )),
            ],
            result.Refusals
        )
        {
            Skipped = result.Skipped,
        };
}

/// <summary>One distribution step of a promotion.</summary>
/// <param name="Target">The provider (local, aws, ...).</param>
/// <param name="Region">The provider's region.</param>
/// <param name="Status">pending, succeeded or failed.</param>
/// <param name="Attempts">Attempts so far.</param>
/// <param name="Detail">What the provider said last.</param>
/// <param name="RanNow">False when the step had succeeded before (a resumed promotion).</param>
public sealed record StepView(
    string Target,
    string Region,
    string Status,
    int Attempts,
    string? Detail,
    bool RanNow
);

/// <summary>An approval as recorded, with the number of approvals the version now has for the channel.</summary>
public sealed record ApprovalView(
    string Image,
    string Version,
    string Channel,
    string Actor,
    string Role,
    DateTimeOffset At,
    string? Reason,
    int Approvals
);

/// <summary>A rejection of a version for a channel as recorded (<c>imageforge reject</c>, <c>POST .../reject</c>).</summary>
public sealed record RejectionView(
    string Image,
    string Version,
    string Channel,
    string Actor,
    string Role,
    DateTimeOffset At,
    string Reason
)
{
    /// <summary>The view of a recorded rejection.</summary>
    public static RejectionView From(Rejection rejection)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        return new(
            rejection.Image,
            rejection.Version,
            rejection.Channel,
            rejection.Actor,
            rejection.Role,
            rejection.At,
            rejection.Reason
        );
    }
}

/// <summary>
/// One pending promotion of the approvals queue: the version that would enter <paramref name="Channel"/> (the one in
/// <paramref name="From"/>, the channel before it, that is not in it already and not rejected for it), its gate
/// decision, its approvals against the channel's rule and who requested it.
/// </summary>
/// <param name="Image">The image.</param>
/// <param name="Channel">The channel whose rule asks approvals.</param>
/// <param name="From">The channel before it, where the version is now.</param>
/// <param name="Version">The version.</param>
/// <param name="Gate">pass, warn or fail; null when no gate decision is recorded or it is unreadable.</param>
/// <param name="GateReasons">The decision's reasons that did not pass, or why it cannot be read.</param>
/// <param name="Approvers">Who approved it for the channel so far.</param>
/// <param name="Needed">How many approvals the channel's rule asks.</param>
/// <param name="Requester">Who requested the version's build (null when the build is no longer recorded).</param>
/// <param name="FourEyes">Whether the requester is barred from approving it.</param>
/// <param name="Restricted">Whether the channel is restricted to release managers.</param>
public sealed record PendingApprovalView(
    string Image,
    string Channel,
    string From,
    string Version,
    string? Gate,
    IReadOnlyList<string> GateReasons,
    IReadOnlyList<string> Approvers,
    int Needed,
    string? Requester,
    bool FourEyes,
    bool Restricted
);

/// <summary>One move of a channel pointer (rollback's result, a channel's history).</summary>
/// <param name="Image">The image.</param>
/// <param name="Channel">The channel moved.</param>
/// <param name="Version">Where it points now; null when it was left empty.</param>
/// <param name="PreviousVersion">Where it pointed before; null when it was empty.</param>
/// <param name="Action">promote, rollback or revoke.</param>
/// <param name="Actor">Who moved it.</param>
/// <param name="Reason">Why, when given.</param>
/// <param name="At">When.</param>
public sealed record AssignmentView(
    string Image,
    string Channel,
    string? Version,
    string? PreviousVersion,
    string Action,
    string Actor,
    string? Reason,
    DateTimeOffset At
)
{
    internal static AssignmentView From(ChannelAssignment a) =>
        new(a.Image, a.Channel, a.Version, a.PreviousVersion, a.Action, a.Actor, a.Reason, a.At);
}

/// <summary>The values of <see cref="RevocationView.Status"/>.</summary>
public static class RevocationStatuses
{
    /// <summary>Revoked now.</summary>
    public const string Revoked = "revoked";

    /// <summary>Recorded; takes effect at <see cref="RevocationView.EffectiveAt"/>.</summary>
    public const string Scheduled = "scheduled";

    /// <summary>It was revoked before; the deprecation steps ran again.</summary>
    public const string AlreadyRevoked = "already_revoked";
}

/// <summary>What a revocation did.</summary>
/// <param name="Image">The image.</param>
/// <param name="Version">The version revoked.</param>
/// <param name="Status">revoked, scheduled or already_revoked (<see cref="RevocationStatuses"/>).</param>
/// <param name="Reason">Why.</param>
/// <param name="EffectiveAt">When it took (or takes) effect; null for a version revoked before.</param>
/// <param name="Channels">Channels that pointed at it: where each went (to null: left empty).</param>
/// <param name="Flagged">Versions built on it, now flagged parent-revoked.</param>
/// <param name="Deprecations">Each provider's deprecation step.</param>
public sealed record RevocationView(
    string Image,
    string Version,
    string Status,
    string Reason,
    DateTimeOffset? EffectiveAt,
    IReadOnlyList<ChannelMoveView> Channels,
    IReadOnlyList<VersionReferenceView> Flagged,
    IReadOnlyList<DeprecationView> Deprecations
)
{
    /// <summary>
    /// Each provider following a channel the revocation moved back to an earlier version (its parameter, family or
    /// gallery latest), before the deprecation steps.
    /// </summary>
    public IReadOnlyList<ChannelFollowView> Follows { get; init; } = [];

    /// <summary>True when a provider's step failed, following a channel or deprecating (rerunning the revoke retries it).</summary>
    [JsonIgnore]
    public bool DeprecationFailed =>
        Deprecations.Any(d => !d.Succeeded) || Follows.Any(f => !f.Succeeded);
}

/// <summary>
/// A provider following a channel a revocation moved back: the channel now serves <paramref name="Serving"/> (null:
/// the revocation left it empty).
/// </summary>
public sealed record ChannelFollowView(
    string Target,
    string Channel,
    string? Serving,
    bool Succeeded,
    string Detail
);

/// <summary>What a revocation would hit, shown before it is confirmed.</summary>
/// <param name="Image">The image.</param>
/// <param name="Version">The version that would be revoked.</param>
/// <param name="Status">Its status now.</param>
/// <param name="Descendants">Versions built on it (they would be flagged).</param>
/// <param name="Channels">Channels pointing at it now (they would fall back).</param>
/// <param name="Targets">Its images' places (target/region), which would be deprecated.</param>
public sealed record RevocationPreviewView(
    string Image,
    string Version,
    VersionStatus Status,
    IReadOnlyList<VersionReferenceView> Descendants,
    IReadOnlyList<string> Channels,
    IReadOnlyList<string> Targets
);

/// <summary>A channel moved off a revoked version.</summary>
public sealed record ChannelMoveView(string Channel, string? From, string? To);

/// <summary>An image and version.</summary>
public sealed record VersionReferenceView(string Image, string Version);

/// <summary>One provider's deprecation step.</summary>
public sealed record DeprecationView(string Target, bool Succeeded, string Detail);

/// <summary>An image's channels in path order, and optionally every assignment, oldest first.</summary>
public sealed record ChannelsView(
    string Image,
    IReadOnlyList<ChannelView> Channels,
    IReadOnlyList<AssignmentView>? History
);

/// <summary>One image's channels, or why it has none to show (its definition is gone), for a page of many images.</summary>
public sealed record ImageChannels(ChannelsView? Channels, string? Problem)
{
    /// <summary>The channels' pointers, each with how it last moved.</summary>
    public IReadOnlyList<ChannelState> States { get; init; } = [];

    /// <summary>The versions the channels point at, with the evidence the caller asked for.</summary>
    public IReadOnlyList<ImageVersion> Versions { get; init; } = [];
}

/// <summary>
/// Where one channel points, since when, whether moving it takes a release manager, and the version's image on each
/// provider and region.
/// </summary>
public sealed record ChannelView(
    string Channel,
    string? Version,
    DateTimeOffset? Since,
    bool Restricted
)
{
    /// <summary>The channel's version at each provider and region (empty when the channel is empty).</summary>
    public IReadOnlyList<ChannelImageView> Images { get; init; } = [];
}

/// <summary>
/// One image a channel serves: provider, region, its id there and its state: <c>published</c> or <c>deprecated</c>
/// from the catalog, or with a live look what the provider says (<c>available</c>, <c>pending</c>,
/// <c>deprecated</c>, <c>failed</c>, <c>missing</c>); <see cref="Drift"/> when that differs from the catalog.
/// </summary>
public sealed record ChannelImageView(
    string Target,
    string Region,
    string Id,
    string State,
    string? Drift
);

/// <summary>What retention keeps and deletes (or would delete, on a dry run).</summary>
public sealed record RetentionView(
    bool Applied,
    int Keep,
    int WindowDays,
    IReadOnlyList<KeptVersionView> Kept,
    IReadOnlyList<VersionStatusView> Removed,
    IReadOnlyList<string> Problems
);

/// <summary>A version retention keeps, and why.</summary>
public sealed record KeptVersionView(
    string Image,
    string Version,
    VersionStatus Status,
    string Why
);

/// <summary>A version and its status.</summary>
public sealed record VersionStatusView(string Image, string Version, VersionStatus Status);

/// <summary>The admission answer for every image asked about.</summary>
public sealed record AdmissionView(bool Admitted, IReadOnlyList<AdmissionDecision> Images);

/// <summary>Whether one image may be deployed, and every reason when not.</summary>
/// <param name="Address">The Terraform resource address, or <c>--image-id</c> for a single image.</param>
/// <param name="Provider">local, aws, azure or gcp.</param>
/// <param name="ImageId">The provider's image id (local: a file path or sha256:hex).</param>
/// <param name="Admitted">True when it is a signed, built version a channel points at.</param>
/// <param name="Version">The admitted <c>image@version</c>.</param>
/// <param name="Channel">The channel (or channels) serving it.</param>
/// <param name="Reasons">Why it was refused.</param>
public sealed record AdmissionDecision(
    string Address,
    string Provider,
    string ImageId,
    bool Admitted,
    string? Version,
    string? Channel,
    IReadOnlyList<string> Reasons
);

/// <summary>A refusal (exit 1 on the command line): one line, and every reason.</summary>
public sealed record RefusalView(string Error, IReadOnlyList<string> Reasons);

/// <summary>The data of the webhook events promotion actions publish.</summary>
public static class PromotionEvents
{
    /// <summary>The <c>revoked</c> event's data: the revocation, who ordered it and with what role.</summary>
    public static object Revoked(RevocationView view, string actor, string role)
    {
        ArgumentNullException.ThrowIfNull(view);
        return new
        {
            image = view.Image,
            version = view.Version,
            reason = view.Reason,
            effective_at = view.EffectiveAt,
            channels = view.Channels,
            actor,
            role,
        };
    }
}
