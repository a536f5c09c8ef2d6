using ImageForge.Application.Access;
using ImageForge.Application.Operations;
using ImageForge.Application.Views;
using ImageForge.Core.Inputs;
using ImageForge.Core.Promotion;
using ImageForge.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Server.Api;

/// <summary>Body of <c>POST /api/images/{image}/versions/{version}/anomalies/{id}/ack</c>.</summary>
/// <param name="Reason">Why the change is accepted, for the audit trail (required).</param>
internal sealed record AcknowledgeAnomalyBody(string? Reason);

/// <summary>
/// A version's anomalies (the shape of <c>imageforge anomalies --output json</c>, <see cref="AnomaliesView"/>) and
/// their acknowledgement by a release manager, through the same operation as <c>imageforge anomalies ack</c>, audited
/// the same way (docs/anomalies.md).
/// </summary>
internal static class AnomalyEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var images = api.MapGroup("/images").WithTags("anomalies");

        images
            .MapGet("/{image}/versions/{version}/anomalies", GetAsync)
            .WithName("GetAnomalies")
            .WithSummary(
                "A version's anomalies against the image's history, each explained in one line"
            )
            .WithDescription(
                "The anomaly report of the version (raised anomalies first, inherited and expected ones too), each "
                    + "anomaly with whether and by whom it was acknowledged. 404 for an unknown image or version, "
                    + "or a version without a report; 500 naming the file and what is wrong in it for a stored "
                    + "report that is not a valid one."
            )
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

        images
            .MapPost("/{image}/versions/{version}/anomalies/{id}/ack", AcknowledgeAsync)
            .WithName("AcknowledgeAnomaly")
            .WithSummary("Acknowledge a raised anomaly of a version (release managers)")
            .WithDescription(
                "Records the acknowledgement and the audit event acknowledge-anomaly with the reason; a restricted "
                    + "channel needs every raised high or critical anomaly acknowledged. Acknowledging again "
                    + "replaces the first. 404 for an anomaly id the version's report does not hold, 400 for one it "
                    + "holds but does not raise (inherited or expected)."
            )
            .RequireAuthorization(ApiRoles.ReleaseManager)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Ok<AnomaliesView>> GetAsync(
        string image,
        string version,
        Catalog catalog,
        CancellationToken cancellationToken
    ) => TypedResults.Ok(await LoadAsync(catalog, image, version, cancellationToken));

    private static async Task<
        Results<Ok<AnomalyAcknowledgement>, ProblemHttpResult, ValidationProblem>
    > AcknowledgeAsync(
        string image,
        string version,
        string id,
        AcknowledgeAnomalyBody? body,
        Catalog catalog,
        HttpContext http,
        CancellationToken cancellationToken
    )
    {
        if (string.IsNullOrWhiteSpace(body?.Reason))
        {
            return PromotionEndpoints.Required("reason", "why the change is accepted");
        }

        try
        {
            return TypedResults.Ok(
                await RecordAsync(http, catalog, image, version, id, body.Reason, cancellationToken)
            );
        }
        catch (ActionForbiddenException e)
        {
            return PromotionEndpoints.Refused(e.RequiredRole, e.Message, e.Reasons);
        }
    }

    /// <summary>
    /// The acknowledgement the API and the dashboard record: the fields' limits, 404 for an id the report does not
    /// hold, then the command line's operation as the token's actor (audited <c>acknowledge-anomaly</c>).
    /// </summary>
    internal static async Task<AnomalyAcknowledgement> RecordAsync(
        HttpContext http,
        Catalog catalog,
        string image,
        string version,
        string id,
        string reason,
        CancellationToken cancellationToken
    )
    {
        PromotionEndpoints
            .Names(image, version)
            .Text("id", id, InputLimits.MaxShortTextLength)
            .Reason("reason", reason)
            .ThrowIfAny();
        var view = await LoadAsync(catalog, image, version, cancellationToken);
        if (!view.Anomalies.Any(a => a.Id == id))
        {
            throw new NotFoundException(
                $"{image}@{version} has no anomaly {id}; GET /api/images/{image}/versions/{version}/anomalies "
                    + "lists its anomalies"
            );
        }

        return await PromotionEndpoints
            .Operations(http)
            .AcknowledgeAnomalyAsync(
                PromotionEndpoints.ActorOf(http.User),
                image,
                version,
                id,
                reason.Trim(),
                cancellationToken
            );
    }

    private static async Task<AnomaliesView> LoadAsync(
        Catalog catalog,
        string image,
        string version,
        CancellationToken cancellationToken
    ) =>
        await AnomaliesView.LoadAsync(
            await ImageEndpoints.FindAsync(catalog, image, version, cancellationToken),
            catalog,
            cancellationToken
        )
        ?? throw new NotFoundException(
            $"{image}@{version} has no anomaly report (its target collects no image facts, or an older "
                + "ImageForge built it); rebuild the image to compare it with its history"
        );
}
