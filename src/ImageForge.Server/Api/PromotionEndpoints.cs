using System.Security.Claims;
using ImageForge.Application;
using ImageForge.Application.Access;
using ImageForge.Application.Operations;
using ImageForge.Core.Admission;
using ImageForge.Core.Inputs;
using ImageForge.Core.Promotion;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ImageForge.Server.Api;

/// <summary>Body of <c>POST /api/images/{image}/versions/{version}/promote</c>.</summary>
/// <param name="Channel">The channel to promote into.</param>
/// <param name="SkipReason">Why the rules in <c>skip</c> are skipped (alone: skip the previous channel).</param>
/// <param name="Resume">Retry only the failed steps of the unfinished promotion.</param>
/// <param name="Skip">Admins: the rules skipped (previous-channel, soak, approvals, rescan) the baseline allows.</param>
internal sealed record PromoteBody(
    string? Channel,
    string? SkipReason,
    bool? Resume,
    IReadOnlyList<string>? Skip = null
);

/// <summary>Body of <c>POST /api/images/{image}/versions/{version}/approve</c>.</summary>
internal sealed record ApproveBody(string? Channel, string? Reason);

/// <summary>Body of <c>POST /api/images/{image}/versions/{version}/reject</c>.</summary>
internal sealed record RejectBody(string? Channel, string? Reason);

/// <summary>Body of <c>POST /api/images/{image}/channels/{channel}/rollback</c>.</summary>
internal sealed record RollbackBody(string? To, string? Reason);

/// <summary>Body of <c>POST /api/images/{image}/versions/{version}/revoke</c>; <c>at</c> is ISO-8601.</summary>
internal sealed record RevokeBody(string? Reason, string? At);

/// <summary>Body of <c>POST /api/admit</c>.</summary>
internal sealed record AdmitBody(
    string? Provider,
    string? ImageId,
    string? Region,
    string? Channel
);

