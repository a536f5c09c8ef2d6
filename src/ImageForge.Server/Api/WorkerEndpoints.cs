using System.Security.Claims;
using ImageForge.Application;
using ImageForge.Application.Access;
using ImageForge.Application.Views;
using ImageForge.Core.Audit;
using ImageForge.Core.Worker;
using ImageForge.Server.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Server.Api;

/// <summary>One image's schedule: when it runs next and what its last firing did (the API's and the dashboard's).</summary>
public sealed record ScheduleView(
    string Image,
    string Target,
    string Cron,
    string TimeZone,
    DateTimeOffset? NextRun,
    ScheduleFiringView? LastFiring
);

/// <summary>A recorded firing of a schedule: queued, skipped (inputs unchanged), misfired or invalid, and why.</summary>
public sealed record ScheduleFiringView(
    DateTimeOffset ScheduledFor,
    DateTimeOffset FiredAt,
    string Outcome,
    string? BuildId,
    string Reason
)
{
    /// <summary>The view of a recorded firing.</summary>
    public static ScheduleFiringView From(ScheduleFiring f) =>
        new(f.ScheduledFor, f.FiredAt, f.Outcome, f.BuildId, f.Reason);
}

/// <summary>
/// A webhook delivery with its attempts so far, and the worker whose dispatcher claimed it last (the one sending it,
/// or that sent it: docs/cluster.md).
/// </summary>
internal sealed record WebhookDeliveryView(
    string Id,
    string EventId,
    string EventType,
    string Url,
    string State,
    int Attempts,
    int? LastStatusCode,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt,
    string? ClaimedBy,
    IReadOnlyList<WebhookAttempt> History
)
{
    public static WebhookDeliveryView From(WebhookDelivery d) =>
        new(
            d.Id,
            d.EventId,
            d.EventType,
            d.Url,
            d.State,
            d.Attempts,
            d.LastStatusCode,
            d.LastError,
            d.CreatedAt,
            d.NextAttemptAt,
            d.DeliveredAt,
            d.ClaimedBy,
            d.History
        );
}

