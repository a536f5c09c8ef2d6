using ImageForge.Application.Access;
using ImageForge.Dashboard.Common;
using ImageForge.Dashboard.Pages;
using ImageForge.Server.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Dashboard;

/// <summary>
/// The approvals queue (<c>/ui/approvals</c>): every pending promotion into a channel whose rule asks approvals, and
/// a release manager's "Approve" and "Reject" (with a reason) through the API's own operations, so the four-eyes rule,
/// the rejection and the audit trail are the command line's. A four-eyes refusal is a 409 page with its message.
/// </summary>
internal static class ApprovalPages
{
    public const string Path = "/ui/approvals";

    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapGet("/approvals", QueueAsync);
        ui.MapPost("/images/{image}/versions/{version}/approve", ApproveAsync);
        ui.MapPost("/images/{image}/versions/{version}/reject", RejectAsync);
    }

    private static async Task<IResult> QueueAsync(
        HttpContext http,
        CancellationToken cancellationToken
    ) =>
        Render.Page<ApprovalsPage>(
            http,
            new()
            {
                ["Pending"] = await PromotionEndpoints
                    .Operations(http)
                    .PendingApprovalsAsync(cancellationToken),
            }
        );

    private static async Task<IResult> ApproveAsync(
        string image,
        string version,
        [FromForm(Name = "channel")] string? channel,
        [FromForm(Name = "reason")] string? reason,
        HttpContext http,
        CancellationToken cancellationToken
    )
    {
        if (ActionPages.Refuse(http, ApiRoles.ReleaseManager) is { } refused)
        {
            return refused;
        }

        var target = Checked(image, channel, reason);
        var approval = await PromotionEndpoints
            .Operations(http)
            .ApproveAsync(
                PromotionEndpoints.ActorOf(http.User),
                image,
                version,
                target,
                string.IsNullOrWhiteSpace(reason) ? null : reason.Trim(),
                cancellationToken
            );
        return Done(
            http,
            $"Approved {image}@{version} for {target}",
            $"{approval.Approvals} approval(s) now, the newest by {approval.Actor} ({approval.Role})"
        );
    }

    private static async Task<IResult> RejectAsync(
        string image,
        string version,
        [FromForm(Name = "channel")] string? channel,
        [FromForm(Name = "reason")] string? reason,
        HttpContext http,
        CancellationToken cancellationToken
    )
    {
        if (ActionPages.Refuse(http, ApiRoles.ReleaseManager) is { } refused)
        {
            return refused;
        }

        var target = Checked(
            image,
            channel,
            ActionPages.Required(reason, "reason", "say why the version may not enter the channel")
        );
        var rejection = await PromotionEndpoints
            .Operations(http)
            .RejectAsync(
                PromotionEndpoints.ActorOf(http.User),
                image,
                version,
                target,
                reason!.Trim(),
                cancellationToken
            );
        return Done(
            http,
            $"Rejected {image}@{version} for {target}",
            $"by {rejection.Actor} ({rejection.Role}): {rejection.Reason}"
        );
    }

    // The form's fields within the API's limits; the channel, trimmed.
    private static string Checked(string image, string? channel, string? reason)
    {
        new FieldLimits()
            .Image("image", image)
            .Channel(
                "channel",
                ActionPages.Required(channel, "channel", "the channel the decision is for")
            )
            .Reason("reason", reason)
            .ThrowIfAny();
        return channel!.Trim();
    }

    private static RazorComponentResult Done(HttpContext http, string heading, string line) =>
        Render.Page<Done>(
            http,
            new()
            {
                ["Heading"] = heading,
                ["Lines"] = new List<string> { line },
                ["Next"] = Path,
            }
        );
}
