using ImageForge.Application;
using ImageForge.Application.Access;
using ImageForge.Application.Operations;
using ImageForge.Application.Views;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Dashboard.Common;
using ImageForge.Dashboard.Pages;
using ImageForge.Server.Api;
using ImageForge.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace ImageForge.Dashboard;

/// <summary>
/// One image of the overview: its channels (or why they cannot be shown) with each one's badges by channel name, and
/// its newest versions.
/// </summary>
public sealed record ImageRow(
    ImageView Image,
    ChannelsView? Channels,
    string? Problem,
    IReadOnlyList<VersionView> Versions,
    IReadOnlyDictionary<string, IReadOnlyList<ChannelBadge>> Badges
);

/// <summary>The screens that only read: images, a version, its evidence.</summary>
internal static class ReadPages
{
    private const int OverviewVersions = 5;

    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapGet("/", OverviewAsync);
        ui.MapGet("/images/{image}/versions/{version}", VersionAsync);
        ui.MapGet("/images/{image}/diff", DiffAsync);
        ui.MapGet("/images/{image}/channels", ChannelsAsync);
        ui.MapGet("/images/{image}/versions/{version}/revoke", RevokePreviewAsync);
        ui.MapGet("/images/{image}/versions/{version}/bundle.zip", EvidenceBundle.DownloadAsync);
        ui.MapGet("/builds", BuildsAsync);
        ui.MapGet("/builds/{id}", BuildAsync);
        ui.MapGet("/builds/{id}/log", LogAsync);
        ui.MapGet("/audit", AuditAsync);
        ui.MapGet("/audit/at", PointInTimeAsync);
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

    // Whatever the number of images: two catalog reads for the newest versions of every image (without evidence), two
    // for every channel and the versions they point at (with their findings evidence only), one for the bases of those
    // and of each image's newest version (benchmarks/results/dashboard-scale.md).
    private static async Task<IResult> OverviewAsync(
        HttpContext http,
        Catalog store,
        ChannelBadges badges,
        CancellationToken cancellationToken
    )
    {
        var images = await store.ListImagesAsync(cancellationToken);
        var newest = await store.ListNewestVersionsAsync(OverviewVersions, [], cancellationToken);
        var channels = await PromotionEndpoints
            .Operations(http)
            .ChannelsOfAsync(
                [.. images.Select(i => i.Image)],
                ChannelBadges.EvidenceKinds,
                cancellationToken
            );
        var bases = await store.GetVersionBasesAsync(
            [
                .. newest.Values.Select(v => (v[0].Image, v[0].Version)),
                .. channels.Values.SelectMany(c => c.Versions).Select(v => (v.Image, v.Version)),
            ],
            cancellationToken
        );
        var rows = images
            .Select(image =>
            {
                var ofImage = channels[image.Image];
                var latest = newest.GetValueOrDefault(image.Image, []);
                var newestBase =
                    latest.Count > 0
                        ? bases.GetValueOrDefault((image.Image, latest[0].Version))
                        : null;
                return new ImageRow(
                    ImageView.From(image),
                    ofImage.Channels,
                    ofImage.Problem,
                    [.. latest.Select(VersionView.From)],
                    ofImage.States.ToDictionary(
                        c => c.Channel,
                        c =>
                        {
                            var version = ofImage.Versions.FirstOrDefault(v =>
                                v.Version == c.Version
                            );
                            return badges.Of(
                                c,
                                version,
                                version is null
                                    ? null
                                    : bases.GetValueOrDefault((image.Image, version.Version)),
                                newestBase
                            );
                        },
                        StringComparer.Ordinal
                    )
                );
            })
            .ToList();
        return Render.Page<Overview>(http, new() { ["Images"] = rows });
    }

