using ImageForge.Application.Access;
using ImageForge.Core.Builds;
using ImageForge.Core.Facts;
using ImageForge.Core.Promotion;
using ImageForge.Core.Worker;
using ImageForge.TestUtils;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace ImageForge.Dashboard.Tests;

/// <summary>
/// The main screens as an admin sees them, each checked for the accessibility basics and photographed. The pictures
/// go to a temporary folder; with <c>IMAGEFORGE_UPDATE_SCREENSHOTS=1</c> into <c>docs/dashboard/</c> (committed,
/// shown in the README).
/// </summary>
public sealed class ScreenshotSpecs(DashboardWorker worker) : IClassFixture<DashboardWorker>
{
    private const string Image = "debian-11-cis";

    [Fact(Timeout = 90_000)]
    public async Task A_builder_rebuilds_now_with_a_reason_and_lands_on_the_queued_build()
    {
        var page = await worker.SignedInAsync(ApiRoles.Builder, "bram");

        await page.GotoAsync("/ui/builds");
        await page.GetByLabel("Image").SelectOptionAsync(Image);
        await page.GetByLabel("Reason").FillAsync("openssl fix");
        await page.GetByRole(AriaRole.Button, new() { Name = "Rebuild now" }).ClickAsync();
        await Arrival.AtAsync(page, "**/ui/builds/*");
        var builds = await worker.Catalog.ListBuildsAsync(Image);

        var queued = builds.ShouldHaveSingleItem();
        queued.Status.ShouldBe(BuildStatus.Queued);
        queued.Reason.ShouldBe("openssl fix");
        queued.Requester.ShouldBe("bram");
        (await page.Locator("h1").TextContentAsync()).ShouldBe($"Build {queued.Id}");
    }

    [Fact(Timeout = 90_000)]
    public async Task The_main_screens_pass_the_accessibility_basics_and_are_photographed()
    {
        var older = await worker.RecordVersionWithPackagesAsync(
            ("bash", "5.1-2"),
            ("curl", "7.74.0-1")
        );
        var newer = await worker.RecordVersionWithPackagesAsync(
            ("bash", "5.1-2+deb11u1"),
            ("jq", "1.6-2.1")
        );
        await worker.Operations.PromoteAsync(older, "dev");
        await worker.Operations.PromoteAsync(newer, "dev");
        await worker.Operations.PromoteAsync(newer, "staging");
        await ArrangeFactsLineageAndScheduleAsync(older, newer);
        // Badges on the overview: a rebuild from newer base inputs, and a re-scan of the promoted version that found
        // one more advisory.
        var rebuilt = await worker.RecordVersionAsync();
        await worker.Catalog.RecordLineageAsync(
            new Lineage(Image, rebuilt.Version, null, Image, older.Version)
        );
        await worker.Catalog.RecordFactsAsync(
            Image,
            "local",
            DashboardWorker.BaseOnly(rebuilt.Version, "k2")
        );
        await worker.AddEvidenceAsync(
            newer,
            DashboardWorker.Findings("rescan.json", "CVE-2026-41233")
        );
        var page = await worker.SignedInAsync(ApiRoles.Admin, "ada");
        var folder =
            Environment.GetEnvironmentVariable("IMAGEFORGE_UPDATE_SCREENSHOTS") == "1"
                ? Path.Combine(RepoPaths.Root, "docs", "dashboard")
                : Path.Combine(Path.GetTempPath(), "imageforge-screenshots");
        Directory.CreateDirectory(folder);
        await page.SetViewportSizeAsync(1280, 900);

        foreach (
            var (name, url) in new[]
            {
                ("overview", "/ui/"),
                ("version", $"/ui/images/{Image}/versions/{newer.Version}"),
                ("diff", $"/ui/images/{Image}/diff?from={older.Version}&to={newer.Version}"),
                ("channels", $"/ui/images/{Image}/channels"),
                ("revoke-preview", $"/ui/images/{Image}/versions/{newer.Version}/revoke"),
                ("audit", "/ui/audit"),
                ("schedules", "/ui/schedules"),
                ("lineage", $"/ui/images/{Image}/versions/{older.Version}/lineage"),
                ("image-charts", $"/ui/images/{Image}"),
                ("approvals", "/ui/approvals"),
            }
        )
        {
            var response = await page.GotoAsync(url);
            response!.Status.ShouldBe(200, url);
            await Accessibility.CheckAsync(page);
            await page.ScreenshotAsync(
                new() { Path = Path.Combine(folder, name + ".png"), FullPage = false }
            );
        }

        File.Exists(Path.Combine(folder, "overview.png")).ShouldBeTrue();
    }

    // Facts for the charts, the newer version built on the older, and a skipped firing for the schedules.
    private async Task ArrangeFactsLineageAndScheduleAsync(ImageVersion older, ImageVersion newer)
    {
        foreach (
            var (version, score, disk, seconds) in new[]
            {
                (older, 82.5, 1900.0, 640.0),
                (newer, 86.0, 1960.0, 610.0),
            }
        )
        {
            await worker.Catalog.RecordFactsAsync(
                Image,
                "local",
                DashboardWorker.BaseOnly(version.Version, "k1") with
                {
                    Metrics = new Dictionary<string, double>
                    {
                        [FactNames.ComplianceScore] = score,
                        [FactNames.DiskBytes] = disk * 1024 * 1024,
                        [FactNames.BuildSeconds] = seconds,
                    },
                }
            );
        }

        await worker.Catalog.RecordLineageAsync(
            new Lineage(Image, older.Version, "debian/bullseye", null, null)
        );
        await worker.Catalog.RecordLineageAsync(
            new Lineage(Image, newer.Version, null, Image, older.Version)
        );
        var now = worker.Time.GetUtcNow();
        var reason =
            $"inputs unchanged since build 2 ({Image}@{newer.Version}): definition, baseline, templates, hardening, "
            + "base image and package versions on the mirror all hash to sha256:5f0c…";
        await worker.Catalog.TryRecordFiringAsync(
            new ScheduleFiring(Image, "local", now, now, "skipped", null, reason)
        );
        var skipped = await worker.Catalog.RecordSkippedAsync(
            new NewBuild(Image, "local", BuildTrigger.Schedule, "schedule", "schedule", "fp"),
            reason,
            now
        );
        await worker.Catalog.AttachFiringBuildAsync(Image, "local", now, skipped.Id);
    }
}
