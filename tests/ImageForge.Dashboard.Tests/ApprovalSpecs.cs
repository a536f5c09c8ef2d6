using System.Net;
using ImageForge.Application.Access;
using ImageForge.Cli.Tests.Promotion;
using ImageForge.Core.Builds;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace ImageForge.Dashboard.Tests;

/// <summary>
/// The approvals queue in chromium: the version waiting in staging for prod (the shipped baseline asks one approval,
/// four eyes), with its gate, approvals and requester; a release manager approves and rejects with a reason, the
/// requester's own approval is a 409 page; a viewer sees no form and a forged decision is 403 with nothing recorded.
/// </summary>
public sealed class ApprovalSpecs(DashboardWorker worker) : IClassFixture<DashboardWorker>
{
    private const string Image = "debian-11-cis";

    [Fact(Timeout = 120_000)]
    public async Task A_release_manager_sees_the_queue_approves_and_rejects_with_a_reason_and_the_requester_is_refused_409_and_a_blank_reason_400()
    {
        var v = await InStagingAsync();
        var name = $"{Image}@{v.Version}";
        var own = await worker.SignedInAsync(ApiRoles.ReleaseManager, SignedVersions.Requester);

        await own.GetByRole(AriaRole.Link, new() { Name = "Approvals" }).ClickAsync();
        var row = await Row(own).AllInnerTextsAsync();
        await Accessibility.CheckAsync(own);
        var refused = await own.RunAndWaitForResponseAsync(
            () =>
                own.GetByRole(AriaRole.Button, new() { Name = $"Approve {name} for prod" })
                    .ClickAsync(),
            r => r.Url.EndsWith("/approve", StringComparison.Ordinal)
        );
        var refusal = await own.GetByRole(AriaRole.Alert).TextContentAsync();
        await Accessibility.CheckAsync(own);
        var afterRefusal = await worker.Catalog.GetApprovalsAsync(Image, v.Version, "prod");

        var rita = await worker.SignedInAsync(ApiRoles.ReleaseManager, "rita");
        await rita.GotoAsync("/ui/approvals");
        await rita.GetByLabel($"Reason to approve {name} for prod").FillAsync("reviewed CHG-9");
        await rita.GetByRole(AriaRole.Button, new() { Name = $"Approve {name} for prod" })
            .ClickAsync();
        var approved = await rita.Locator("h1").TextContentAsync();
        await Accessibility.CheckAsync(rita);
        await rita.GotoAsync("/ui/approvals");
        var approvals = await Row(rita).Locator("[data-approvals]").TextContentAsync();
        // Blank, not empty: the browser's own 'required' check lets spaces through, the server does not.
        await rita.GetByLabel($"Reason to reject {name} for prod").FillAsync("   ");
        var blank = await rita.RunAndWaitForResponseAsync(
            () =>
                rita.GetByRole(AriaRole.Button, new() { Name = $"Reject {name} for prod" })
                    .ClickAsync(),
            r => r.Url.EndsWith("/reject", StringComparison.Ordinal)
        );
        var blankError = await rita.GetByRole(AriaRole.Alert).TextContentAsync();
        var afterBlank = await worker.Catalog.GetRejectionAsync(Image, v.Version, "prod");
        await rita.GotoAsync("/ui/approvals");
        await rita.GetByLabel($"Reason to reject {name} for prod")
            .FillAsync("CVE-2026-0001 is exploitable here");
        await rita.GetByRole(AriaRole.Button, new() { Name = $"Reject {name} for prod" })
            .ClickAsync();
        var rejected = await rita.Locator("h1").TextContentAsync();
        await rita.GotoAsync("/ui/approvals");
        var stillPending = await Row(rita).CountAsync();
        await Accessibility.CheckAsync(rita);
        var audit = await worker.Catalog.ReadAuditAsync(Image);
        var promotion = await Should.ThrowAsync<InvalidOperationException>(() =>
            worker.Operations.PromoteAsync(v, "prod")
        );

        row.ShouldHaveSingleItem();
        var cells = row[0].Split('\t');
        cells[0].ShouldBe(Image);
        cells[1].ShouldBe("prod (from staging), restricted");
        cells[2].ShouldBe(v.Version);
        cells[3].ShouldStartWith("pass");
        cells[4].ShouldBe("0 of 1");
        cells[5].ShouldBe($"{SignedVersions.Requester}, four eyes");
        refused.Status.ShouldBe((int)HttpStatusCode.Conflict);
        refusal!.ShouldContain(
            $"four eyes: {SignedVersions.Requester} requested the build of {name} and cannot approve it for prod"
        );
        afterRefusal.ShouldBeEmpty();
        approved.ShouldBe($"Approved {name} for prod");
        approvals.ShouldBe("1 of 1");
        blank.Status.ShouldBe((int)HttpStatusCode.BadRequest);
        blankError!.ShouldContain("reason: required");
        afterBlank.ShouldBeNull();
        rejected.ShouldBe($"Rejected {name} for prod");
        stillPending.ShouldBe(0, "a rejected version waits for nothing");
        audit.ShouldContain(e =>
            e.Entry.Action == "reject-promotion"
            && e.Entry.Actor == "rita"
            && e.Entry.Version == v.Version
            && e.Entry.Channel == "prod"
            && e.Entry.Reason == "CVE-2026-0001 is exploitable here"
        );
        promotion.Message.ShouldContain(
            $"{name} was rejected for prod by rita (release-manager) at "
        );
    }

    [Fact(Timeout = 90_000)]
    public async Task A_viewer_sees_the_queue_without_forms_and_a_forged_approval_or_rejection_is_403()
    {
        var v = await InStagingAsync();
        var page = await worker.SignedInAsync(ApiRoles.Viewer);

        await page.GotoAsync("/ui/approvals");
        var rows = await Row(page).CountAsync();
        var forms = await page.Locator("#pending form").CountAsync();
        await Accessibility.CheckAsync(page);
        var approve = await DashboardWorker.ForgedPostAsync(
            page,
            $"/ui/images/{Image}/versions/{v.Version}/approve",
            ("channel", "prod")
        );
        var reject = await DashboardWorker.ForgedPostAsync(
            page,
            $"/ui/images/{Image}/versions/{v.Version}/reject",
            ("channel", "prod"),
            ("reason", "no")
        );

        rows.ShouldBe(1);
        forms.ShouldBe(0);
        approve.Status.ShouldBe((int)HttpStatusCode.Forbidden);
        reject.Status.ShouldBe((int)HttpStatusCode.Forbidden);
        (await worker.Catalog.GetApprovalsAsync(Image, v.Version, "prod")).ShouldBeEmpty();
        (await worker.Catalog.GetRejectionAsync(Image, v.Version, "prod")).ShouldBeNull();
    }

    // A new version in staging: the one the queue offers for prod.
    private async Task<ImageVersion> InStagingAsync()
    {
        var v = await worker.RecordVersionAsync();
        await worker.Operations.PromoteAsync(v, "dev");
        await worker.Operations.PromoteAsync(v, "staging");
        return v;
    }

    private static ILocator Row(IPage page) =>
        page.Locator($"#pending tr[data-pending='{Image}-prod']");
}
