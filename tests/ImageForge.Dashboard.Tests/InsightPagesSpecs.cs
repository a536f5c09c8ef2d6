using System.Net;
using ImageForge.Application;
using ImageForge.Application.Access;
using ImageForge.Application.Operations;
using ImageForge.Core.Builds;
using ImageForge.Core.Facts;
using ImageForge.Core.Promotion;
using ImageForge.Core.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace ImageForge.Dashboard.Tests;

/// <summary>
/// The screens of issue 17's second half, in chromium over one worker: the schedules with their next firing and last
/// reason ("Run now" for a builder, through the API's firing), the version page's SBOM searched and sorted by query
/// string, the lineage drawn as SVG on the server, and the image page's charts. Each page visited passes the
/// accessibility basics.
/// </summary>
public sealed class InsightPagesSpecs(DashboardWorker worker) : IClassFixture<DashboardWorker>
{
    private const string Image = "debian-11-cis";

    [Fact(Timeout = 90_000)]
    public async Task A_viewer_sees_each_schedules_next_firing_and_last_skip_reason_and_no_form_and_a_forged_run_is_403()
    {
        const string Reason = "inputs unchanged since build 7: all hash to sha256:abc";
        var skipped = await SkipAsync(Reason);
        var queuedBefore = (await worker.Catalog.ListQueuedAsync()).Count;
        var page = await worker.SignedInAsync(ApiRoles.Viewer);

        await page.GetByRole(AriaRole.Link, new() { Name = "Schedules" }).ClickAsync();
        await Arrival.AtAsync(page, "**/ui/schedules");
        await Accessibility.CheckAsync(page);
        var row = page.Locator($"tr[data-schedule='{Image}']");
        var cells = (await row.InnerTextAsync()).Split('\t');
        var forms = await page.Locator("#schedules form").CountAsync();
        var forged = await DashboardWorker.ForgedPostAsync(
            page,
            $"/ui/schedules/{Image}/run",
            ("reason", "now please")
        );

        cells[2].ShouldBe("0 2 * * * (Europe/Berlin)");
        // 02:00 in Berlin (CET, +01:00) after 2026-11-22 10:00Z.
        cells[3].ShouldBe("2026-11-23 01:00:00Z");
        cells[5].Trim().ShouldBe($"skipped build {skipped.Id}");
        cells[6].Trim().ShouldBe(Reason);
        cells[7].Trim().ShouldStartWith($"{Reason} (build {skipped.Id}, ");
        forms.ShouldBe(0, "a viewer may not run a schedule");
        forged.Status.ShouldBe((int)HttpStatusCode.Forbidden);
        (await worker.Catalog.ListQueuedAsync()).Count.ShouldBe(queuedBefore);
    }

    [Fact(Timeout = 90_000)]
    public async Task A_builder_runs_a_schedule_now_with_a_reason_and_the_firing_is_queued_and_audited()
    {
        await SkipAsync("inputs unchanged since build 8");
        worker.Time.Advance(TimeSpan.FromMinutes(1));
        var page = await worker.SignedInAsync(ApiRoles.Builder, "bea");

        await page.GotoAsync("/ui/schedules");
        await Accessibility.CheckAsync(page);
        await page.GetByLabel($"Reason to run {Image} now").FillAsync("new mirror snapshot");
        await page.GetByLabel("Build even if nothing changed").First.CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Run now" }).First.ClickAsync();
        await Arrival.AtAsync(page, $"**/ui/schedules/{Image}/run");
        var heading = await page.Locator("h1").TextContentAsync();
        var audited = (await worker.Catalog.ReadAuditAsync()).Last(e =>
            e.Entry.Action == "schedule-run"
        );
        var queued = await worker.Catalog.ListQueuedAsync();

        heading.ShouldBe($"Ran the schedule of {Image}: queued");
        audited.Entry.Actor.ShouldBe("bea");
        audited.Entry.Role.ShouldBe(ApiRoles.Builder);
        audited.Entry.Reason.ShouldBe("new mirror snapshot");
        audited.Entry.Details.ShouldStartWith("queued, forced, build ");
        queued.ShouldContain(b => audited.Entry.Details!.Contains(b.Id));
        await page.GotoAsync("/ui/schedules");
        var cells = (await page.Locator($"tr[data-schedule='{Image}']").InnerTextAsync()).Split(
            '\t'
        );
        cells[5].Trim().ShouldStartWith("queued");
        cells[6].Trim().ShouldBe("forced");
        // The last firing was queued; the skip before it is still shown.
        cells[7].Trim().ShouldStartWith("inputs unchanged since build 8 (build ");
    }

