using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Dashboard.Common;

/// <summary>The stylesheet and the vendored htmx (Assets/SOURCE.md), embedded in the assembly and served as they are.</summary>
internal static class Assets
{
    public const string Htmx = "htmx.min.js";

    public const string Stylesheet = "dashboard.css";

    private static readonly Dictionary<string, string> MediaTypes = new(StringComparer.Ordinal)
    {
        [Htmx] = "text/javascript",
        [Stylesheet] = "text/css",
    };

    public static void Map(RouteGroupBuilder ui) =>
        ui.MapGet(
                "/assets/{name}",
                (string name, HttpContext http) =>
                {
                    if (!MediaTypes.TryGetValue(name, out var mediaType))
                    {
                        return Results.NotFound();
                    }

                    http.Response.Headers.CacheControl = "public, max-age=3600";
                    return Results.Stream(Open(name), mediaType);
                }
            )
            .AllowAnonymous();

    public static Stream Open(string name) =>
        Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
        ?? throw new InvalidOperationException($"the dashboard assembly lost its resource {name}");
}