/// <summary>
/// /api/schedules (see and run the images' schedules), /api/workers (the workers sharing the catalog) and
/// /api/webhooks/deliveries (the delivery log).
/// </summary>
internal static class WorkerEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var schedules = api.MapGroup("/schedules").WithTags("schedules");
        schedules
            .MapGet("", ListSchedulesAsync)
            .WithName("ListSchedules")
            .WithSummary("Every image's schedule: next run in its time zone and the last firing");
        schedules
            .MapPost("/{image}/run", RunScheduleAsync)
            .WithName("RunSchedule")
            .WithSummary("Fire an image's schedule now")
            .WithDescription(
                "The same firing as at a scheduled instant: skipped (recorded, with the reason) when the inputs "
                    + "equal the last successful build's, unless force=true."
            )
            .RequireAuthorization(ApiRoles.Builder)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/workers", ListWorkersAsync)
            .WithTags("workers")
            .WithName("ListWorkers")
            .WithSummary(
                "The workers sharing the catalog (last heartbeat within a day): state, capabilities, builds"
            );

        api.MapGet("/webhooks/deliveries", ListDeliveriesAsync)
            .WithTags("webhooks")
            .WithName("ListWebhookDeliveries")
            .WithSummary(
                "The webhook delivery log, newest first: state, attempts, last status or error"
            )
            .RequireAuthorization(ApiRoles.Admin)
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }

    private static async Task<Ok<IReadOnlyList<ScheduleView>>> ListSchedulesAsync(
        [FromServices] Pipeline pipeline,
        [FromServices] IScheduleLedger ledger,
        [FromServices] TimeProvider time,
        CancellationToken cancellationToken
    ) => TypedResults.Ok(await SchedulesAsync(pipeline, ledger, time, cancellationToken));

    /// <summary>Every schedule as the worker arms them (one per image and target it can build), as the API lists them.</summary>
    internal static async Task<IReadOnlyList<ScheduleView>> SchedulesAsync(
        Pipeline pipeline,
        IScheduleLedger ledger,
        TimeProvider time,
        CancellationToken cancellationToken
    )
    {
        var now = time.GetUtcNow();
        var set = pipeline.LoadDefinitions();
        var views = new List<ScheduleView>();
        foreach (
            var (image, target) in set
                .Images.Where(i => i.Schedule is not null)
                .SelectMany(i =>
                    i.Targets.Where(t => pipeline.BuildableProviders.Contains(t.Provider))
                        .Select(t => (i, t.Provider))
                )
        )
        {
            var last = await ledger.LastFiringAsync(image.Name, target, cancellationToken);
            views.Add(
                new ScheduleView(
                    image.Name,
                    target,
                    image.Schedule!.Cron.Text,
                    image.Schedule.TimeZone,
                    image.Schedule.GetNextOccurrence(now),
                    last is null ? null : ScheduleFiringView.From(last)
                )
            );
        }

        return views;
    }

    private static async Task<
        Results<Ok<ScheduleFiringView>, Conflict<string>, ValidationProblem>
    > RunScheduleAsync(
        string image,
        ClaimsPrincipal user,
        [FromServices] ScheduledBuilds schedules,
        [FromServices] Pipeline pipeline,
        [FromServices] IAuditLog audit,
        [FromServices] TimeProvider time,
        CancellationToken cancellationToken,
        bool force = false
    )
    {
        var firing = await RunAsync(
            image,
            user,
            force,
            null,
            schedules,
            pipeline,
            audit,
            time,
            cancellationToken
        );
        return firing is null
            ? TypedResults.Conflict("this instant was already handled; try again")
            : TypedResults.Ok(firing);
    }

    /// <summary>
    /// Fires the image's schedule now for <paramref name="user"/> and audits it (<c>schedule-run</c>, with
    /// <paramref name="reason"/> when the requester gave one, else the firing's own); null when this instant was
    /// already handled. An image without a schedule and a target this worker builds is <see cref="NotFoundException"/>.
    /// </summary>
    internal static async Task<ScheduleFiringView?> RunAsync(
        string image,
        ClaimsPrincipal user,
        bool force,
        string? reason,
        ScheduledBuilds schedules,
        Pipeline pipeline,
        IAuditLog audit,
        TimeProvider time,
        CancellationToken cancellationToken
    )
    {
        var now = time.GetUtcNow();
        var set = pipeline.LoadDefinitions();
        var target = set.FindImage(image) is { Schedule: not null } definition
            ? definition
                .Targets.Select(t => t.Provider)
                .FirstOrDefault(pipeline.BuildableProviders.Contains)
            : null;
        if (target is null)
        {
            throw new NotFoundException(
                $"no valid image definition named '{image}' with a schedule and a target this worker builds; "
                    + "GET /api/schedules lists them"
            );
        }

        var firing = await schedules.FireAsync(image, target, now, force, cancellationToken);
        if (firing is not null)
        {
            await audit.AppendAsync(
                new AuditEntry
                {
                    Action = "schedule-run",
                    Actor = user.Identity?.Name ?? "unknown",
                    Role = user.FindFirst(ClaimTypes.Role)?.Value ?? "unknown",
                    Time = now,
                    Image = image,
                    Reason = reason ?? firing.Reason,
                    Details =
                        $"{firing.Outcome}{(force ? ", forced" : "")}"
                        + (firing.BuildId is null ? "" : $", build {firing.BuildId}")
                        + (reason is null ? "" : $": {firing.Reason}"),
                },
                CancellationToken.None
            );
        }

        return firing is null ? null : ScheduleFiringView.From(firing);
    }

    private static async Task<Ok<IReadOnlyList<WorkerView>>> ListWorkersAsync(
        [FromServices] IWorkerRegistry workers,
        CancellationToken cancellationToken
    ) =>
        TypedResults.Ok<IReadOnlyList<WorkerView>>([
            .. (await workers.ListWorkersAsync(WorkerView.Recent, cancellationToken)).Select(
                WorkerView.From
            ),
        ]);

    private static async Task<
        Results<Ok<IReadOnlyList<WebhookDeliveryView>>, ValidationProblem>
    > ListDeliveriesAsync(
        [FromServices] IWebhookLog log,
        CancellationToken cancellationToken,
        int limit = ApiValidation.MaxLimit
    )
    {
        if (ApiValidation.Limit(limit) is { } problem)
        {
            return problem;
        }

        var deliveries = await log.ListAsync(limit, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<WebhookDeliveryView>>([
            .. deliveries.Select(WebhookDeliveryView.From),
        ]);
    }
}