    private static async Task<IResult> VersionAsync(
        string image,
        string version,
        HttpContext http,
        ICatalog catalog,
        Catalog store,
        Pipeline pipeline,
        CancellationToken cancellationToken,
        [FromQuery(Name = "sbom_q")] string? search = null,
        [FromQuery(Name = "sbom_sort")] string? sort = null,
        [FromQuery(Name = "sbom_dir")] string? direction = null
    )
    {
        var sbom = SbomQuery.Parse(search, sort, direction);
        var found = await ImageEndpoints.FindAsync(catalog, image, version, cancellationToken);
        var evidence = await VersionEvidence.ReadAsync(found, pipeline, store, cancellationToken);
        var previous = await store.GetPreviousVersionAsync(image, found.Version, cancellationToken);
        return Render.Page<VersionPage>(
            http,
            new()
            {
                ["Evidence"] = evidence,
                ["Previous"] = previous,
                ["Sbom"] = sbom,
            }
        );
    }

    // Defaults: against the version before the newer one.
    private static async Task<IResult> DiffAsync(
        string image,
        HttpContext http,
        ICatalog catalog,
        Catalog store,
        CancellationToken cancellationToken,
        string? from = null,
        string? to = null
    )
    {
        var versions = await KnownImageAsync(catalog, image, cancellationToken);
        var newer = await ImageEndpoints.FindAsync(
            catalog,
            image,
            to ?? versions[0].Version,
            cancellationToken
        );
        var olderNumber =
            from
            ?? await store.GetPreviousVersionAsync(image, newer.Version, cancellationToken)
            ?? throw new InvalidInputException(
                $"from: {image}@{newer.Version} is its oldest version; name the version to compare with (?from=...)"
            );
        var older = await ImageEndpoints.FindAsync(catalog, image, olderNumber, cancellationToken);
        return Render.Page<DiffPage>(
            http,
            new() { ["Diff"] = VersionDiffs.Compute(older, newer), ["Image"] = image }
        );
    }

    private static async Task<IResult> ChannelsAsync(
        string image,
        HttpContext http,
        ICatalog catalog,
        CancellationToken cancellationToken
    )
    {
        await KnownImageAsync(catalog, image, cancellationToken);
        var channels = await PromotionEndpoints
            .Operations(http)
            .ChannelsAsync(image, true, false, cancellationToken);
        return Render.Page<ChannelsPage>(http, new() { ["Channels"] = channels });
    }

    private static async Task<IResult> RevokePreviewAsync(
        string image,
        string version,
        HttpContext http,
        ICatalog catalog,
        CancellationToken cancellationToken
    )
    {
        if (ActionPages.Refuse(http, ApiRoles.ReleaseManager) is { } refused)
        {
            return refused;
        }

        await ImageEndpoints.FindAsync(catalog, image, version, cancellationToken);
        var preview = await PromotionEndpoints
            .Operations(http)
            .PreviewRevocationAsync(image, version, cancellationToken);
        return Render.Page<RevokePage>(http, new() { ["Preview"] = preview });
    }

    private static async Task<IResult> BuildsAsync(
        HttpContext http,
        ICatalog catalog,
        Pipeline pipeline,
        CancellationToken cancellationToken,
        string? image = null
    )
    {
        var builds = await catalog.ListBuildsAsync(
            string.IsNullOrWhiteSpace(image) ? null : image,
            100,
            cancellationToken
        );
        return Render.Page<BuildsPage>(
            http,
            new()
            {
                ["Builds"] = builds.Select(BuildView.From).ToList(),
                ["Images"] = pipeline.LoadDefinitions().Images.Select(i => i.Name).ToList(),
            }
        );
    }

    private static async Task<IResult> BuildAsync(
        string id,
        HttpContext http,
        ICatalog catalog,
        CancellationToken cancellationToken
    )
    {
        var build = await BuildEndpoints.FindAsync(catalog, id, cancellationToken);
        var lines = await catalog.ReadLogAsync(build.Id, 0, 10_000, cancellationToken);
        return Render.Page<BuildPage>(
            http,
            new() { ["Build"] = build, ["Lines"] = lines.Select(LogLineView.From).ToList() }
        );
    }

