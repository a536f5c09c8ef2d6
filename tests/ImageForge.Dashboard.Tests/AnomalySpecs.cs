using System.Net;
using ImageForge.Application.Access;
using ImageForge.Core.Anomalies;
using ImageForge.Core.Builds;
using Microsoft.Playwright;
using Shouldly;
using Xunit;
using static ImageForge.TestSupport.AnomalyReports;

namespace ImageForge.Dashboard.Tests;

/// <summary>
/// A version's anomalies on its page, in chromium: each explained with its baseline and acknowledgement, the
/// acknowledge form only for a release manager (the API's operation, audited), and a report that says nothing
/// (none, or a damaged one) said plainly. Each version holds a raised high anomaly and an expected medium one.
/// </summary>
public sealed class AnomalySpecs(DashboardWorker worker) : IClassFixture<DashboardWorker>
{
    [Theory(Timeout = 90_000)]
    [InlineData(ApiRoles.Viewer)]
    [InlineData(ApiRoles.Builder)]
    public async Task A_role_below_release_manager_sees_each_anomaly_explained_and_no_form_and_a_forged_ack_is_403(
        string role
    )
    {
        const string Parent =
            "base debian/bullseye made again from the same inputs since 2026.11.01.1, with other contents";
        var version = await RecordAsync(Report(Image, Parent, Setuid, Unit));
        var page = await worker.SignedInAsync(role);

        await page.GotoAsync(PageOf(version));
        var rows = await page.Locator("#anomalies tbody tr").AllInnerTextsAsync();
        var section = await page.Locator("#anomalies").InnerTextAsync();
        var forms = await page.Locator("#anomalies form").CountAsync();
        await Accessibility.CheckAsync(page);
        var forged = await DashboardWorker.ForgedPostAsync(
            page,
            $"{PageOf(version)}/anomalies/{Setuid.Id}/ack",
            ("reason", "looks fine")
        );

        section.ShouldContain($"Checked against the parent's change: {Parent}");
        rows.Count.ShouldBe(2);
        rows[0]
            .Split('\t')
            .ShouldBe([
                "raised",
                "high",
                Setuid.Signal,
                Setuid.Id,
                Setuid.Explanation,
                Setuid.Baseline,
                "not acknowledged",
            ]);
        rows[1].ShouldStartWith("expected\tmedium\tenabled_unit");
        rows[1].ShouldContain(Unit.SuppressedBy!);
        forms.ShouldBe(0, $"a {role} may not acknowledge");
        forged.Status.ShouldBe((int)HttpStatusCode.Forbidden);
        (await AcknowledgementsAsync(version)).ShouldBeEmpty();
    }

    [Fact(Timeout = 90_000)]
    public async Task A_release_manager_acknowledges_a_raised_anomaly_and_the_page_and_the_audit_trail_show_it()
    {
        var version = await RecordAsync(Report(Image, Setuid, Unit));
        var page = await worker.SignedInAsync(ApiRoles.ReleaseManager, "rita");

        await page.GotoAsync(PageOf(version));
        var forms = await page.Locator("#anomalies form").CountAsync();
        await Accessibility.CheckAsync(page);
        await page.GetByLabel($"Reason to acknowledge {Setuid.Id}")
            .FillAsync("the extra tool is approved in CHG-7");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Acknowledge {Setuid.Id}" })
            .ClickAsync();
        await Arrival.AtAsync(page, $"**{PageOf(version)}#anomalies");
        var shown = await page.Locator($"#anomalies tr[data-anomaly='{Setuid.Id}'] td")
            .Last.InnerTextAsync();
        var formsAfter = await page.Locator("#anomalies form").CountAsync();
        var audit = await worker.Catalog.ReadAuditAsync(version.Image);

        forms.ShouldBe(1, "only the raised high anomaly needs acknowledging");
        shown.ShouldStartWith($"acknowledged by rita ({ApiRoles.ReleaseManager}) at ");
        shown.ShouldEndWith(": the extra tool is approved in CHG-7");
        formsAfter.ShouldBe(0);
        audit.ShouldContain(e =>
            e.Entry.Action == "acknowledge-anomaly"
            && e.Entry.Actor == "rita"
            && e.Entry.Version == version.Version
            && e.Entry.Reason == "the extra tool is approved in CHG-7"
        );
    }

