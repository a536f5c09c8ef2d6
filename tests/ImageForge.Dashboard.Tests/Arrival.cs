using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace ImageForge.Dashboard.Tests;

/// <summary>
/// Waits for a page to reach an address and load it, without <c>WaitForURLAsync</c>: its check-then-subscribe can
/// miss the navigation it waits for and time out on a page that has loaded (microsoft/playwright-dotnet#3364; CI met
/// it on the sign-in redirect). The address is asserted with a polling <c>ToHaveURLAsync</c>; the load state is asked
/// for in short waits, since a state the client missed is still recorded and found by the next ask.
/// </summary>
internal static class Arrival
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(1);

    /// <summary>Waits until <paramref name="page"/>'s address matches <paramref name="glob"/> and its page has loaded.</summary>
    /// <param name="page">The page that navigates.</param>
    /// <param name="glob">Playwright's URL glob: <c>**</c> any characters, <c>*</c> any but <c>/</c>.</param>
    public static async Task AtAsync(IPage page, string glob)
    {
        await Assertions
            .Expect(page)
            .ToHaveURLAsync(Pattern(glob), new() { Timeout = (float)Timeout.TotalMilliseconds });
        var deadline = TimeProvider.System.GetUtcNow() + Timeout;
        while (true)
        {
            try
            {
                await page.WaitForLoadStateAsync(
                    LoadState.Load,
                    new() { Timeout = (float)Ask.TotalMilliseconds }
                );
                return;
            }
            catch (TimeoutException) when (TimeProvider.System.GetUtcNow() < deadline) { }
        }
    }

    /// <summary>The glob as an anchored regular expression (no options: the browser evaluates it).</summary>
    internal static Regex Pattern(string glob)
    {
        var pattern = new StringBuilder("^");
        for (var i = 0; i < glob.Length; i++)
        {
            if (glob[i] != '*')
            {
                pattern.Append(Regex.Escape(glob[i].ToString()));
            }
            else if (i + 1 < glob.Length && glob[i + 1] == '*')
            {
                pattern.Append(".*");
                i++;
            }
            else
            {
                pattern.Append("[^/]*");
            }
        }

        return new Regex(pattern.Append('$').ToString());
    }
}
