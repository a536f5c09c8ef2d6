using ImageForge.Application;
using ImageForge.Application.Operations;
using ImageForge.Application.Views;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Dashboard.Common;
using ImageForge.Dashboard.Pages;
using ImageForge.Server.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Dashboard;

/// <summary>One image of the overview: its channels (or why they cannot be shown) and its newest versions.</summary>
public sealed record ImageRow(
    ImageView Image,
    ChannelsView? Channels,
    string? Problem,
    IReadOnlyList<VersionView> Versions
);

/// <summary>The screens that only read: images, a version, its evidence.</summary>
internal static class ReadPages
{
    private const int OverviewVersions = 5;

    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapGet("/", OverviewAsync);
        ui.MapGet("/images/{image}/versions/{version}", VersionAsync);
        // The API's own download: the newest document of the kind, with its media type.
        ui.MapGet(
            "/images/{image}/versions/{version}/evidence/{kind}",
            (
                string image,
                string version,
                string kind,
                ICatalog catalog,
                CancellationToken cancellationToken
            ) => ImageEndpoints.EvidenceAsync(image, version, kind, catalog, cancellationToken)
        );
    }

    private static async Task<IResult> OverviewAsync(
        HttpContext http,
        ICatalog catalog,
        CancellationToken cancellationToken
    )
    {
        var operations = PromotionEndpoints.Operations(http);
        var rows = new List<ImageRow>();
        foreach (var image in await catalog.ListImagesAsync(cancellationToken))
        {
            var versions = await catalog.ListVersionsAsync(
                image.Image,
                OverviewVersions,
                cancellationToken
            );
            ChannelsView? channels = null;
            string? problem = null;
            try
            {
                channels = await operations.ChannelsAsync(
                    image.Image,
                    false,
                    false,
                    cancellationToken
                );
            }
            catch (InvalidInputException e)
            {
                // An image whose definition is gone still has its versions; say why it has no channels.
                problem = e.Message;
            }

            rows.Add(
                new ImageRow(
                    ImageView.From(image),
                    channels,
                    problem,
                    [.. versions.Select(VersionView.From)]
                )
            );
        }

        return Render.Page<Overview>(http, new() { ["Images"] = rows });
    }

    private static async Task<IResult> VersionAsync(
        string image,
        string version,
        HttpContext http,
        ICatalog catalog,
        Pipeline pipeline,
        CancellationToken cancellationToken
    )
    {
        var found = await ImageEndpoints.FindAsync(catalog, image, version, cancellationToken);
        var evidence = await VersionEvidence.ReadAsync(found, pipeline, cancellationToken);
        var previous = (await catalog.ListVersionsAsync(image, 1000, cancellationToken))
            .Where(v => string.CompareOrdinal(v.Version, found.Version) < 0)
            .Select(v => v.Version)
            .FirstOrDefault();
        return Render.Page<VersionPage>(
            http,
            new() { ["Evidence"] = evidence, ["Previous"] = previous }
        );
    }
}
