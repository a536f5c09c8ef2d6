using ImageForge.Application.Access;
using ImageForge.Application.Operations;
using ImageForge.Dashboard.Common;
using ImageForge.Dashboard.Pages;
using ImageForge.Server.Api;
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
    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapPost("/images/{image}/versions/{version}/promote", PromoteAsync);
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
}
