using System.Net;
using ImageForge.Application.Access;
using ImageForge.Core.Worker;
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
        worker.Time.Advance(TimeSpan.FromMinutes(1));
        var skippedAt = worker.Time.GetUtcNow();
        const string Reason = "inputs unchanged since build 7: all hash to sha256:abc";
        await ((IScheduleLedger)worker.Catalog).TryRecordFiringAsync(
            new ScheduleFiring(Image, "local", skippedAt, skippedAt, "skipped", null, Reason)
        );
        var queuedBefore = (await worker.Catalog.ListQueuedAsync()).Count;
        var page = await worker.SignedInAsync(ApiRoles.Viewer);

        await page.GetByRole(AriaRole.Link, new() { Name = "Schedules" }).ClickAsync();
        await page.WaitForURLAsync("**/ui/schedules");
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
        cells[5].Trim().ShouldBe("skipped");
        cells[6].Trim().ShouldBe(Reason);
        forms.ShouldBe(0, "a viewer may not run a schedule");
        forged.Status.ShouldBe((int)HttpStatusCode.Forbidden);
        (await worker.Catalog.ListQueuedAsync()).Count.ShouldBe(queuedBefore);
    }

    [Fact(Timeout = 90_000)]
    public async Task A_builder_runs_a_schedule_now_with_a_reason_and_the_firing_is_queued_and_audited()
    {
        worker.Time.Advance(TimeSpan.FromMinutes(1));
        var page = await worker.SignedInAsync(ApiRoles.Builder, "bea");

        await page.GotoAsync("/ui/schedules");
        await Accessibility.CheckAsync(page);
        await page.GetByLabel($"Reason to run {Image} now").FillAsync("new mirror snapshot");
        await page.GetByLabel("Build even if nothing changed").First.CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Run now" }).First.ClickAsync();
        await page.WaitForURLAsync($"**/ui/schedules/{Image}/run");
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
        (await page.Locator($"tr[data-schedule='{Image}'] td").Nth(5).InnerTextAsync())
            .Trim()
            .ShouldStartWith("queued");
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
}
