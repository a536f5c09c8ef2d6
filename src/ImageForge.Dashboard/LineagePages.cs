using ImageForge.Core.Builds;
using ImageForge.Dashboard.Common;
using ImageForge.Dashboard.Pages;
using ImageForge.Server.Api;
using ImageForge.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Dashboard;

/// <summary>A version's lineage, drawn as SVG on the server: its base, ancestors and every descendant.</summary>
internal static class LineagePages
{
    public static void Map(RouteGroupBuilder ui) =>
        ui.MapGet("/images/{image}/versions/{version}/lineage", LineageAsync);

    private static async Task<IResult> LineageAsync(
        string image,
        string version,
        HttpContext http,
        ICatalog catalog,
        Catalog store,
        CancellationToken cancellationToken
    )
    {
        var found = await ImageEndpoints.FindAsync(catalog, image, version, cancellationToken);
        var graph = await LineageGraph.ReadAsync(found, catalog, store, cancellationToken);
        return Render.Page<LineagePage>(http, new() { ["Graph"] = graph });
    }
}
