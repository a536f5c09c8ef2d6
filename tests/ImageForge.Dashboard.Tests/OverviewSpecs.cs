using ImageForge.Application;
using ImageForge.Application.Access;
using ImageForge.Application.Operations;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace ImageForge.Dashboard.Tests;

/// <summary>
/// The overview's badges on the version a channel points at, each with its reason: revoked, gate failed, outdated
/// parent and new findings since promotion. Its own worker, so no other spec moves its channels.
/// </summary>
public sealed class OverviewSpecs(DashboardWorker worker) : IClassFixture<DashboardWorker>
{
    private const string Image = "debian-11-cis";

    [Fact(Timeout = 90_000)]
    public async Task A_channel_whose_version_was_revoked_regated_rebased_and_rescanned_shows_each_badge_with_why()
    {
        // Arrange: staging points at a version on base inputs k2; dev at one scanned with one finding, on k1.
        var good = await worker.RecordVersionAsync();
        await RecordBaseAsync(good, "k2");
        await worker.Operations.PromoteAsync(good, "dev");
        await worker.Operations.PromoteAsync(good, "staging");
        var promoted = await worker.RecordVersionAsync(
            DashboardWorker.Findings("findings.json", "CVE-2026-0001")
        );
        await RecordBaseAsync(promoted, "k1");
        await worker.Operations.PromoteAsync(promoted, "dev");
        // After the promotion: a newer version on other base inputs, a re-scan with one more finding and a failing
        // re-gate.
        var newer = await worker.RecordVersionAsync();
        await RecordBaseAsync(newer, "k2");
        await worker.AddEvidenceAsync(
            promoted,
            DashboardWorker.Findings("rescan.json", "CVE-2026-0001", "CVE-2026-0002"),
            (
                "regate.json",
                "gate-decision",
                """{"decision":"fail","baseline":"x","evaluated_at":"2026-11-22T10:30:00Z","reasons":[]}"""
            )
        );
        var rescannedAt = worker.Time.GetUtcNow();
        var since = (await worker.Catalog.GetChannelsAsync(Image))
            .Single(c => c.Channel == "dev")
            .Since;
        var dev = $"section[aria-labelledby='image-{Image}'] tr[data-channel=dev]";
        var staging = $"section[aria-labelledby='image-{Image}'] tr[data-channel=staging]";

        // Act
        var page = await worker.SignedInAsync(ApiRoles.Viewer, javaScript: false);
        await Accessibility.CheckAsync(page);
        var devBadges = await page.Locator(dev + " .channel-badge").AllInnerTextsAsync();
        var stagingVersion = await page.Locator(staging + " a").InnerTextAsync();
        var stagingBadges = await page.Locator(staging + " .channel-badge").CountAsync();
        // Revoking it moves dev back to the good version, which the badge says.
        worker.Time.Advance(TimeSpan.FromMinutes(1));
        var revokedAt = worker.Time.GetUtcNow();
        await new PromotionOperations(worker.Services.GetRequiredService<Pipeline>()).RevokeAsync(
            new Actor("arranger", Role.Admin),
            Image,
            promoted.Version,
            "spec: bad openssl",
            null
        );
        await page.GotoAsync("/ui/");
        var afterRevocation = await page.Locator(dev + " .channel-badge").AllInnerTextsAsync();

        // Assert
        since.ShouldNotBeNull();
        devBadges.ShouldBe([
            $"gate failed its newest gate decision ({rescannedAt:u}) is fail; see the version page for the reasons",
            $"outdated parent base debian/bullseye from other inputs; {newer.Version} is built on a newer one",
            $"new findings since promotion 1 finding in the scan of {rescannedAt:u} that the scan current at the promotion ({since:u}) did not have",
        ]);
        stagingVersion.ShouldBe(good.Version);
        stagingBadges.ShouldBe(0, "the same base as the newest, no re-scan");
        afterRevocation.ShouldBe([
            $"revoked {promoted.Version} was revoked {revokedAt:u} (spec: bad openssl); the channel moved back to {good.Version}",
        ]);
    }

    // What a local build records of its base: the lineage's base image, and its base facts with their key.
    private async Task RecordBaseAsync(ImageVersion version, string key)
    {
        await worker.Catalog.RecordLineageAsync(
            new Lineage(Image, version.Version, "debian/bullseye", null, null)
        );
        await worker.Catalog.RecordFactsAsync(
            Image,
            "local",
            DashboardWorker.BaseOnly(version.Version, key)
        );
    }
}
