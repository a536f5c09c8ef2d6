using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;

namespace ImageForge.Core.Promotion;

/// <summary>What an actor may do, each role including the ones before it.</summary>
public enum Role
{
    Viewer,
    Builder,
    ReleaseManager,
    Admin,
}

/// <summary>Who acts: the name recorded in the audit trail and the role the roles file gives it.</summary>
public sealed record Actor(string Name, Role Role)
{
    /// <summary>viewer, builder, release-manager, admin.</summary>
    public string RoleName => RoleNames.Of(Role);
}

/// <summary>The text form of roles as written in roles.yaml and the audit trail.</summary>
public static class RoleNames
{
    public static string Of(Role role) =>
        role switch
        {
            Role.Viewer => "viewer",
            Role.Builder => "builder",
            Role.ReleaseManager => "release-manager",
            _ => "admin",
        };

    public static Role? Parse(string text) =>
        text switch
        {
            "viewer" => Role.Viewer,
            "builder" => Role.Builder,
            "release-manager" => Role.ReleaseManager,
            "admin" => Role.Admin,
            _ => null,
        };
}

/// <summary>Where a channel points now; <see cref="Version"/> null when it is empty.</summary>
public sealed record ChannelState(
    string Image,
    string Channel,
    string? Version,
    DateTimeOffset? Since
)
{
    /// <summary>How the pointer last moved (<see cref="AssignmentActions"/>); null when not read.</summary>
    public string? Action { get; init; }

    /// <summary>Where it pointed before that move.</summary>
    public string? PreviousVersion { get; init; }

    /// <summary>The reason given for that move.</summary>
    public string? Reason { get; init; }
}

/// <summary>How a channel assignment came about.</summary>
public static class AssignmentActions
{
    public const string Promote = "promote";
    public const string Rollback = "rollback";
    public const string Revoke = "revoke";
}

/// <summary>One move of a channel pointer; history is every assignment, oldest first.</summary>
public sealed record ChannelAssignment(
    long Id,
    string Image,
    string Channel,
    string? Version,
    string? PreviousVersion,
    string Action,
    string Actor,
    string? Reason,
    DateTimeOffset At
);

/// <summary>A release manager's approval of a version for a channel.</summary>
public sealed record Approval(
    string Image,
    string Version,
    string Channel,
    string Actor,
    string Role,
    DateTimeOffset At,
    string? Reason
);

/// <summary>
/// A release manager's rejection of a version for a channel, with the reason: while it stands the version is not
/// promoted into that channel (docs/promotion.md).
/// </summary>
public sealed record Rejection(
    string Image,
    string Version,
    string Channel,
    string Actor,
    string Role,
    DateTimeOffset At,
    string Reason
)
{
    /// <summary>"rejected for prod by rita (release-manager) at 2026-11-22T10:00:00Z: CVE-2026-1 is exploitable".</summary>
    public string Describe() =>
        $"{Image}@{Version} was rejected for {Channel} by {Actor} ({Role}) at {AuditChain.FormatTime(At)}: {Reason}";
}

/// <summary>A release manager's acknowledgement of one anomaly of a version (docs/anomalies.md).</summary>
public sealed record AnomalyAcknowledgement(
    string Image,
    string Version,
    string AnomalyId,
    string Actor,
    string Role,
    DateTimeOffset At,
    string Reason
);

/// <summary>One step of a distribution plan: the artifacts of one target and region.</summary>
public sealed record DistributionStep(
    string Target,
    string Region,
    IReadOnlyList<Artifact> Artifacts
)
{
    /// <summary>
    /// The definition's target the step publishes for, as the definition reads now (its per-channel options: who a
    /// channel shares with); null when the caller did not give the definition.
    /// </summary>
    public TargetSpec? Spec { get; init; }

    public override string ToString() => $"{Target}/{Region}";
}

/// <summary>Status of one recorded step.</summary>
public enum StepStatus
{
    Pending,
    Succeeded,
    Failed,
}

