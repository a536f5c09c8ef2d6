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
    /// when it verifies).
    /// </summary>
    public PromotionServices(
        ICatalog catalog,
        IPromotionStore store,
        IAuditLog audit,
        IEnumerable<IDistributionTarget> targets,
        Func<ImageVersion, CancellationToken, Task<IReadOnlyList<string>>> signatureProblems,
        TimeProvider time
    )
    {
        var context = new PromotionContext(catalog, store, audit, targets, signatureProblems, time);
        Promotions = new PromotionService(context);
        Rollbacks = new RollbackService(context);
        Revocations = new RevocationService(context);
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