/// <summary>
/// Promotion, approval, rollback, revocation, channels and admission under /api: the same operations as the
/// command line (<see cref="PromotionOperations"/>), acted by the token's name with the token's role, audited the
/// same way. A rule's refusal is 409 with <c>reasons</c>, a refusal for the token's role 403; after a promotion,
/// rollback or revocation the webhook event is published.
/// </summary>
internal static class PromotionEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var images = api.MapGroup("/images").WithTags("promotion");

        images
            .MapPost("/{image}/versions/{version}/promote", PromoteAsync)
            .WithName("PromoteVersion")
            .WithSummary("Promote a version into a channel")
            .WithDescription(
                "Checks every precondition (built, gate pass or warn, a verifying signature, the previous channel, "
                    + "soak time, approvals, a fresh re-scan when the channel asks for one), publishes one step per "
                    + "target and region, and moves the channel when all succeeded. The same role rules as the "
                    + "command line: a builder may promote into an unrestricted channel, a restricted channel takes "
                    + "release-manager, skipping a channel (skip_reason) takes admin. 502 with the steps when a step "
                    + "failed (the channel did not move; resume: true retries only the failed steps)."
            )
            .RequireAuthorization(ApiRoles.Builder)
            .Produces<PromotionView>(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict);

        images
            .MapPost("/{image}/versions/{version}/approve", ApproveAsync)
            .WithName("ApproveVersion")
            .WithSummary("Approve a version for a channel")
            .WithDescription(
                "Counted by the channel's approvals rule; approving twice counts once. Refused (409) while a "
                    + "rejection of the version for the channel stands, and for the version's requester when the "
                    + "channel's rule asks four eyes."
            )
            .RequireAuthorization(ApiRoles.ReleaseManager)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict);

        images
            .MapPost("/{image}/versions/{version}/reject", RejectAsync)
            .WithName("RejectVersion")
            .WithSummary("Reject a version for a channel, with a reason")
            .WithDescription(
                "While the rejection stands, promoting the version into the channel is refused (409) naming who "
                    + "rejected it and why, and approving it for the channel is refused. Rejecting again replaces "
                    + "the reason. Audited as reject-promotion."
            )
            .RequireAuthorization(ApiRoles.ReleaseManager)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict);

        images
            .MapPost("/{image}/channels/{channel}/rollback", RollbackAsync)
            .WithName("RollbackChannel")
            .WithSummary("Move a channel back to its previous good version")
            .WithDescription(
                "In one step, to the version the channel had before the current one (skipping revoked and "
                    + "deleted ones), or to 'to', which must have been in the channel and still be built. A builder "
                    + "may roll back an unrestricted channel; a restricted one takes release-manager."
            )
            .RequireAuthorization(ApiRoles.Builder)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict);

        images
            .MapPost("/{image}/versions/{version}/revoke", RevokeAsync)
            .WithName("RevokeVersion")
            .WithSummary("Revoke a version, now or at a given time")
            .WithDescription(
                "Channels pointing at it fall back to their last good version (or are left empty), versions "
                    + "built on it are flagged, providers deprecate it. With 'at' in the future the revocation is "
                    + "scheduled (status scheduled). 502 when a provider step (following a moved channel, or deprecating) failed: the version is revoked; "
                    + "revoking again retries the step."
            )
            .RequireAuthorization(ApiRoles.ReleaseManager)
            .Produces<RevocationView>(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict);

        images
            .MapGet("/{image}/channels", ChannelsAsync)
            .WithName("GetChannels")
            .WithSummary(
                "Where each channel of an image points, its image per provider and region, and optionally every assignment"
            )
            .WithDescription(
                "With live=true each provider is asked what it holds now; an image missing, deprecated or tagged "
                    + "otherwise than the catalog says carries its drift."
            )
            .ProducesProblem(StatusCodes.Status400BadRequest);

        api.MapPost("/admit", AdmitAsync)
            .WithTags("promotion")
            .WithName("Admit")
            .WithSummary("May this image be deployed? Signed, not revoked, and in the channel")
            .WithDescription(
                "Answers 200 either way: 'admitted' says whether the image is an artifact of a built version whose "
                    + "signed provenance verifies and that the channel (or any channel) points at now; 'reasons' "
                    + "says why not. A local image is named by an absolute file path or sha256:<hex>."
            )
            .ProducesValidationProblem();
    }

    private static async Task<
        Results<
            Ok<PromotionView>,
            JsonHttpResult<PromotionView>,
            ProblemHttpResult,
            ValidationProblem
        >
    > PromoteAsync(
        string image,
        string version,
        PromoteBody? body,
        HttpContext http,
        CancellationToken cancellationToken
    )
    {
        if (string.IsNullOrWhiteSpace(body?.Channel))
        {
            return Required("channel", "the channel to promote into, e.g. dev");
        }

        Names(image, version)
            .Channel("channel", body.Channel)
            .Reason("skip_reason", body.SkipReason)
            .ThrowIfAny();
        var actor = ActorOf(http.User);
        var view = await Operations(http)
            .PromoteAsync(
                actor,
                new PromoteInput(
                    image,
                    version,
                    body.Channel.Trim(),
                    body.Resume ?? false,
                    Blank(body.SkipReason)
                )
                {
                    Skip = [.. (body.Skip ?? []).Select(s => s.Trim())],
                },
                cancellationToken
            );
        switch (view.Status)
        {
            case PromotionStatuses.Refused:
                return Refused(
                    view.RequiredRole,
                    $"promotion of {image}@{version} to {view.Channel} refused; nothing changed",
                    view.Refusals
                );
            case PromotionStatuses.Failed:
                return TypedResults.Json(view, statusCode: StatusCodes.Status502BadGateway);
            case PromotionStatuses.Promoted:
                await PublishPromotedAsync(http, view, actor, Blank(body.SkipReason));
                break;
        }

        return TypedResults.Ok(view);
    }

    private static Task<
        Results<Ok<ApprovalView>, ProblemHttpResult, ValidationProblem>
    > ApproveAsync(
        string image,
        string version,
        ApproveBody? body,
        HttpContext http,
        CancellationToken cancellationToken
    ) =>
        DecideAsync(
            image,
            version,
            (body?.Channel, "the channel the approval is for, e.g. prod"),
            (body?.Reason, null),
            http,
            (operations, actor, channel, reason) =>
                operations.ApproveAsync(actor, image, version, channel, reason, cancellationToken)
        );

    private static Task<
        Results<Ok<RejectionView>, ProblemHttpResult, ValidationProblem>
    > RejectAsync(
        string image,
        string version,
        RejectBody? body,
        HttpContext http,
        CancellationToken cancellationToken
    ) =>
        DecideAsync(
            image,
            version,
            (body?.Channel, "the channel the rejection is for, e.g. prod"),
            (body?.Reason, "say why the version may not enter the channel"),
            http,
            (operations, actor, channel, reason) =>
                operations.RejectAsync(actor, image, version, channel, reason!, cancellationToken)
        );

    // A release manager's decision on a version for a channel (approve, reject): the channel is required, the reason
    // too when the decision says what it is for; a role below the decision's is 403.
    private static async Task<Results<Ok<T>, ProblemHttpResult, ValidationProblem>> DecideAsync<T>(
        string image,
        string version,
        (string? Value, string What) channel,
        (string? Value, string? WhatWhenRequired) reason,
        HttpContext http,
        Func<PromotionOperations, Actor, string, string?, Task<T>> decide
    )
    {
        if (string.IsNullOrWhiteSpace(channel.Value))
        {
            return Required("channel", channel.What);
        }

        if (reason.WhatWhenRequired is { } what && string.IsNullOrWhiteSpace(reason.Value))
        {
            return Required("reason", what);
        }

        Names(image, version)
            .Channel("channel", channel.Value)
            .Reason("reason", reason.Value)
            .ThrowIfAny();

        try
        {
            return TypedResults.Ok(
                await decide(
                    Operations(http),
                    ActorOf(http.User),
                    channel.Value.Trim(),
                    Blank(reason.Value)
                )
            );
        }
        catch (ActionForbiddenException e)
        {
            return Refused(e.RequiredRole, e.Message, e.Reasons);
        }
    }

    private static async Task<Results<Ok<AssignmentView>, ProblemHttpResult>> RollbackAsync(
        string image,
        string channel,
        RollbackBody? body,
        HttpContext http,
        CancellationToken cancellationToken
    )
    {
        new FieldLimits()
            .Image("image", image)
            .Channel("channel", channel)
            .Text("to", body?.To, InputLimits.MaxShortTextLength)
            .Reason("reason", body?.Reason)
            .ThrowIfAny();
        var actor = ActorOf(http.User);
        AssignmentView moved;
        try
        {
            moved = await Operations(http)
                .RollbackAsync(
                    actor,
                    image,
                    channel,
                    Blank(body?.To),
                    Blank(body?.Reason),
                    cancellationToken
                );
        }
        catch (ActionForbiddenException e)
        {
            return Refused(e.RequiredRole, e.Message, e.Reasons);
        }

        await PublishRolledBackAsync(http, moved, actor);
        return TypedResults.Ok(moved);
    }

    private static async Task<
        Results<
            Ok<RevocationView>,
            JsonHttpResult<RevocationView>,
            ProblemHttpResult,
            ValidationProblem
        >
    > RevokeAsync(
        string image,
        string version,
        RevokeBody? body,
        HttpContext http,
        CancellationToken cancellationToken
    )
    {
        if (string.IsNullOrWhiteSpace(body?.Reason))
        {
            return Required("reason", "say why the version is revoked");
        }

        Names(image, version)
            .Reason("reason", body.Reason)
            .Text("at", body.At, InputLimits.MaxShortTextLength)
            .ThrowIfAny();

        var at = Blank(body.At) is { } text
            ? PromotionOperations.ParseTime(text, "at")
            : (DateTimeOffset?)null;
        var actor = ActorOf(http.User);
        RevocationView view;
        try
        {
            view = await Operations(http)
                .RevokeAsync(actor, image, version, body.Reason.Trim(), at, cancellationToken);
        }
        catch (ActionForbiddenException e)
        {
            return Refused(e.RequiredRole, e.Message, e.Reasons);
        }

        if (view.Status == RevocationStatuses.Revoked)
        {
            await PublishRevokedAsync(http, view, actor.Name, actor.RoleName);
        }

        return view.DeprecationFailed
            ? TypedResults.Json(view, statusCode: StatusCodes.Status502BadGateway)
            : TypedResults.Ok(view);
    }

    private static async Task<Ok<ChannelsView>> ChannelsAsync(
        string image,
        HttpContext http,
        CancellationToken cancellationToken,
        bool history = false,
        bool live = false
    ) =>
        TypedResults.Ok(
            await Operations(http).ChannelsAsync(image, history, live, cancellationToken)
        );

    private static async Task<Results<Ok<AdmissionView>, ValidationProblem>> AdmitAsync(
        AdmitBody? body,
        HttpContext http,
        CancellationToken cancellationToken
    )
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var providers = http.RequestServices.GetRequiredService<Pipeline>().Providers;
        if (body?.Provider is null || providers.Find(body.Provider.Trim()) is null)
        {
            errors["provider"] = [$"required: one of {string.Join(", ", providers.Names)}"];
        }

        if (string.IsNullOrWhiteSpace(body?.ImageId))
        {
            errors["image_id"] =
            [
                "required: the provider's image id (AMI id, gallery image version id, GCP image); local: an absolute file path or sha256:<hex>",
            ];
        }

        if (errors.Count > 0 || body?.Provider is null || body.ImageId is null)
        {
            return TypedResults.ValidationProblem(errors);
        }

        new FieldLimits()
            .Text("image_id", body.ImageId, InputLimits.MaxImageIdLength)
            .Text("region", body.Region, InputLimits.MaxNameLength)
            .Channel("channel", Blank(body.Channel))
            .ThrowIfAny();

        var paths = http.RequestServices.GetRequiredService<HostPaths>();
        return TypedResults.Ok(
            await Operations(http)
                .AdmitAsync(
                    [new PlannedImage("image_id", body.Provider.Trim(), body.ImageId.Trim())],
                    Blank(body.Region),
                    Blank(body.Channel),
                    paths.Data.Root,
                    cancellationToken
                )
        );
    }

    // One set of operations per request, over the worker's content and data; a scheduled revocation an action applies
    // because its time came is published like any other.
    internal static PromotionOperations Operations(HttpContext http)
    {
        var services = http.RequestServices;
        return new PromotionOperations(services.GetRequiredService<Pipeline>())
        {
            RevocationApplied = (applied, _) =>
                applied.Scheduled is { } s && applied.Record is not null
                    ? PublishRevokedAsync(
                        http,
                        PromotionOperations.Revocation(s.Image, s.Version, s.Reason, applied),
                        s.Actor,
                        s.Role
                    )
                    : Task.CompletedTask,
        };
    }

    // What a promotion published (the API and the dashboard publish the same event).
    internal static Task PublishPromotedAsync(
        HttpContext http,
        PromotionView view,
        Actor actor,
        string? skipReason
    ) =>
        Events(http)
            .PublishAsync(
                WorkerEventTypes.Promoted,
                new
                {
                    image = view.Image,
                    version = view.Version,
                    channel = view.Channel,
                    previous_version = view.PreviousVersion,
                    promotion_id = view.PromotionId,
                    skip_reason = skipReason,
                    skipped = view.Skipped,
                    actor = actor.Name,
                    role = actor.RoleName,
                    // Per target (cloud) and region: what each step did, and whether it ran now.
                    steps = view.Steps,
                },
                CancellationToken.None
            );

    // What a rollback published.
    internal static Task PublishRolledBackAsync(
        HttpContext http,
        AssignmentView moved,
        Actor actor
    ) =>
        Events(http)
            .PublishAsync(
                WorkerEventTypes.RolledBack,
                new
                {
                    image = moved.Image,
                    version = moved.Version,
                    channel = moved.Channel,
                    previous_version = moved.PreviousVersion,
                    reason = moved.Reason,
                    actor = actor.Name,
                    role = actor.RoleName,
                },
                CancellationToken.None
            );

    internal static Task PublishRevokedAsync(
        HttpContext http,
        RevocationView view,
        string actor,
        string role
    ) =>
        Events(http)
            .PublishAsync(
                WorkerEventTypes.Revoked,
                PromotionEvents.Revoked(view, actor, role),
                // The revocation happened: its event is recorded even when the client has gone away.
                CancellationToken.None
            );

    private static IWorkerEvents Events(HttpContext http) =>
        http.RequestServices.GetRequiredService<IWorkerEvents>();

    // The token's name and role (the authorization policy has already checked the role is a known one).
    internal static Actor ActorOf(ClaimsPrincipal user)
    {
        var name =
            user.Identity?.Name
            ?? throw new InvalidOperationException("an authorized request without a token name");
        var role =
            RoleNames.Parse(user.FindFirst(ClaimTypes.Role)?.Value ?? "")
            ?? throw new InvalidOperationException($"the token of {name} has no known role");
        return new Actor(name, role);
    }

    // A refusal for the actor's role is 403 naming the role that may (required_role, as the authorization policy's
    // own 403 does); one of the rules is 409.
    internal static ProblemHttpResult Refused(
        Role? requiredRole,
        string detail,
        IReadOnlyList<string> reasons
    )
    {
        var extensions = new Dictionary<string, object?> { ["reasons"] = reasons };
        if (requiredRole is { } role)
        {
            extensions["required_role"] = RoleNames.Of(role);
        }

        return TypedResults.Problem(
            detail: detail,
            statusCode: requiredRole is null
                ? StatusCodes.Status409Conflict
                : StatusCodes.Status403Forbidden,
            extensions: extensions
        );
    }

    // The image and version a path names, checked like the body's fields.
    internal static FieldLimits Names(string image, string version) =>
        new FieldLimits()
            .Image("image", image)
            .Text("version", version, InputLimits.MaxShortTextLength);

    internal static ValidationProblem Required(string field, string what) =>
        TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [$"required: {what}"] }
        );

    private static string? Blank(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
