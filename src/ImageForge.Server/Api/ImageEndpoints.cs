using ImageForge.Application.Views;
using ImageForge.Core.Builds;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Server.Api;

/// <summary>/api/images: images, their versions with artifacts and evidence, and the evidence files themselves.</summary>
internal static class ImageEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var images = api.MapGroup("/images").WithTags("images");

        images
            .MapGet("", ListAsync)
            .WithName("ListImages")
            .WithSummary("List images with their version count and latest version");

        images
            .MapGet("/{image}/versions", VersionsAsync)
            .WithName("ListVersions")
            .WithSummary("List an image's versions, newest first, with artifacts and evidence")
            .ProducesProblem(StatusCodes.Status404NotFound);

        images
            .MapGet("/{image}/versions/{version}", VersionAsync)
            .WithName("GetVersion")
            .WithSummary("Show one version with its artifacts and evidence")
            .ProducesProblem(StatusCodes.Status404NotFound);

        images
            .MapGet("/{image}/versions/{version}/evidence/{kind}", EvidenceAsync)
            .WithName("GetEvidence")
            .WithSummary("Download a version's evidence document of one kind")
            .WithDescription(
                "The newest document of the kind (sbom-cyclonedx, sbom-spdx, vulnerability-findings, "
                    + "compliance-summary, gate-decision, provenance, ...: the kinds the version lists), served "
                    + "with its own media type."
            )
            .Produces<Stream>(StatusCodes.Status200OK, "application/octet-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Ok<IReadOnlyList<ImageView>>> ListAsync(
        ICatalog catalog,
        CancellationToken cancellationToken
    )
    {
        var images = await catalog.ListImagesAsync(cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ImageView>>([.. images.Select(ImageView.From)]);
    }

    private static async Task<Results<Ok<ImageVersionsView>, ValidationProblem>> VersionsAsync(
        string image,
        ICatalog catalog,
        CancellationToken cancellationToken,
        int limit = 50
    )
    {
        if (ApiValidation.Limit(limit) is { } problem)
        {
            return problem;
        }

        var versions = await catalog.ListVersionsAsync(image, limit, cancellationToken);
        return versions.Count == 0
            ? throw new NotFoundException(
                $"no versions of '{image}' in the catalog; GET /api/images lists the images"
            )
            : TypedResults.Ok(new ImageVersionsView(image, [.. versions.Select(VersionView.From)]));
    }

    private static async Task<Ok<VersionView>> VersionAsync(
        string image,
        string version,
        ICatalog catalog,
        CancellationToken cancellationToken
    ) =>
        TypedResults.Ok(
            VersionView.From(await FindAsync(catalog, image, version, cancellationToken))
        );

    internal static async Task<PhysicalFileHttpResult> EvidenceAsync(
        string image,
        string version,
        string kind,
        ICatalog catalog,
        CancellationToken cancellationToken
    )
    {
        var found = await FindAsync(catalog, image, version, cancellationToken);
        var document =
            found.Evidence.LastOrDefault(e => string.Equals(e.Kind, kind, StringComparison.Ordinal))
            ?? throw new NotFoundException(
                found.Evidence.Count == 0
                    ? $"{image}@{version} has no evidence"
                    : $"{image}@{version} has no evidence of kind '{kind}'; it has: "
                        + string.Join(", ", found.Evidence.Select(e => e.Kind).Distinct())
            );
        if (!File.Exists(document.Location))
        {
            throw new NotFoundException(
                $"the {kind} document of {image}@{version} is recorded at {document.Location} but that file is "
                    + "missing on the worker's machine (workers that share a catalog need a shared artifact store: "
                    + "docs/cluster.md)"
            );
        }

        return TypedResults.PhysicalFile(
            document.Location,
            document.MediaType,
            Path.GetFileName(document.Location)
        );
    }

    internal static async Task<ImageVersion> FindAsync(
        ICatalog catalog,
        string image,
        string version,
        CancellationToken cancellationToken
    ) =>
        await catalog.GetVersionAsync(image, version, cancellationToken)
        ?? throw new NotFoundException(
            $"{image} has no version {version}; GET /api/images/{image}/versions lists its versions"
        );
}
