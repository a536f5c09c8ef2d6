using ImageForge.Core.Builds;
using ImageForge.Core.Facts;
using ImageForge.Dashboard.Common;
using ImageForge.Dashboard.Pages;
using ImageForge.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Dashboard;

/// <summary>One target's charts on the image page, and its versions' facts as a table (the text alternative).</summary>
public sealed record TargetCharts(string Target, IReadOnlyList<LineChart> Charts);

/// <summary>
/// The image page: its newest versions and, per target, line charts drawn as SVG on the server of their compliance
/// score, disk size and build duration, read from the facts the catalog keeps of each version (<c>version_facts</c>,
/// from its <c>facts.json</c>).
/// </summary>
internal static class ImagePages
{
    /// <summary>How many of the newest versions the page shows and charts.</summary>
    public const int Newest = 20;

    private const double MiB = 1024 * 1024;

    public static void Map(RouteGroupBuilder ui) => ui.MapGet("/images/{image}", ImageAsync);

    private static async Task<IResult> ImageAsync(
        string image,
        HttpContext http,
        ICatalog catalog,
        Catalog facts,
        CancellationToken cancellationToken
    )
    {
        var versions = (await ReadPages.KnownImageAsync(catalog, image, cancellationToken))
            .Take(Newest)
            .ToList();
        var oldestFirst = Enumerable.Reverse(versions).ToList();
        var charts = new List<TargetCharts>();
        foreach (
            var target in versions
                .SelectMany(v => v.Artifacts.Select(a => a.Target))
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
        )
        {
            var snapshots = new List<(string Version, FactSnapshot? Facts)>();
            foreach (var version in oldestFirst)
            {
                snapshots.Add(
                    (
                        version.Version,
                        await facts.GetFactsAsync(image, version.Version, target, cancellationToken)
                    )
                );
            }

            LineChart Chart(string id, string title, string format, string metric, double scale) =>
                new(
                    $"{target}-{id}",
                    title,
                    format,
                    [
                        .. snapshots.Select(s => new ChartPoint(
                            s.Version,
                            s.Facts?.Metrics.TryGetValue(metric, out var value) == true
                                ? value / scale
                                : null
                        )),
                    ]
                );

            charts.Add(
                new TargetCharts(
                    target,
                    [
                        Chart(
                            "score",
                            "Compliance score after hardening",
                            "0.0",
                            FactNames.ComplianceScore,
                            1
                        ),
                        Chart("disk", "Disk size (MiB)", "0", FactNames.DiskBytes, MiB),
                        Chart(
                            "duration",
                            "Build duration (minutes)",
                            "0.0",
                            FactNames.BuildSeconds,
                            60
                        ),
                    ]
                )
            );
        }

        return Render.Page<ImagePage>(
            http,
            new()
            {
                ["Image"] = image,
                ["Versions"] = versions,
                ["Charts"] = charts,
            }
        );
    }
}