    [Theory(Timeout = 90_000)]
    [InlineData("", Image, 400)]
    [InlineData("because", "no-such-image", 404)]
    public async Task A_run_without_a_reason_is_400_and_of_an_unknown_image_404_and_nothing_is_queued(
        string reason,
        string image,
        int status
    )
    {
        worker.Time.Advance(TimeSpan.FromMinutes(1));
        var queuedBefore = (await worker.Catalog.ListQueuedAsync()).Count;
        var page = await worker.SignedInAsync(ApiRoles.Builder);

        var response = await DashboardWorker.ForgedPostAsync(
            page,
            $"/ui/schedules/{image}/run",
            ("reason", reason)
        );

        response.Status.ShouldBe(status, await response.TextAsync());
        (await worker.Catalog.ListQueuedAsync()).Count.ShouldBe(queuedBefore);
    }

    [Fact(Timeout = 90_000)]
    public async Task The_SBOM_is_searched_and_sorted_by_query_string_with_JavaScript_disabled()
    {
        var version = await worker.RecordVersionWithPackagesAsync(
            ("openssl", "1.1.1w-0+deb11u1"),
            ("libssl1.1", "1.1.1n-0+deb11u5"),
            ("bash", "5.1-2"),
            ("zlib1g", "1:1.2.11.dfsg-2")
        );
        var page = await worker.SignedInAsync(ApiRoles.Viewer, javaScript: false);

        await page.GotoAsync($"/ui/images/{Image}/versions/{version.Version}");
        await page.GetByLabel("Search packages").FillAsync("1.1.1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Arrival.AtAsync(page, "**sbom_q=1.1.1**");
        await Accessibility.CheckAsync(page);
        var found = await PackageNamesAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Version", Exact = true }).ClickAsync();
        await Arrival.AtAsync(page, "**sbom_sort=version&sbom_dir=asc**");
        var ascending = await PackageNamesAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Version (ascending)" }).ClickAsync();
        await Arrival.AtAsync(page, "**sbom_dir=desc**");
        var descending = await PackageNamesAsync(page);
        await page.GotoAsync(
            $"/ui/images/{Image}/versions/{version.Version}?sbom_sort=version&sbom_dir=asc"
        );
        var everyVersion = await PackageNamesAsync(page);

        found.ShouldBe(["libssl1.1", "openssl"]);
        ascending.ShouldBe(["libssl1.1", "openssl"]);
        descending.ShouldBe(["openssl", "libssl1.1"]);
        // dpkg's order: the epoch of 1:1.2.11 sorts it after 5.1-2.
        everyVersion.ShouldBe(["libssl1.1", "openssl", "bash", "zlib1g"]);
        (await page.Locator("#sbom-count").InnerTextAsync()).ShouldBe("4 of 4 packages");
    }

    [Theory(Timeout = 90_000)]
    [InlineData("sbom_sort=colour", "sbom_sort: 'colour' is not a column")]
    [InlineData("sbom_dir=up", "sbom_dir: 'up' is not a sort direction")]
    public async Task A_bad_SBOM_sort_is_a_400_page(string query, string says)
    {
        var version = await worker.RecordVersionAsync();
        var page = await worker.SignedInAsync(ApiRoles.Viewer);

        var response = await page.GotoAsync(
            $"/ui/images/{Image}/versions/{version.Version}?{query}"
        );

        response!.Status.ShouldBe(400);
        await Accessibility.CheckAsync(page);
        (await page.Locator("[role=alert]").InnerTextAsync()).ShouldContain(says);
    }

    [Fact(Timeout = 90_000)]
    public async Task The_lineage_is_drawn_on_the_server_with_each_status_in_text_and_links_to_every_version()
    {
        var (root, middle, left, right) = await LineageAsync();
        var page = await worker.SignedInAsync(ApiRoles.Viewer, javaScript: false);

        await page.GotoAsync($"/ui/images/{Image}/versions/{middle.Version}");
        await page.GetByRole(AriaRole.Link, new() { Name = "lineage", Exact = true }).ClickAsync();
        await Arrival.AtAsync(page, "**/lineage");
        await Accessibility.CheckAsync(page);
        var boxes = await page.Locator("svg g[data-node]").AllAsync();
        var texts = new Dictionary<string, string>();
        foreach (var box in boxes)
        {
            texts[(await box.GetAttributeAsync("data-node"))!] =
                await box.Locator("text").Last.TextContentAsync() ?? "";
        }
        var links = await page.Locator("svg a")
            .EvaluateAllAsync<string[]>("links => links.map(a => a.getAttribute('href'))");
        var rows = await page.Locator("#lineage tbody tr").AllInnerTextsAsync();
        var revokeLinks = await page.Locator("a[href$='/revoke']").CountAsync();

        texts.ShouldBe(
            new Dictionary<string, string>
            {
                ["debian/bullseye"] = "base image",
                [$"{Image}@{root.Version}"] = "revoked",
                [$"{Image}@{middle.Version}"] = "built, parent-revoked",
                [$"{Image}@{left.Version}"] = "built",
                [$"{Image}@{right.Version}"] = "built",
            },
            ignoreOrder: true
        );
        links.ShouldBe(
            new[] { root, left, right }.Select(v => $"/ui/images/{Image}/versions/{v.Version}"),
            ignoreOrder: true
        );
        rows.Select(r => r.Split('\t')[0])
            .ShouldBe([
                "base",
                "ancestor",
                "this version",
                "descendant, generation 1",
                "descendant, generation 1",
            ]);
        revokeLinks.ShouldBe(0, "a viewer is not sent to the revoke page");
    }

    [Fact(Timeout = 90_000)]
    public async Task A_release_manager_goes_from_the_lineage_to_the_revoke_pages_preview_of_its_descendants()
    {
        var (_, middle, left, right) = await LineageAsync();
        var page = await worker.SignedInAsync(ApiRoles.ReleaseManager);

        await page.GotoAsync($"/ui/images/{Image}/versions/{middle.Version}/lineage");
        await Accessibility.CheckAsync(page);
        await page.GetByRole(
                AriaRole.Link,
                new() { Name = $"What revoking {Image}@{middle.Version} would hit" }
            )
            .ClickAsync();
        await Arrival.AtAsync(page, "**/revoke");
        var descendants = await page.Locator("#impact-descendants tbody tr td:nth-child(2)")
            .AllInnerTextsAsync();

        descendants.ShouldBe([left.Version, right.Version], ignoreOrder: true);
        (await worker.Catalog.GetVersionAsync(Image, middle.Version))!.Status.ShouldBe(
            VersionStatus.Built
        );
    }

    [Fact(Timeout = 90_000)]
    public async Task The_lineage_of_an_unknown_version_is_a_404_page()
    {
        var page = await worker.SignedInAsync(ApiRoles.Viewer);

        var response = await page.GotoAsync($"/ui/images/{Image}/versions/1999.01.01.1/lineage");

        response!.Status.ShouldBe(404);
        await Accessibility.CheckAsync(page);
    }

    [Fact(Timeout = 90_000)]
    public async Task The_image_page_charts_the_newest_versions_facts_as_SVG_with_a_table_of_the_same_values()
    {
        var noFacts = await worker.RecordVersionAsync();
        var versions = new List<ImageVersion>();
        foreach (
            var (score, disk, seconds) in new[] { (81.5, 2048.0, 600.0), (84.0, 2100.0, 690.0) }
        )
        {
            var version = await worker.RecordVersionAsync();
            await worker.Catalog.RecordFactsAsync(
                Image,
                "local",
                new FactSnapshot(
                    version.Version,
                    new Dictionary<string, IReadOnlySet<string>>(),
                    new Dictionary<string, double>
                    {
                        [FactNames.ComplianceScore] = score,
                        [FactNames.DiskBytes] = disk * 1024 * 1024,
                        [FactNames.BuildSeconds] = seconds,
                    }
                )
            );
            versions.Add(version);
        }

        var page = await worker.SignedInAsync(ApiRoles.Viewer, javaScript: false);

        await page.GetByRole(AriaRole.Link, new() { Name = "versions and charts" })
            .First.ClickAsync();
        await Arrival.AtAsync(page, $"**/ui/images/{Image}");
        await Accessibility.CheckAsync(page);
        var charts = await page.Locator("figure.chart svg > title").AllTextContentsAsync();
        var scorePoints = await page.Locator("#chart-local-score circle").AllTextContentsAsync();
        var description = await page.Locator("#chart-local-disk desc").TextContentAsync();
        var rows = new List<string>();
        foreach (var v in new[] { noFacts }.Concat(versions))
        {
            rows.Add(
                await page.Locator($"#facts-local tr[data-version='{v.Version}']").InnerTextAsync()
            );
        }
        var listed = await page.Locator("#versions tbody tr").CountAsync();

        charts.ShouldBe([
            "Compliance score after hardening",
            "Disk size (MiB)",
            "Build duration (minutes)",
        ]);
        scorePoints.ShouldContain($"{versions[0].Version}: 81.5");
        scorePoints.ShouldContain($"{versions[1].Version}: 84.0");
        scorePoints.ShouldNotContain(p => p.StartsWith(noFacts.Version, StringComparison.Ordinal));
        description!.ShouldEndWith($"{versions[0].Version} 2048; {versions[1].Version} 2100");
        rows.ShouldBe([
            $"{noFacts.Version}\tnot recorded\tnot recorded\tnot recorded",
            $"{versions[0].Version}\t81.5\t2048\t10.0",
            $"{versions[1].Version}\t84.0\t2100\t11.5",
        ]);
        listed.ShouldBeInRange(3, 20);
    }

    [Fact(Timeout = 90_000)]
    public async Task The_page_of_an_unknown_image_is_a_404_page()
    {
        var page = await worker.SignedInAsync(ApiRoles.Viewer);

        var response = await page.GotoAsync("/ui/images/no-such-image");

        response!.Status.ShouldBe(404);
        await Accessibility.CheckAsync(page);
        (await page.Locator("[role=alert]").InnerTextAsync()).ShouldContain("no-such-image");
    }

    // A skipped firing now, recorded as the schedule records one: the firing, then its skipped build.
    private async Task<BuildRecord> SkipAsync(string reason)
    {
        worker.Time.Advance(TimeSpan.FromMinutes(1));
        var at = worker.Time.GetUtcNow();
        await worker.Catalog.TryRecordFiringAsync(
            new ScheduleFiring(Image, "local", at, at, "skipped", null, reason)
        );
        var build = await worker.Catalog.RecordSkippedAsync(
            new NewBuild(Image, "local", BuildTrigger.Schedule, "schedule", "schedule", "fp"),
            reason,
            at
        );
        await worker.Catalog.AttachFiringBuildAsync(Image, "local", at, build.Id);
        return build;
    }

    // base debian/bullseye -> root (revoked) -> middle (flagged) -> left and right.
    private async Task<(
        ImageVersion Root,
        ImageVersion Middle,
        ImageVersion Left,
        ImageVersion Right
    )> LineageAsync()
    {
        var root = await worker.RecordVersionAsync();
        var middle = await worker.RecordVersionAsync();
        var left = await worker.RecordVersionAsync();
        var right = await worker.RecordVersionAsync();
        await worker.Catalog.RecordLineageAsync(
            new Lineage(Image, root.Version, "debian/bullseye", null, null)
        );
        foreach (var (child, parent) in new[] { (middle, root), (left, middle), (right, middle) })
        {
            await worker.Catalog.RecordLineageAsync(
                new Lineage(Image, child.Version, null, Image, parent.Version)
            );
        }

        await new PromotionOperations(worker.Services.GetRequiredService<Pipeline>()).RevokeAsync(
            new Actor("arranger", Role.Admin),
            Image,
            root.Version,
            "bad base",
            null
        );
        return (root, middle, left, right);
    }

    private static Task<IReadOnlyList<string>> PackageNamesAsync(IPage page) =>
        page.Locator("#sbom tbody tr td:first-child").AllInnerTextsAsync();
}
