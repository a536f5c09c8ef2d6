using ImageForge.Core.Audit;
using ImageForge.Core.Builds;

namespace ImageForge.Core.Promotion;

/// <summary>
/// The promotion services over one catalog: promotion and approval, rollback, revocation and retention, sharing the
/// catalog, the providers' distribution, the signature check and the clock.
/// </summary>
public sealed class PromotionServices
{
    /// <summary>
    /// Creates the services; <paramref name="signatureProblems"/> verifies a version's signature and digests (empty
    /// when it verifies); <paramref name="targetsOf"/> gives an image's definition targets (their channel options), which
    /// the providers read when a revocation moves a channel back (none when null); <paramref name="revocationOf"/> gives
    /// how far a revocation of an image goes (its baseline's <c>revocation:</c>; deprecate only when null).
    /// </summary>
    public PromotionServices(
        ICatalog catalog,
        IPromotionStore store,
        IAuditLog audit,
        IEnumerable<IDistributionTarget> targets,
        Func<ImageVersion, CancellationToken, Task<IReadOnlyList<string>>> signatureProblems,
        TimeProvider time,
        Func<string, IReadOnlyList<Definitions.TargetSpec>>? targetsOf = null,
        Func<string, Definitions.RevocationPolicy>? revocationOf = null
    )
    {
        var context = new PromotionContext(catalog, store, audit, targets, signatureProblems, time);
        Promotions = new PromotionService(context);
        Rollbacks = new RollbackService(context);
        Revocations = new RevocationService(
            context,
            targetsOf ?? (_ => []),
            revocationOf ?? (_ => Definitions.RevocationPolicy.Deprecate)
        );
        Retention = new RetentionService(context);
    }

    /// <summary>Promote and approve.</summary>
    public PromotionService Promotions { get; }

    /// <summary>Roll a channel back.</summary>
    public RollbackService Rollbacks { get; }

    /// <summary>Revoke now or at a time; apply due scheduled revocations.</summary>
    public RevocationService Revocations { get; }

    /// <summary>Keep and delete versions (gc).</summary>
    public RetentionService Retention { get; }
}
