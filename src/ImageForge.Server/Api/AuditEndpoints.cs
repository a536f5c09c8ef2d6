using ImageForge.Application.Views;
using ImageForge.Core.Audit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Server.Api;

/// <summary>/api/audit: the tamper-evident trail of every action, and the check of its hash chain.</summary>
internal static class AuditEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var audit = api.MapGroup("/audit").WithTags("audit");

        audit
            .MapGet("", ListAsync)
            .WithName("ListAuditEvents")
            .WithSummary("Audit events in chain order, optionally about one image");

        audit
            .MapGet("/verify", VerifyAsync)
            .WithName("VerifyAudit")
            .WithSummary(
                "Recompute the hash chain and name the first edited, deleted or reordered event"
            )
            .WithDescription("Answers 200 either way: 'ok' says whether the chain holds.");
    }

    private static async Task<
        Results<Ok<IReadOnlyList<AuditEventView>>, ValidationProblem>
    > ListAsync(
        IAuditLog log,
        CancellationToken cancellationToken,
        string? image = null,
        int limit = ApiValidation.MaxLimit
    )
    {
        if (ApiValidation.Limit(limit) is { } problem)
        {
            return problem;
        }

        var events = await log.ReadAuditAsync(
            string.IsNullOrWhiteSpace(image) ? null : image,
            0,
            limit,
            cancellationToken
        );
        return TypedResults.Ok<IReadOnlyList<AuditEventView>>([
            .. events.Select(AuditEventView.From),
        ]);
    }

    private static async Task<Ok<AuditVerificationView>> VerifyAsync(
        IAuditLog log,
        CancellationToken cancellationToken
    ) => TypedResults.Ok(AuditVerificationView.From(await log.VerifyAuditAsync(cancellationToken)));
}