/// <summary>State of a promotion: open ones (running, failed) hold the channel.</summary>
public enum PromotionState
{
    Running,
    Failed,
    Completed,
    Abandoned,
}

/// <summary>A step as recorded: attempts so far and what the provider said last.</summary>
public sealed record PromotionStep(
    int Position,
    string Target,
    string Region,
    StepStatus Status,
    int Attempts,
    string? Detail,
    DateTimeOffset? UpdatedAt
);

/// <summary>A promotion as recorded, with its plan's steps in order.</summary>
public sealed record PromotionRecord(
    long Id,
    string Image,
    string Version,
    string Channel,
    PromotionState State,
    string Actor,
    string? SkipReason,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    IReadOnlyList<PromotionStep> Steps
);

/// <summary>What a provider's step did: expected failures are values, with a detail that says what to do.</summary>
public sealed record StepOutcome(bool Succeeded, string Detail)
{
    public static StepOutcome Done(string detail) => new(true, detail);

    public static StepOutcome Failed(string detail) => new(false, detail);

    /// <summary>
    /// Runs <paramref name="run"/> for each item in order: the first failure is the outcome (what was done stays done,
    /// for a retry), else done with every detail joined, or <paramref name="none"/> when there was no item.
    /// </summary>
    public static async Task<StepOutcome> EachAsync<T>(
        IEnumerable<T> items,
        Func<T, Task<StepOutcome>> run,
        string none
    )
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(run);
        var done = new List<string>();
        foreach (var item in items)
        {
            var outcome = await run(item);
            if (!outcome.Succeeded)
            {
                return outcome;
            }

            done.Add(outcome.Detail);
        }

        return Done(done.Count == 0 ? none : string.Join("; ", done));
    }
}

/// <summary>A channel moved by a revocation: from the revoked version to the last good one, or to nothing.</summary>
public sealed record ChannelMove(string Channel, string? From, string? To);

/// <summary>What a revocation changed in the catalog, in one transaction.</summary>
public sealed record RevocationRecord(
    string Image,
    string Version,
    string Reason,
    DateTimeOffset EffectiveAt,
    IReadOnlyList<ChannelMove> Channels,
    IReadOnlyList<(string Image, string Version)> FlaggedDescendants
);

/// <summary>A revocation waiting for its time.</summary>
/// <summary>
/// What claiming a due scheduled revocation did: <see cref="Claimed"/> when this applier marked it applied (then
/// <see cref="Record"/> is the revocation it made, or null when the version was no longer built or rejected).
/// </summary>
public sealed record ScheduledRevocationClaim(bool Claimed, RevocationRecord? Record)
{
    /// <summary>Another applier (a worker, a promotion command) applied it first: nothing was changed.</summary>
    public static ScheduledRevocationClaim AppliedElsewhere { get; } = new(false, null);

    /// <summary>Claimed, with nothing to revoke (revoked meanwhile, deleted).</summary>
    public static ScheduledRevocationClaim NothingToRevoke { get; } = new(true, null);
}

public sealed record ScheduledRevocation(
    long Id,
    string Image,
    string Version,
    string Reason,
    DateTimeOffset EffectiveAt,
    string Actor,
    string Role
);

/// <summary>A version's ancestry: the base it was built from, or the ImageForge version it was built on.</summary>
public sealed record Lineage(
    string Image,
    string Version,
    string? BaseImage,
    string? ParentImage,
    string? ParentVersion
);

/// <summary>A warning attached to a version, e.g. that its parent was revoked.</summary>
public sealed record VersionFlag(
    string Image,
    string Version,
    string Flag,
    string Reason,
    DateTimeOffset At
);

/// <summary>What retention needs of one version.</summary>
public sealed record RetentionCandidate(
    string Image,
    string Version,
    VersionStatus Status,
    DateTimeOffset CreatedAt
);
