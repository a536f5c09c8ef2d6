using ImageForge.Application.Remote;
using ImageForge.Core.Builds;
using ImageForge.Storage;

namespace ImageForge.Cli;

/// <summary>
/// The catalog a read command works on: the local one, or a worker's through its API (<c>--server</c>). Exactly one
/// of <see cref="Local"/> and <see cref="Remote"/> is set.
/// </summary>
internal sealed class CatalogSession : IAsyncDisposable
{
    private CatalogSession(Catalog? local, WorkerClient? remote)
    {
        Local = local;
        Remote = remote;
    }

    public Catalog? Local { get; }

    public WorkerClient? Remote { get; }

    public ICatalogReader Reader => (ICatalogReader?)Local ?? Remote!;

    public static CatalogSession Of(Catalog local) => new(local, null);

    public static CatalogSession Of(WorkerClient remote) => new(null, remote);

    public async ValueTask DisposeAsync()
    {
        if (Local is not null)
        {
            await Local.DisposeAsync();
        }

        if (Remote is not null)
        {
            await Remote.DisposeAsync();
        }
    }
}
