using ImageForge.Core.Promotion;
using ImageForge.Signing;
using ImageForge.Storage;

namespace ImageForge.Application.Operations;

/// <summary>
/// The catalog, the promotion service over it and the providers' distribution, and the roles file, opened for one action.
/// Opening applies the scheduled revocations whose time has come (the command line has no daemon to do it), and
/// reports each to <c>revocationApplied</c>.
/// </summary>
public sealed class PromotionSession : IAsyncDisposable
{
    private PromotionSession(Catalog catalog, PromotionServices services, AccessPolicy policy)
    {
        Catalog = catalog;
        Services = services;
        Policy = policy;
    }

    /// <summary>The catalog, open for this action.</summary>
    public Catalog Catalog { get; }

    /// <summary>Promotion, rollback, revocation and retention over the catalog, the providers' distribution and the signature verifier.</summary>
    public PromotionServices Services { get; }

    /// <summary>The roles file of the data directory: who is what, and which channels are restricted.</summary>
    public AccessPolicy Policy { get; }

    /// <summary>Opens the catalog of the pipeline's data directory and applies due scheduled revocations.</summary>
    public static async Task<PromotionSession> OpenAsync(
        Pipeline pipeline,
        Func<RevocationResult, CancellationToken, Task>? revocationApplied,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var data = pipeline.Host.Paths.Data;
        var time = pipeline.Host.Time;
        var policy = AccessPolicy.Load(data.Root);
        var trust = pipeline.TrustStore();
        var catalog = await Catalog.OpenAsync(data, time, cancellationToken);
        try
        {
            var services = new PromotionServices(
                catalog,
                catalog,
                catalog,
                pipeline.Connected.Distribution,
                async (version, token) =>
                    (await VersionVerifier.VerifyAsync(version, null, trust, token)).Problems,
                time,
                image => pipeline.LoadDefinitions().FindImage(image)?.Targets ?? [],
                image =>
                    pipeline.LoadDefinitions() is var set
                    && set.FindImage(image) is { } definition
                    && set.FindBaseline(definition.Baseline) is { } baseline
                        ? baseline.Revocation
                        : Core.Definitions.RevocationPolicy.Deprecate
            );
            foreach (
                var applied in await services.Revocations.ApplyDueRevocationsAsync(
                    cancellationToken
                )
            )
            {
                if (revocationApplied is not null)
                {
                    await revocationApplied(applied, cancellationToken);
                }
            }

            return new PromotionSession(catalog, services, policy);
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
