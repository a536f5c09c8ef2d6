using System.IO.Compression;
using ImageForge.Application.Access;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace ImageForge.Dashboard.Tests;

/// <summary>A version's evidence from the browser: the bundle verifies offline, the audit trail answers questions.</summary>
public sealed class EvidenceSpecs(DashboardWorker worker) : IClassFixture<DashboardWorker>
{
    private const string Image = "debian-11-cis";

    [Fact(Timeout = 90_000)]
    public async Task The_evidence_bundle_verifies_offline_with_sha256sum_and_the_documented_openssl_commands()
    {
        var version = await worker.RecordVersionAsync();
        var page = await worker.SignedInAsync(ApiRoles.Viewer);
        await page.GotoAsync($"/ui/images/{Image}/versions/{version.Version}");
        await Accessibility.CheckAsync(page);
        using var unpacked = new TempDirectory("imageforge-bundle");

        var download = await page.RunAndWaitForDownloadAsync(() =>
            page.GetByRole(AriaRole.Link, new() { Name = "Evidence bundle (zip)" }).ClickAsync()
        );
        var zip = unpacked.Combine("bundle.zip");
        await download.SaveAsAsync(zip);
        await ZipFile.ExtractToDirectoryAsync(zip, unpacked.Combine("bundle"));
        var folder = unpacked.Combine("bundle");
        var files = Directory.GetFiles(folder).Select(Path.GetFileName).ToList();
        var sums = await DocumentedShell.RunAsync("sha256sum -c SHA256SUMS", folder);
        var signature = await DocumentedShell.RunAsync(DocumentedShell.OpensslCommands(), folder);

        files.ShouldBe(
            [
                .. version.Evidence.Select(e => Path.GetFileName(e.Location)).Distinct(),
                "SHA256SUMS",
            ],
            ignoreOrder: true
        );
        sums.Exit.ShouldBe(0, sums.Output);
        signature.Exit.ShouldBe(0, signature.Output);
        signature.Output.ShouldContain("Verified OK");
    }

    [Fact(Timeout = 90_000)]
    public async Task The_audit_trail_filters_by_actor_verifies_its_chain_and_says_what_a_channel_pointed_at_then()
    {
        var version = await worker.RecordVersionAsync();
        await worker.Operations.PromoteAsync(version, "dev");
        var promotedAt = worker.Time.GetUtcNow();
        worker.Time.Advance(TimeSpan.FromHours(1));
        var page = await worker.SignedInAsync(ApiRoles.Viewer);

        await page.GotoAsync("/ui/audit");
        await page.GetByLabel("Actor").FillAsync("arranger");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        var actors = await page.Locator("#audit tbody td:nth-child(4)").AllTextContentsAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify chain" }).ClickAsync();
        var verification = await page.Locator("#verification").TextContentAsync();
        await Accessibility.CheckAsync(page);
        await page.GotoAsync(
            $"/ui/audit/at?image={Image}&channel=dev&at={Uri.EscapeDataString(promotedAt.AddMinutes(1).ToString("O"))}"
        );
        var answer = await page.Locator("#answer").TextContentAsync();
        await Accessibility.CheckAsync(page);
        var malformed = await page.GotoAsync(
            $"/ui/audit/at?image={Image}&channel=dev&at=yesterday-ish"
        );
        var unknown = await page.GotoAsync("/ui/images/no-such-image/channels");

        actors.ShouldNotBeEmpty();
        actors.ShouldAllBe(a => a == "arranger");
        verification!.ShouldContain("Chain verified");
        answer!.ShouldContain($"{Image}@{version.Version}");
        malformed!.Status.ShouldBe(400);
        unknown!.Status.ShouldBe(404);
    }
}