    [Fact(Timeout = 90_000)]
    public async Task A_blank_reason_is_refused_with_an_error_page_and_nothing_is_recorded()
    {
        var version = await RecordAsync(Report(Image, Setuid, Unit));
        var page = await worker.SignedInAsync(ApiRoles.ReleaseManager, "rob");

        await page.GotoAsync(PageOf(version));
        // Blank, not empty: the browser's own 'required' check lets spaces through, the server does not.
        await page.GetByLabel($"Reason to acknowledge {Setuid.Id}").FillAsync("   ");
        var response = await page.RunAndWaitForResponseAsync(
            () =>
                page.GetByRole(AriaRole.Button, new() { Name = $"Acknowledge {Setuid.Id}" })
                    .ClickAsync(),
            r => r.Url.EndsWith("/ack", StringComparison.Ordinal)
        );
        var error = await page.GetByRole(AriaRole.Alert).TextContentAsync();
        await Accessibility.CheckAsync(page);

        response.Status.ShouldBe(400);
        error!.ShouldContain("reason: required");
        (await AcknowledgementsAsync(version)).ShouldBeEmpty();
        (await worker.Catalog.ReadAuditAsync(version.Image)).ShouldNotContain(e =>
            e.Entry.Action == "acknowledge-anomaly" && e.Entry.Version == version.Version
        );
    }

    [Fact(Timeout = 90_000)]
    public async Task A_version_without_a_report_says_so_and_a_damaged_report_is_an_error_box_naming_the_file_and_refuses_an_ack()
    {
        var bare = await worker.RecordVersionAsync();
        var damaged = await RecordAsync(
            Report(Image, Setuid).Replace("\"high\"", "\"severe\"", StringComparison.Ordinal)
        );
        var page = await worker.SignedInAsync(ApiRoles.ReleaseManager);

        await page.GotoAsync(PageOf(bare));
        var none = await page.Locator("#anomalies").InnerTextAsync();
        var response = await page.GotoAsync(PageOf(damaged));
        var box = await page.Locator("#anomalies [role=alert]").TextContentAsync() ?? "";
        var signature = await page.Locator("#signature").TextContentAsync();
        var forms = await page.Locator("#anomalies form").CountAsync();
        await Accessibility.CheckAsync(page);
        var ack = await DashboardWorker.ForgedPostAsync(
            page,
            $"{PageOf(damaged)}/anomalies/{Setuid.Id}/ack",
            ("reason", "looks fine")
        );

        none.ShouldContain("No anomaly report was recorded");
        response!.Status.ShouldBe(200);
        box.ShouldContain($"the anomalies evidence of {Image}@{damaged.Version} is unreadable");
        box.ShouldContain(damaged.Evidence.Single(e => e.Kind == AnomalyReport.Kind).Location);
        box.ShouldContain("$.anomalies[0].severity");
        signature!.ShouldContain("verified", Case.Insensitive, "the rest of the page is shown");
        forms.ShouldBe(0);
        ack.Status.ShouldBe(500);
        (await ack.TextAsync()).ShouldContain("is unreadable");
        (await AcknowledgementsAsync(damaged)).ShouldBeEmpty();
    }

    private const string Image = "debian-11-cis";

    private Task<ImageVersion> RecordAsync(string report) =>
        worker.RecordVersionAsync((AnomalyReport.FileName, AnomalyReport.Kind, report));

    private static string PageOf(ImageVersion version) =>
        $"/ui/images/{version.Image}/versions/{version.Version}";

    private Task<
        IReadOnlyList<ImageForge.Core.Promotion.AnomalyAcknowledgement>
    > AcknowledgementsAsync(ImageVersion version) =>
        worker.Catalog.GetAnomalyAcknowledgementsAsync(version.Image, version.Version);
}
