using ImageForge.Core.Builds;
using ImageForge.Storage;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Cli;

/// <summary>
/// Cleans up after builds whose owning process died (killed, machine rebooted): stops what is left of their tool's
/// process group, releases mounts below their work directory, and ends them with the given status.
/// </summary>
internal static class StaleBuilds
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    public static async Task ReapAsync(
        SqliteCatalog catalog,
        CliContext ctx,
        CancellationToken cancellationToken
    )
    {
        foreach (var build in await catalog.ListRunningBuildsAsync(cancellationToken))
        {
            if (!OwnerAlive(build))
            {
                await EndAsync(
                    catalog,
                    ctx,
                    build,
                    BuildStatus.Interrupted,
                    "its imageforge process ended while it ran; leftovers cleaned",
                    cancellationToken
                );
                await ctx.Error.WriteLineAsync(
                    $"build {build.Id} of {build.Image} was interrupted (its process is gone); cleaned up"
                );
            }
        }
    }

    public static bool OwnerAlive(BuildRecord build) =>
        build.OwnerPid is { } pid && Directory.Exists($"/proc/{pid}");

    public static async Task EndAsync(
        SqliteCatalog catalog,
        CliContext ctx,
        BuildRecord build,
        BuildStatus status,
        string message,
        CancellationToken cancellationToken
    )
    {
        if (build.ToolProcessGroup is { } group)
        {
            await ProcessGroup.KillAndWaitAsync(group, Grace, cancellationToken);
        }

        var work = ctx.Data.WorkFor(build.Id);
        MountTable.UnmountBelow(work);
        if (Directory.Exists(work) && MountTable.MountsBelow(work).Count == 0)
        {
            Directory.Delete(work, recursive: true);
        }

        await catalog.EndBuildAsync(
            build.Id,
            status,
            message,
            ctx.Time.GetUtcNow(),
            cancellationToken
        );
    }
}
