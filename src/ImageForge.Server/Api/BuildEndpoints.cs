using System.Security.Claims;
using System.Text.Json;
using ImageForge.Application.Access;
using ImageForge.Application.Views;
using ImageForge.Core.Builds;
using ImageForge.Core.Inputs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace ImageForge.Server.Api;

/// <summary>/api/builds: queue, list, show, cancel, and read or follow a build's log.</summary>
internal static class BuildEndpoints
{
    /// <summary>The media type of a followed log: one JSON object per line.</summary>
    public const string NdjsonMediaType = "application/x-ndjson";

    private const int MaxIdempotencyKeyLength = 200;

    // The same cadence as the build's own log pump (it flushes every 250 ms).
    private static readonly TimeSpan FollowPoll = TimeSpan.FromMilliseconds(250);

    public static void Map(RouteGroupBuilder api)
    {
        var builds = api.MapGroup("/builds").WithTags("builds");

        builds
            .MapPost("", QueueAsync)
            .WithName("QueueBuild")
            .WithSummary("Queue a build of an image")
            .WithDescription(
                "Queues a manual build. The same Idempotency-Key returns the same build, and a request for an image "
                    + "and target that already has a queued build joins it: both answer 200 with joined true."
            )
            .RequireAuthorization(ApiRoles.Builder)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        builds
            .MapGet("", ListAsync)
            .WithName("ListBuilds")
            .WithSummary("List builds, newest first");

        builds
            .MapGet("/{id}", GetAsync)
            .WithName("GetBuild")
            .WithSummary("Show one build")
            .ProducesProblem(StatusCodes.Status404NotFound);

        builds
            .MapPost("/{id}/cancel", CancelAsync)
            .WithName("CancelBuild")
            .WithSummary("Cancel a queued or running build")
            .WithDescription(
                "A queued build is cancelled at once; a running one is asked to stop and its runner stops Packer "
                    + "and cleans up within seconds. 409 when the build has already ended."
            )
            .RequireAuthorization(ApiRoles.Builder)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        builds
            .MapGet("/{id}/logs", LogsAsync)
            .WithName("GetBuildLogs")
            .WithSummary("Read a build's log, or follow it until the build ends")
            .WithDescription(
                "Lines after sequence number 'after', secrets redacted. With follow=true the answer is "
                    + NdjsonMediaType
                    + ": one line object per line, streamed until the build has ended and every line was sent."
            )
            // One 200 with both media types (a second Produces for 200 would replace the first).
            .Produces<IReadOnlyList<LogLineView>>(
                StatusCodes.Status200OK,
                "application/json",
                NdjsonMediaType
            )
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<
        Results<Accepted<QueuedBuildView>, Ok<QueuedBuildView>, ValidationProblem>
    > QueueAsync(
        QueueBuildRequest? body,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        ClaimsPrincipal user,
        IBuildRequests requests,
        CancellationToken cancellationToken
    )
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(body?.Image))
        {
            errors["image"] =
            [
                "required: the name of an image definition (templates/images/<name>.yaml)",
            ];
        }

        if (idempotencyKey is { Length: > MaxIdempotencyKeyLength })
        {
            errors["Idempotency-Key"] = [$"at most {MaxIdempotencyKeyLength} characters"];
        }

        if (errors.Count > 0 || body is null)
        {
            return TypedResults.ValidationProblem(errors);
        }

