using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using ImageForge.Application;
using ImageForge.Application.Access;
using ImageForge.Application.Operations;
using ImageForge.Core.Audit;
using ImageForge.Policy.Checking;
using ImageForge.Policy.Rules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Server.Api;

/// <summary>
/// <c>POST /api/policy/check</c> (builder and above): what <c>imageforge policy check</c> answers, for a deploy
/// pipeline that holds a token rather than the content. The body is the Terraform JSON plan itself (up to the plan reader's 32 MiB, not the
/// API's 1 MiB); the answer is the same report as the command line's <c>--output json</c>. Every check is audited
/// (<c>policy-check</c>: the plan's digest, the outcome, the rules that denied) and a refusal publishes
/// <c>policy.denied</c>.
/// </summary>
internal static class PolicyEndpoints
{
    /// <summary>How the body is named in a bad plan's error ("request body: $.resource_changes[0]: ...").</summary>
    public const string BodyName = "request body";

    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/policy/check", CheckAsync)
            .RequireAuthorization(ApiRoles.Builder)
            .WithTags("policy")
            .WithName("CheckPolicy")
            .WithSummary("Check a Terraform JSON plan against the policy rules bound to a channel")
            .WithDescription(
                "The body is the plan ('terraform show -json plan.out'), up to 32 MiB. The plan's machine images are "
                    + "checked against the catalog (admission) for the channel. Answers 200 either way: 'allowed' is "
                    + "false when a finding denies; a refusal is audited and published as 'policy.denied'. A plan "
                    + "that is not one is a 400 naming the JSON path."
            )
            .Accepts<JsonElement>("application/json")
            .WithBodyLimit(PlanResources.MaxBytes)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

    private static async Task<Results<Ok<PolicyReport>, ValidationProblem>> CheckAsync(
        HttpContext http,
        ClaimsPrincipal user,
        [FromServices] Pipeline pipeline,
        [FromServices] HostPaths paths,
        [FromServices] IAuditLog audit,
        [FromServices] IWorkerEvents events,
        [FromServices] TimeProvider time,
        CancellationToken cancellationToken,
        string? channel = null
    )
    {
        new FieldLimits().Channel("channel", channel).ThrowIfAny();
        var policies =
            paths.Content.Policies is { } directory && Directory.Exists(directory)
                ? PolicySet.Load(directory)
                : throw new NotFoundException(
                    "this worker's content has no policies/ directory to check plans against; add one beside "
                        + "templates/ (docs/policy.md): it is read at each check"
                );

        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, cancellationToken);
        var plan = body.GetBuffer().AsMemory(0, (int)body.Length);
        var digest = Convert.ToHexStringLower(SHA256.HashData(plan.Span));
        var resources = PlanResources.Read(plan, BodyName);

        var now = time.GetUtcNow();
        var report = await PromotionEndpoints
            .Operations(http)
            .CheckPlanAsync(
                policies,
                resources,
                channel,
                paths.Data.Root,
                DateOnly.FromDateTime(now.UtcDateTime),
                cancellationToken
            );

        var actor = PromotionEndpoints.ActorOf(user);
        var denied = report.Findings.Where(f => f.Effect == Effect.Deny).ToList();
        // The check happened whether or not the client waits for the answer: both are recorded regardless.
        await audit.AppendAsync(
            new AuditEntry
            {
                Action = "policy-check",
                Actor = actor.Name,
                Role = actor.RoleName,
                Time = now,
                Channel = channel,
                Details = JsonSerializer.Serialize(
                    new
                    {
                        allowed = report.Allowed,
                        plan_sha256 = digest,
                        resources = report.Resources,
                        denied = denied.Select(f => $"{f.Finding.Rule} {f.Finding.Address}"),
                        warnings = report.Findings.Count(f => f.Effect == Effect.Warn),
                    }
                ),
            },
            CancellationToken.None
        );
        if (!report.Allowed)
        {
            await events.PublishAsync(
                WorkerEventTypes.PolicyDenied,
                new
                {
                    channel,
                    plan_sha256 = digest,
                    actor = actor.Name,
                    role = actor.RoleName,
                    denied = denied.Select(f => new
                    {
                        rule = f.Finding.Rule,
                        address = f.Finding.Address,
                        severity = f.Finding.Severity,
                        message = f.Finding.Message,
                    }),
                },
                CancellationToken.None
            );
        }

        return TypedResults.Ok(report);
    }
}
