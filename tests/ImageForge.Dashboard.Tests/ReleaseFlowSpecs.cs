using ImageForge.Application.Access;
using ImageForge.Core.Builds;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace ImageForge.Dashboard.Tests;

/// <summary>
/// A release in chromium, each role doing its part on one worker: a builder diffs, promotes and rolls back, a
/// release manager revokes after seeing the impact, a builder watches a running build's log and cancels it.
/// </summary>
public sealed class ReleaseFlowSpecs(DashboardWorker worker) : IClassFixture<DashboardWorker>
{
    private const string Image = "debian-11-cis";

    [Fact(Timeout = 90_000)]
    public async Task A_builder_diffs_two_versions_promotes_the_newer_and_rolls_the_channel_back()
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
        var page = await worker.SignedInAsync(ApiRoles.Builder, "bob");

        await page.GetByRole(AriaRole.Link, new() { Name = "diff of the newest two" }).ClickAsync();
        var packages = await page.Locator("#packages tbody tr").AllInnerTextsAsync();
        await Accessibility.CheckAsync(page);
        await page.GotoAsync($"/ui/images/{Image}/versions/{newer.Version}");
        await page.GetByLabel("Promote to channel").FillAsync("dev");
        await page.GetByRole(AriaRole.Button, new() { Name = "Promote" }).ClickAsync();
        var promoted = await page.Locator("h1").TextContentAsync();
        await page.GotoAsync($"/ui/images/{Image}/channels");
        var devAfterPromotion = await page.Locator("#channels tr[data-channel=dev] td")
            .Nth(1)
            .TextContentAsync();
        await Accessibility.CheckAsync(page);
        await page.GetByLabel("Reason").First.FillAsync("bash regression");
        await page.GetByRole(AriaRole.Button, new() { Name = "Roll back dev" }).ClickAsync();
        var rolledBack = await page.Locator("h1").TextContentAsync();
        var channels = await worker.Catalog.GetChannelsAsync(Image);
        var audit = await worker.Catalog.ReadAuditAsync(Image);

        packages.ShouldBe(
            [
                "added\tjq\tamd64\t\t1.6-2.1",
                "removed\tcurl\tamd64\t7.74.0-1\t",
                "changed\tbash\tamd64\t5.1-2\t5.1-2+deb11u1",
            ],
            ignoreOrder: true
        );
        promoted.ShouldBe($"Promoted {Image}@{newer.Version} to dev");
        devAfterPromotion!.Trim().ShouldBe(newer.Version);
        rolledBack.ShouldBe($"Rolled {Image} dev back to {older.Version}");
        channels.Single(c => c.Channel == "dev").Version.ShouldBe(older.Version);
        audit.ShouldContain(e =>
            e.Entry.Action == "promote"
            && e.Entry.Actor == "bob"
            && e.Entry.Version == newer.Version
        );
        audit.ShouldContain(e =>
            e.Entry.Action == "rollback"
            && e.Entry.Actor == "bob"
            && e.Entry.Reason == "bash regression"
        );
        worker.Events.Types.ShouldContain("rolled_back");
    }

    [Fact(Timeout = 90_000)]
    public async Task A_release_manager_sees_what_a_revocation_would_hit_before_confirming_it()
    {
        var version = await worker.RecordVersionAsync();
        await worker.Operations.PromoteAsync(version, "dev");
        var page = await worker.SignedInAsync(ApiRoles.ReleaseManager, "rita");

        await page.GotoAsync($"/ui/images/{Image}/versions/{version.Version}");
        await page.GetByRole(AriaRole.Link, new() { Name = "Revoke…" }).ClickAsync();
        var impactChannels = await page.Locator("#impact-channels tbody td").AllTextContentsAsync();
        var impactTargets = await page.Locator("#impact-targets tbody td").AllTextContentsAsync();
        var statusDuringPreview = (
            await worker.Catalog.GetVersionAsync(Image, version.Version)
        )!.Status;
        await Accessibility.CheckAsync(page);
        await page.GetByLabel("Reason").FillAsync("CVE in the base");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm revocation" }).ClickAsync();
        var heading = await page.Locator("h1").TextContentAsync();

        impactChannels.ShouldBe(["dev"]);
        impactTargets.ShouldBe(["local/local"]);
        statusDuringPreview.ShouldBe(VersionStatus.Built);
        heading.ShouldBe($"Revoked {Image}@{version.Version}");
        (await worker.Catalog.GetVersionAsync(Image, version.Version))!.Status.ShouldBe(
            VersionStatus.Revoked
        );
        (await worker.Catalog.ReadAuditAsync(Image)).ShouldContain(e =>
            e.Entry.Action == "revoke"
            && e.Entry.Actor == "rita"
            && e.Entry.Reason == "CVE in the base"
        );
    }

    [Fact(Timeout = 90_000)]
    public async Task A_builder_watches_a_running_builds_log_advance_and_cancels_the_build()
    {
        var build = await worker.Catalog.StartBuildAsync(
            new NewBuild(
                Image,
                "local",
                BuildTrigger.Manual,
                "alice",
                "nightly",
                "sha256:" + new string('b', 64)
            ),
            Environment.ProcessId
        );
        await worker.Catalog.AppendLogAsync(
            build.Id,
            [(worker.Time.GetUtcNow(), "stdout", "==> stage one")]
        );
        var page = await worker.SignedInAsync(ApiRoles.Builder, "bea");

        await page.GotoAsync("/ui/builds");
        var running = await page.Locator($"tr[data-build='{build.Id}']").InnerTextAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = build.Id, Exact = true }).ClickAsync();
        await page.Locator("#log").GetByText("==> stage one").WaitForAsync();
        await worker.Catalog.AppendLogAsync(
            build.Id,
            [(worker.Time.GetUtcNow(), "stdout", "==> stage two")]
        );
        // htmx polls the log every second: the new line appears without a reload.
        await page.Locator("#log")
            .GetByText("==> stage two")
            .WaitForAsync(new() { Timeout = 30_000 });
        await Accessibility.CheckAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel build" }).ClickAsync();
        await page.Locator("#cancel-requested").WaitForAsync();

        running.ShouldContain("running");
        (await worker.Catalog.GetBuildAsync(build.Id))!.CancelRequested.ShouldBeTrue();
        (await worker.Catalog.ReadAuditAsync(Image)).ShouldContain(e =>
            e.Entry.Action == "build-cancel" && e.Entry.Actor == "bea"
        );
    }
}
