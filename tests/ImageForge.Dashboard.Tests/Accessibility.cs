using Microsoft.Playwright;
using Shouldly;

namespace ImageForge.Dashboard.Tests;

/// <summary>The basics, asserted in the browser: one h1, every form control labelled, every table with headers.</summary>
internal static class Accessibility
{
    public static async Task CheckAsync(IPage page)
    {
        (await page.Locator("h1").CountAsync()).ShouldBe(1, $"{page.Url} must have exactly one h1");
        var unlabelled = await page.EvaluateAsync<string[]>(
            """
            () => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                .map(e => e.outerHTML)
            """
        );
        unlabelled.ShouldBeEmpty($"{page.Url} has form controls without a label");
        var headless = await page.EvaluateAsync<int>(
            "() => [...document.querySelectorAll('table')].filter(t => !t.querySelector('th')).length"
        );
        headless.ShouldBe(0, $"{page.Url} has tables without th headers");
    }
}
