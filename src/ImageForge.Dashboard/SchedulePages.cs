using ImageForge.Application;
using ImageForge.Application.Access;
using ImageForge.Application.Views;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using ImageForge.Dashboard.Common;
using ImageForge.Dashboard.Pages;
using ImageForge.Server.Api;
using ImageForge.Server.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Dashboard;

/// <summary>
/// The schedules: what <c>GET /api/schedules</c> lists (cron, next firing, last firing and its reason), and "Run now"
/// through the API's own firing of <c>POST /api/schedules/{image}/run</c>, audited with the requester's reason.
/// </summary>
internal static class SchedulePages
{
    // How many of an image's newest builds are searched for its last skipped firing.
    private const int SkipLookBack = 200;

    internal static string SkipKey(string image, string target) => $"{image}/{target}";

    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapGet("/schedules", ListAsync);
        ui.MapPost("/schedules/{image}/run", RunAsync);
    }

    private static async Task<IResult> ListAsync(
        HttpContext http,
        Pipeline pipeline,
        IScheduleLedger ledger,
        ICatalog catalog,
        TimeProvider time,
        CancellationToken cancellationToken
    )
    {
        var schedules = await WorkerEndpoints.SchedulesAsync(
            pipeline,
            ledger,
            time,
            cancellationToken
        );
        // The ledger keeps each schedule's newest firing; an earlier skip is the skipped build it recorded.
        var skips = new Dictionary<string, BuildView>(StringComparer.Ordinal);
        foreach (var image in schedules.Select(s => s.Image).Distinct(StringComparer.Ordinal))
        {
            foreach (
                var build in (await catalog.ListBuildsAsync(image, SkipLookBack, cancellationToken))
                    .Where(b =>
                        b.Status == BuildStatus.Skipped && b.Trigger == BuildTrigger.Schedule
                    )
                    .OrderByDescending(b => b.StartedAt)
            )
            {
                skips.TryAdd(SkipKey(build.Image, build.Target), BuildView.From(build));
            }
        }

        return Render.Page<SchedulesPage>(
            http,
            new() { ["Schedules"] = schedules, ["LastSkips"] = skips }
        );
    }

    private static async Task<IResult> RunAsync(
        string image,
        [FromForm(Name = "reason")] string? reason,
        [FromForm(Name = "force")] string? force,
        HttpContext http,
        ScheduledBuilds schedules,
        Pipeline pipeline,
        IAuditLog audit,
        TimeProvider time,
        CancellationToken cancellationToken
    )
    {
        if (ActionPages.Refuse(http, ApiRoles.Builder) is { } refused)
        {
            return refused;
        }

        new FieldLimits()
            .Image("image", image)
            .Reason(
                "reason",
                ActionPages.Required(reason, "reason", "say why the schedule runs now")
            )
            .ThrowIfAny();
        var forced = force is "on" or "true";
        var firing = await WorkerEndpoints.RunAsync(
            image,
            http.User,
            forced,
            reason!.Trim(),
            schedules,
            pipeline,
            audit,
            time,
            cancellationToken
        );
        if (firing is null)
        {
            return ProblemPages.Problem(
                http,
                StatusCodes.Status409Conflict,
                $"the schedule of {image} was already handled at this instant; nothing was queued; try again"
            );
        }

        return Render.Page<Done>(
            http,
            new()
            {
                ["Heading"] = $"Ran the schedule of {image}: {firing.Outcome}",
                ["Lines"] = new List<string>
                {
                    firing.Reason,
                    firing.BuildId is { } id ? $"build {id}" : "no build",
                },
                ["Next"] = firing.BuildId is { } build
                    ? $"/ui/builds/{Uri.EscapeDataString(build)}"
                    : "/ui/schedules",
            }
        );
    }
}
