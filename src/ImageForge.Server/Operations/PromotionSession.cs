using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;
using ImageForge.Providers.Local;
using ImageForge.Signing;
using ImageForge.Storage;

namespace ImageForge.Server.Operations;

/// <summary>
/// The catalog, the promotion service over it and the local registry, and the roles file, opened for one action.
/// Opening applies the scheduled revocations whose time has come (the command line has no daemon to do it), and
/// reports each to <c>revocationApplied</c>.
/// </summary>
public sealed class PromotionSession : IAsyncDisposable
{
    private PromotionSession(SqliteCatalog catalog, PromotionService service, AccessPolicy policy)
    {
        Catalog = catalog;
        Service = service;
        Policy = policy;
    }

    /// <summary>The catalog, open for this action.</summary>
    public SqliteCatalog Catalog { get; }

    /// <summary>Promotion over the catalog, the local registry and the signature verifier.</summary>
    public PromotionService Service { get; }

    /// <summary>The roles file of the data directory: who is what, and which channels are restricted.</summary>
    public AccessPolicy Policy { get; }

    /// <summary>Opens the catalog of <paramref name="data"/> and applies due scheduled revocations.</summary>
    public static async Task<PromotionSession> OpenAsync(
        DataPaths data,
        TimeProvider time,
        Func<RevocationResult, CancellationToken, Task>? revocationApplied,
        CancellationToken cancellationToken
    )
    {
        var policy = AccessPolicy.Load(data.Root);
        var catalog = await SqliteCatalog.OpenAsync(data.Root, time, cancellationToken);
        try
        {
            var service = new PromotionService(
                catalog,
                catalog,
                catalog,
                [new LocalRegistry(data.Root, time)],
                async (version, token) =>
                    (await VersionVerifier.VerifyAsync(version, null, token)).Problems,
                time
            );
            foreach (var applied in await service.ApplyDueRevocationsAsync(cancellationToken))
            {
                if (revocationApplied is not null)
                {
                    await revocationApplied(applied, cancellationToken);
                }
            }

            return new PromotionSession(catalog, service, policy);
        }
        catch
        {
            await catalog.DisposeAsync();
            throw;
        }
    }

    /// <summary>Closes the catalog.</summary>
    public ValueTask DisposeAsync() => Catalog.DisposeAsync();
}
