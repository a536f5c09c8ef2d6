using ImageForge.Application.Access;
using ImageForge.Application.Operations;
using ImageForge.Core.Builds;
using ImageForge.Dashboard.Common;
using ImageForge.Dashboard.Pages;
using ImageForge.Server;
using ImageForge.Server.Api;
using ImageForge.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Dashboard;

/// <summary>
/// The screens that act, each a form post with its antiforgery token: the role is checked first with the API's rule
/// (a viewer's forged post is refused 403 before anything is read), then the API's own operation runs with the
/// token's name and role, so the audit trail and the webhook events are the API's.
/// </summary>
internal static class ActionPages
{
    // A form with no other field binds its antiforgery token, so the endpoint checks it like every other form's.
    internal const string FormToken = "__RequestVerificationToken";

    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapPost("/images/{image}/versions/{version}/promote", PromoteAsync);
        ui.MapPost("/images/{image}/channels/{channel}/rollback", RollbackAsync);
        ui.MapPost("/images/{image}/versions/{version}/revoke", RevokeAsync);
        ui.MapPost("/images/{image}/versions/{version}/anomalies/{id}/ack", AcknowledgeAsync);
        ui.MapPost("/builds", RebuildAsync);
        ui.MapPost("/builds/{id}/cancel", CancelAsync);
    }

    private static async Task<IResult> PromoteAsync(
        string image,
        string version,
        [FromForm(Name = "channel")] string? channel,
        HttpContext http,
        CancellationToken cancellationToken
    )
    {
        if (Refuse(http, ApiRoles.Builder) is { } refused)
        {
            return refused;
        }

        new FieldLimits()
            .Image("image", image)
            .Channel(
                "channel",
                Required(channel, "channel", "the channel to promote into, e.g. dev")
            )
            .ThrowIfAny();
        var actor = PromotionEndpoints.ActorOf(http.User);
        var view = await PromotionEndpoints
            .Operations(http)
            .PromoteAsync(
                actor,
                new PromoteInput(image, version, channel!.Trim(), false, null),
                cancellationToken
            );
        if (view.Status == PromotionStatuses.Refused)
        {
            return ProblemPages.Problem(
                http,
                view.RequiredRole is null
                    ? StatusCodes.Status409Conflict
                    : StatusCodes.Status403Forbidden,
                $"promotion of {image}@{version} to {view.Channel} refused; nothing changed: "
                    + string.Join("; ", view.Refusals)
            );
        }

        if (view.Status == PromotionStatuses.Promoted)
        {
            await PromotionEndpoints.PublishPromotedAsync(http, view, actor, null);
        }

        return Render.Page<Done>(
            http,
            new()
            {
                ["Heading"] =
                    view.Status == PromotionStatuses.Promoted
                        ? $"Promoted {image}@{version} to {view.Channel}"
                        : $"{image}@{version} to {view.Channel}: {view.Status}",
                ["Lines"] = view
                    .Steps.Select(s => $"{s.Target} {s.Region}: {s.Status} {s.Detail}")
                    .ToList(),
                ["Next"] = $"/ui/images/{image}/channels",
            },
            view.Status == PromotionStatuses.Failed
                ? StatusCodes.Status502BadGateway
                : StatusCodes.Status200OK
        );
    }

    private static async Task<IResult> RollbackAsync(
        string image,
        string channel,
        [FromForm(Name = "reason")] string? reason,
        HttpContext http,
        CancellationToken cancellationToken
    )
    {
        if (Refuse(http, ApiRoles.Builder) is { } refused)
        {
            return refused;
        }

        new FieldLimits()
            .Image("image", image)
            .Channel("channel", channel)
            .Reason("reason", reason)
            .ThrowIfAny();
        var actor = PromotionEndpoints.ActorOf(http.User);
        var moved = await PromotionEndpoints
            .Operations(http)
            .RollbackAsync(actor, image, channel, null, Blank(reason), cancellationToken);
        await PromotionEndpoints.PublishRolledBackAsync(http, moved, actor);
        return Render.Page<Done>(
            http,
            new()
            {
                ["Heading"] = $"Rolled {image} {channel} back to {moved.Version ?? "nothing"}",
                ["Lines"] = new List<string> { $"from {moved.PreviousVersion} by {moved.Actor}" },
                ["Next"] = $"/ui/images/{image}/channels",
            }
        );
    }

    private static async Task<IResult> RevokeAsync(
        string image,
        string version,
        [FromForm(Name = "reason")] string? reason,
        HttpContext http,
        CancellationToken cancellationToken
    )
    {
        if (Refuse(http, ApiRoles.ReleaseManager) is { } refused)
        {
            return refused;
        }

        new FieldLimits()
            .Image("image", image)
            .Reason("reason", Required(reason, "reason", "say why the version is revoked"))
            .ThrowIfAny();
        var actor = PromotionEndpoints.ActorOf(http.User);
        var view = await PromotionEndpoints
            .Operations(http)
            .RevokeAsync(actor, image, version, reason!.Trim(), null, cancellationToken);
        if (view.Status == RevocationStatuses.Revoked)
        {
            await PromotionEndpoints.PublishRevokedAsync(http, view, actor.Name, actor.RoleName);
        }

        return Render.Page<Done>(
            http,
            new()
            {
                ["Heading"] = $"Revoked {image}@{version}",
                ["Lines"] = view
                    .Channels.Select(c => $"channel {c.Channel}: {c.From} -> {c.To ?? "empty"}")
                    .Concat(view.Flagged.Select(d => $"flagged {d.Image}@{d.Version}"))
                    .Concat(
                        view.Follows.Select(f =>
                            $"{f.Target}: {(f.Succeeded ? "followed" : "FAILED")} {f.Channel} now serves {f.Serving ?? "nothing (left empty)"}: {f.Detail}"
                        )
                    )
                    .Concat(
                        view.Deprecations.Select(d =>
                            $"{d.Target}: {(d.Succeeded ? "deprecated" : "FAILED")} {d.Detail}"
                        )
                    )
                    .ToList(),
                ["Next"] = $"/ui/images/{image}/versions/{version}",
            },
            view.DeprecationFailed ? StatusCodes.Status502BadGateway : StatusCodes.Status200OK
        );
    }

    // The API's acknowledgement (same checks, same operation, same audit event), then back to the version page.
    private static async Task<IResult> AcknowledgeAsync(
        string image,
        string version,
        string id,
        [FromForm(Name = "reason")] string? reason,
        HttpContext http,
        Catalog catalog,
        CancellationToken cancellationToken
    )
    {
        if (Refuse(http, ApiRoles.ReleaseManager) is { } refused)
        {
            return refused;
        }

        await AnomalyEndpoints.RecordAsync(
            http,
            catalog,
            image,
            version,
            id,
            Required(reason, "reason", "say why the change is accepted"),
            cancellationToken
        );
        return Results.Redirect(
            $"/ui/images/{Uri.EscapeDataString(image)}/versions/{Uri.EscapeDataString(version)}#anomalies",
            false,
            false
        );
    }

    private static async Task<IResult> RebuildAsync(
        [FromForm(Name = "image")] string? image,
        [FromForm(Name = "reason")] string? reason,
        HttpContext http,
        IBuildRequests requests,
        CancellationToken cancellationToken
    )
    {
        if (Refuse(http, ApiRoles.Builder) is { } refused)
        {
            return refused;
        }

        new FieldLimits()
            .Image("image", Required(image, "image", "the image to rebuild"))
            .Reason("reason", Required(reason, "reason", "say why it is rebuilt now"))
            .ThrowIfAny();
        var role = http.User.FindFirst(System.Security.Claims.ClaimTypes.Role)!.Value;
        var queued = await requests.QueueAsync(
            new BuildSubmission(
                image!.Trim(),
                null,
                BuildTrigger.Manual,
                http.User.Identity!.Name!,
                reason!.Trim(),
                null,
                role
            ),
            cancellationToken
        );
        return Results.Redirect(
            $"/ui/builds/{Uri.EscapeDataString(queued.Build.Id)}",
            false,
            false
        );
    }

    private static async Task<IResult> CancelAsync(
        string id,
        [FromForm(Name = FormToken)] string? token,
        HttpContext http,
        ICatalog catalog,
        IBuildRequests requests,
        CancellationToken cancellationToken
    )
    {
        if (Refuse(http, ApiRoles.Builder) is { } refused)
        {
            return refused;
        }

        var build = await BuildEndpoints.FindAsync(catalog, id, cancellationToken);
        var role = http.User.FindFirst(System.Security.Claims.ClaimTypes.Role)!.Value;
        if (
            BuildEndpoints.IsTerminal(build.Status)
            || !await requests.CancelAsync(
                build.Id,
                http.User.Identity!.Name!,
                role,
                cancellationToken
            )
        )
        {
            return ProblemPages.Problem(
                http,
                StatusCodes.Status409Conflict,
                $"build {build.Id} has already ended: nothing to cancel"
            );
        }

        return Results.Redirect($"/ui/builds/{Uri.EscapeDataString(build.Id)}", false, false);
    }

    // The API's role rule, before anything is read or changed.
    internal static IResult? Refuse(HttpContext http, string required)
    {
        var role = http.User.FindFirst(System.Security.Claims.ClaimTypes.Role)?.Value;
        return ApiRoles.Admits(role, required)
            ? null
            : ProblemPages.Problem(
                http,
                StatusCodes.Status403Forbidden,
                $"this needs the role {required} or higher; the token of {http.User.Identity?.Name} has the role {role}; nothing changed"
            );
    }

    internal static string Required(string? value, string field, string what) =>
        string.IsNullOrWhiteSpace(value)
            ? throw new ImageForge.Core.Errors.InvalidInputException($"{field}: required: {what}")
            : value;

    private static string? Blank(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
