using System.Net;
using ImageForge.Application.Access;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace ImageForge.Dashboard.Tests;

/// <summary>Signing in with a token, the session cookie, and what a viewer may not do, in chromium.</summary>
public sealed class SignInSpecs(DashboardWorker worker) : IClassFixture<DashboardWorker>
{
    [Fact(Timeout = 60_000)]
    public async Task A_viewer_signs_in_with_a_token_finds_a_version_and_sees_no_action_buttons()
    {
        var version = await worker.RecordVersionAsync();
        var page = await worker.SignedInAsync(ApiRoles.Viewer, "vera");

        await page.GetByRole(AriaRole.Link, new() { Name = version.Version }).First.ClickAsync();
        await Arrival.AtAsync(page, $"**/versions/{version.Version}");
        var cookies = await page.Context.CookiesAsync();

        (await page.Locator("h1").AllTextContentsAsync()).ShouldBe([
            $"debian-11-cis@{version.Version}",
        ]);
        (await page.Locator("#signature").TextContentAsync())!.ShouldContain("verified");
        (await page.Locator("main form").CountAsync()).ShouldBe(0, "a viewer sees no action");
        var session = cookies.Single(c => c.Name == "imageforge-ui");
        session.HttpOnly.ShouldBeTrue();
        session.SameSite.ShouldBe(SameSiteAttribute.Strict);
        session.Path.ShouldBe("/ui");
        session.Value.ShouldNotContain("ifg_");
        await Accessibility.CheckAsync(page);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_forged_promotion_posted_by_a_viewer_is_refused_403_and_the_channel_does_not_move()
    {
        var version = await worker.RecordVersionAsync();
        var page = await worker.SignedInAsync(ApiRoles.Viewer, "victor");
        var before = await worker.Catalog.GetChannelsAsync(version.Image);

        var response = await DashboardWorker.ForgedPostAsync(
            page,
            $"/ui/images/{version.Image}/versions/{version.Version}/promote",
            ("channel", "dev")
        );

        response.Status.ShouldBe((int)HttpStatusCode.Forbidden);
        (await response.TextAsync()).ShouldContain("this needs the role builder");
        (await worker.Catalog.GetChannelsAsync(version.Image)).ShouldBe(before);
        (await worker.Catalog.ReadAuditAsync(version.Image)).ShouldNotContain(e =>
            e.Entry.Actor == "victor"
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_token_is_refused_on_the_sign_in_page_and_pages_redirect_there_until_signed_in()
    {
        var context = await worker.Browser.NewContextAsync(
            new() { BaseURL = worker.Address.ToString() }
        );
        var page = await context.NewPageAsync();

        await page.GotoAsync("/ui/");
        var redirected = page.Url;
        await page.GetByLabel("API token").FillAsync("ifg_not-a-token");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        redirected.ShouldContain("/ui/signin");
        (await page.GetByRole(AriaRole.Alert).TextContentAsync())!.ShouldContain(
            "unknown or revoked"
        );
        (await page.ContentAsync()).ShouldNotContain("ifg_not-a-token");
        await Accessibility.CheckAsync(page);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_version_is_a_404_page()
    {
        var page = await worker.SignedInAsync(ApiRoles.Viewer);

        var missing = await page.GotoAsync("/ui/images/debian-11-cis/versions/1999.01.01.1");

        missing!.Status.ShouldBe(404);
        (await page.Locator("main").TextContentAsync())!.ShouldContain(
            "has no version 1999.01.01.1"
        );
        await Accessibility.CheckAsync(page);
    }
}
