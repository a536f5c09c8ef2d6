using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;

namespace ImageForge.Core.Promotion;

/// <summary>
/// What the promotion services share: the catalog and its promotion store, the audit log, the providers' distribution,
/// the signature check and the clock, with the lookups and audit entries every one of them makes.
/// </summary>
internal sealed class PromotionContext(
    ICatalog catalog,
    IPromotionStore store,
    IAuditLog audit,
    IEnumerable<IDistributionTarget> targets,
    Func<ImageVersion, CancellationToken, Task<IReadOnlyList<string>>> signatureProblems,
    TimeProvider time
)
{
    public ICatalog Catalog { get; } = catalog;

    public IPromotionStore Store { get; } = store;

    public IAuditLog Audit { get; } = audit;

    public IReadOnlyDictionary<string, IDistributionTarget> Targets { get; } =
        targets.ToDictionary(t => t.Target, StringComparer.Ordinal);

    public Func<
        ImageVersion,
        CancellationToken,
        Task<IReadOnlyList<string>>
    > SignatureProblems { get; } = signatureProblems;

    public TimeProvider Time { get; } = time;

    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>The channel's place in the image's path; an unknown channel is bad input.</summary>
    public static int ChannelIndex(string image, string channel, IReadOnlyList<string> path)
    {
        var index = path.ToList().IndexOf(channel);
        return index >= 0
            ? index
            : throw new InvalidInputException(
                $"{image} has no channel '{channel}'; its channels are {string.Join(" -> ", path)}"
            );
    }

    /// <summary>The version; an unknown one is bad input.</summary>
    public async Task<ImageVersion> VersionAsync(
        string image,
        string version,
        CancellationToken cancellationToken
    ) =>
        await Catalog.GetVersionAsync(image, version, cancellationToken)
        ?? throw new InvalidInputException(
            $"{image} has no version {version}; 'imageforge images show {image}' lists its versions"
        );

    /// <summary>An audit event of the actor, now.</summary>
    public AuditEntry Entry(
        Actor actor,
        string action,
        string? image,
        string? version,
        string? channel,
        string? reason,
        string? details = null
    ) =>
        new()
        {
            Action = action,
            Actor = actor.Name,
            Role = actor.RoleName,
            Time = Now,
            Image = image,
            Version = version,
            Channel = channel,
            Reason = reason,
            Details = details,
        };
}