    // The htmx fragment: the lines after 'after', and whether to keep polling (until the build has ended).
    private static async Task<IResult> LogAsync(
        string id,
        ICatalog catalog,
        CancellationToken cancellationToken,
        string? after = null
    )
    {
        var next = ParseSequence(after);
        var build = await BuildEndpoints.FindAsync(catalog, id, cancellationToken);
        var lines = await catalog.ReadLogAsync(build.Id, next, 10_000, cancellationToken);
        return new RazorComponentResult<LogLines>(
            new Dictionary<string, object?>
            {
                ["Build"] = build,
                ["Lines"] = lines.Select(LogLineView.From).ToList(),
                ["After"] = next,
            }
        )
        {
            PreventStreamingRendering = true,
        };
    }

    private static async Task<IResult> AuditAsync(
        HttpContext http,
        IAuditLog log,
        CancellationToken cancellationToken,
        string? image = null,
        string? actor = null,
        string? action = null,
        string? verify = null
    )
    {
        var events = await log.ReadAuditAsync(Blank(image), 0, 10_000, cancellationToken);
        var shown = events
            .Where(e => Blank(actor) is not { } a || e.Entry.Actor == a)
            .Where(e => Blank(action) is not { } x || e.Entry.Action == x)
            .Select(AuditEventView.From)
            .Reverse()
            .ToList();
        var verification = verify is "1" or "true"
            ? AuditVerificationView.From(await log.VerifyAuditAsync(cancellationToken))
            : null;
        return Render.Page<AuditPage>(
            http,
            new()
            {
                ["Events"] = shown,
                ["Verification"] = verification,
                ["Image"] = Blank(image),
                ["Actor"] = Blank(actor),
                ["Action"] = Blank(action),
            }
        );
    }

    // "What did channel C of image I point at, at time T": the last assignment at or before T.
    private static async Task<IResult> PointInTimeAsync(
        HttpContext http,
        ICatalog catalog,
        Catalog store,
        CancellationToken cancellationToken,
        string? image = null,
        string? channel = null,
        string? at = null
    )
    {
        if (Blank(image) is null || Blank(channel) is null || Blank(at) is null)
        {
            throw new InvalidInputException(
                "image, channel and at are required, e.g. /ui/audit/at?image=debian-11-cis&channel=prod&at=2026-11-22T10:00:00Z"
            );
        }

        var when = PromotionOperations.ParseTime(at!.Trim(), "at");
        await KnownImageAsync(catalog, image!, cancellationToken);
        var history = await store.GetHistoryAsync(image!, channel!.Trim(), cancellationToken);
        var then = history.LastOrDefault(h => h.At <= when);
        var version = then?.Version is { } number
            ? await catalog.GetVersionAsync(image!, number, cancellationToken)
            : null;
        return Render.Page<PointInTimePage>(
            http,
            new()
            {
                ["Image"] = image,
                ["Channel"] = channel.Trim(),
                ["At"] = when,
                ["Assignment"] = then,
                ["Version"] = version,
            }
        );
    }

    // The image's versions, newest first; an image the catalog does not know is 404.
    internal static async Task<IReadOnlyList<ImageVersion>> KnownImageAsync(
        ICatalog catalog,
        string image,
        CancellationToken cancellationToken
    )
    {
        var versions = await catalog.ListVersionsAsync(image, 1000, cancellationToken);
        return versions.Count > 0
            ? versions
            : throw new NotFoundException(
                $"the catalog has no image '{image}'; the images page lists every image"
            );
    }

    private static long ParseSequence(string? after) =>
        after is null ? 0
        : long.TryParse(after, System.Globalization.CultureInfo.InvariantCulture, out var n)
        && n >= 0
            ? n
        : throw new InvalidInputException(
            $"after: '{after}' is not a log sequence number (0 or more)"
        );

    private static string? Blank(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