        new FieldLimits()
            .Image("image", body.Image)
            .Text("target", body.Target, InputLimits.MaxNameLength)
            .Reason("reason", body.Reason)
            .ThrowIfAny();
        var queued = await requests.QueueAsync(
            new BuildSubmission(
                body.Image.Trim(),
                Blank(body.Target),
                BuildTrigger.Manual,
                Actor(user),
                Blank(body.Reason),
                Blank(idempotencyKey),
                Role(user)
            ),
            cancellationToken
        );
        var view = new QueuedBuildView(BuildView.From(queued.Build), queued.Joined);
        return queued.Joined
            ? TypedResults.Ok(view)
            : TypedResults.Accepted(BuildLocation(queued.Build.Id), view);
    }

    private static async Task<Results<Ok<IReadOnlyList<BuildView>>, ValidationProblem>> ListAsync(
        ICatalog catalog,
        CancellationToken cancellationToken,
        string? image = null,
        int limit = 50
    )
    {
        if (ApiValidation.Limit(limit) is { } problem)
        {
            return problem;
        }

        var rows = await catalog.ListBuildsAsync(Blank(image), limit, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<BuildView>>([.. rows.Select(BuildView.From)]);
    }

    private static async Task<Ok<BuildView>> GetAsync(
        string id,
        ICatalog catalog,
        CancellationToken cancellationToken
    ) => TypedResults.Ok(BuildView.From(await FindAsync(catalog, id, cancellationToken)));

    private static async Task<Results<Accepted<BuildView>, ProblemHttpResult>> CancelAsync(
        string id,
        ClaimsPrincipal user,
        ICatalog catalog,
        IBuildRequests requests,
        CancellationToken cancellationToken
    )
    {
        var build = await FindAsync(catalog, id, cancellationToken);
        if (
            IsTerminal(build.Status)
            || !await requests.CancelAsync(build.Id, Actor(user), Role(user), cancellationToken)
        )
        {
            var now = await catalog.GetBuildAsync(build.Id, cancellationToken) ?? build;
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                detail: $"build {build.Id} has already ended ({Lower(now.Status)}): nothing to cancel"
            );
        }

        var current = await catalog.GetBuildAsync(build.Id, cancellationToken) ?? build;
        return TypedResults.Accepted(BuildLocation(build.Id), BuildView.From(current));
    }

    private static async Task<
        Results<Ok<IReadOnlyList<LogLineView>>, LogStreamResult, ValidationProblem>
    > LogsAsync(
        string id,
        ICatalog catalog,
        CancellationToken cancellationToken,
        long after = 0,
        bool follow = false
    )
    {
        if (after < 0)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["after"] = ["a sequence number, 0 or more"] }
            );
        }

        var build = await FindAsync(catalog, id, cancellationToken);
        if (follow)
        {
            return new LogStreamResult(build.Id, after);
        }

        var lines = await catalog.ReadLogAsync(build.Id, after, 10_000, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<LogLineView>>([.. lines.Select(LogLineView.From)]);
    }

    internal static async Task<BuildRecord> FindAsync(
        ICatalog catalog,
        string id,
        CancellationToken cancellationToken
    ) =>
        await catalog.GetBuildAsync(id, cancellationToken)
        ?? throw new NotFoundException(
            $"no build '{id}' in the catalog; GET /api/builds lists the builds"
        );

    internal static bool IsTerminal(BuildStatus status) =>
        status is not (BuildStatus.Queued or BuildStatus.Running);

    private static string BuildLocation(string id) => $"/api/builds/{Uri.EscapeDataString(id)}";

    private static string Actor(ClaimsPrincipal user) =>
        user.Identity?.Name
        ?? throw new InvalidOperationException("an authorized request without a token name");

    private static string Role(ClaimsPrincipal user) =>
        user.FindFirst(ClaimTypes.Role)?.Value
        ?? throw new InvalidOperationException("an authorized request without a role");

    private static string? Blank(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string Lower(BuildStatus status) =>
        JsonNamingPolicy.SnakeCaseLower.ConvertName(status.ToString());

    /// <summary>
    /// Streams a build's log as NDJSON until the build has ended and every line was sent, or the client went
    /// away: the catalog is polled every 250 ms, status first and lines second, so the last lines of a build that
    /// ends between two polls are never lost.
    /// </summary>
    internal sealed class LogStreamResult(string buildId, long after) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var services = httpContext.RequestServices;
            var catalog = services.GetRequiredService<ICatalog>();
            var time = services.GetRequiredService<TimeProvider>();
            var json = services
                .GetRequiredService<IOptions<HttpJsonOptions>>()
                .Value.SerializerOptions;
            var response = httpContext.Response;
            var stop = httpContext.RequestAborted;
            response.ContentType = NdjsonMediaType;
            response.Headers.CacheControl = "no-cache";
            httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var next = after;
            try
            {
                await response.StartAsync(stop);
                while (true)
                {
                    var build = await catalog.GetBuildAsync(buildId, stop);
                    var lines = await catalog.ReadLogAsync(buildId, next, 1_000, stop);
                    foreach (var line in lines)
                    {
                        await response.Body.WriteAsync(
                            JsonSerializer.SerializeToUtf8Bytes(LogLineView.From(line), json),
                            stop
                        );
                        await response.Body.WriteAsync("\n"u8.ToArray(), stop);
                        next = line.Sequence;
                    }

                    if (lines.Count > 0)
                    {
                        await response.Body.FlushAsync(stop);
                        continue;
                    }

                    if (build is null || IsTerminal(build.Status))
                    {
                        return;
                    }

                    await Task.Delay(FollowPoll, time, stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The client went away: nothing to answer.
            }
        }
    }
}

/// <summary>Small checks shared by the endpoints' query parameters.</summary>
internal static class ApiValidation
{
    public const int MaxLimit = 1000;

    public static ValidationProblem? Limit(int limit) =>
        limit is < 1 or > MaxLimit
            ? TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["limit"] = [$"between 1 and {MaxLimit}"] }
            )
            : null;
}
