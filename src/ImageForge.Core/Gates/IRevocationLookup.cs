namespace ImageForge.Core.Gates;

/// <summary>Whether a base image has been revoked (port; the revocation data arrives with channels and promotion).</summary>
public interface IRevocationLookup
{
    /// <summary>The revocation state of <paramref name="baseImage"/> on <paramref name="provider"/>.</summary>
    Task<RevocationState> LookupAsync(
        string provider,
        string baseImage,
        CancellationToken cancellationToken = default
    );
}

/// <summary>Whether the image is revoked, and what the answer rests on (shown as the gate reason's "found").</summary>
public sealed record RevocationState(bool Revoked, string Detail);

/// <summary>
/// The lookup used until ImageForge records revocations: nothing is revoked, and the reason says that no revocation
/// data exists yet, so a passing gate is not mistaken for a real check.
/// </summary>
public sealed class NoRevocationData : IRevocationLookup
{
    /// <summary>The one instance.</summary>
    public static NoRevocationData Instance { get; } = new();

    /// <summary>What the gate reason says.</summary>
    public const string Detail =
        "not revoked (revocation data is not available yet: ImageForge records no revocations)";

    /// <inheritdoc />
    public Task<RevocationState> LookupAsync(
        string provider,
        string baseImage,
        CancellationToken cancellationToken = default
    ) => Task.FromResult(new RevocationState(false, Detail));
}
