using ImageForge.Core.Builds;
using ImageForge.Storage;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Application;

/// <summary>
/// Cleans up after builds whose owning process died (killed, machine rebooted): stops what is left of their tool's
/// process group, releases mounts below their work directory, deletes it, and ends them with the given status. The
/// command line runs it before a build and when listing builds; the worker runs it when it starts. Only builds this
/// machine owns are judged (<see cref="HostIdentity"/>). A build a worker claimed is under its lease (docs/cluster.md):
/// when its worker is gone its lease is only ended, and the next worker's reaper takes it over (queued again).
/// </summary>
public static class StaleBuilds
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Ends every running build whose owner process is gone as Interrupted and returns them; one a worker claimed has
    /// its lease ended instead, for a worker to take it over.
    /// </summary>
    public static async Task<IReadOnlyList<BuildRecord>> ReapAsync(
        Catalog catalog,
        DataPaths data,
        TimeProvider time,
        CancellationToken cancellationToken
    )
    {
        var reaped = new List<BuildRecord>();
        foreach (var build in await catalog.ListRunningBuildsAsync(cancellationToken))
        {
            if (OwnerAlive(build))
            {
                continue;
            }

            if (build.LeaseWorker is not null)
            {
                await catalog.ExpireLeaseAsync(build.Lease, cancellationToken);
            }
            else
            {
                await EndAsync(
                    catalog,
                    data,
                    time,
                    build,
                    BuildStatus.Interrupted,
                    "its imageforge process ended while it ran; leftovers cleaned",
                    cancellationToken
                );
                reaped.Add(build);
            }
        }

        return reaped;
    }

    /// <summary>
    /// Whether the process that owns a running build may still be there. An owner on another machine sharing the
    /// catalog counts as alive: nothing here can tell, and its process ids and groups mean nothing here. One recorded
    /// by this machine before its last boot is gone.
    /// </summary>
    public static bool OwnerAlive(BuildRecord build) =>
        HostIdentity.Locate(build.OwnerHost) switch
        {
            OwnerPlace.OtherMachine => true,
            OwnerPlace.EarlierBoot => false,
            _ => build.OwnerPid is { } pid && Directory.Exists($"/proc/{pid}"),
        };

    /// <summary>Stops the build's leftovers (process group, mounts, work directory) and ends it.</summary>
    public static async Task EndAsync(
        Catalog catalog,
        DataPaths data,
        TimeProvider time,
        BuildRecord build,
        BuildStatus status,
        string message,
        CancellationToken cancellationToken
    )
    {
        await CleanUpAsync(data, build, cancellationToken);
        await catalog.EndBuildAsync(
            build.Id,
            status,
            message,
            time.GetUtcNow(),
            cancellationToken: cancellationToken
        );
    }

    /// <summary>
    /// Stops what is left of the build's tool process group (when it was recorded on this machine since its last
    /// boot), releases mounts below its work directory and deletes that directory.
    /// </summary>
    public static async Task CleanUpAsync(
        DataPaths data,
        BuildRecord build,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(build);
        // A group recorded before this machine last booted names some other process group now.
        if (
            build.ToolProcessGroup is { } group
            && HostIdentity.Locate(build.OwnerHost) == OwnerPlace.ThisBoot
        )
        {
            await ProcessGroup.KillAndWaitAsync(group, Grace, cancellationToken);
        }

        var work = data.WorkFor(build.FilesKey);
        MountTable.UnmountBelow(work);
        if (Directory.Exists(work) && MountTable.MountsBelow(work).Count == 0)
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
                // A leftover process of the build removed its own part of it while this ran.
            }
        }
    }
}
