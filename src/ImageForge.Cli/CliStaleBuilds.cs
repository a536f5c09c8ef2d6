using ImageForge.Application;
using ImageForge.Storage;

namespace ImageForge.Cli;

/// <summary>Reaps builds whose process died (see <see cref="StaleBuilds"/>) and tells the user.</summary>
internal static class CliStaleBuilds
{
    public static async Task ReapAsync(
        Catalog catalog,
        CliContext ctx,
        CancellationToken cancellationToken
    )
    {
        foreach (
            var build in await StaleBuilds.ReapAsync(catalog, ctx.Data, ctx.Time, cancellationToken)
        )
        {
            await ctx.Error.WriteLineAsync(
                $"build {build.Id} of {build.Image} was interrupted (its process is gone); cleaned up"
            );
        }
    }
}
