using ImageForge.Core.Definitions;

namespace ImageForge.Core.Builds;

/// <summary>
/// What a target would build from if it built now, beyond the files in the repository (port; one per provider):
/// for the local target, the apt suites and the candidate versions of packages on the mirror. Part of the input
/// fingerprint, so a scheduled build is skipped only when nothing it would install has changed.
/// </summary>
public interface IInputResolver
{
    /// <summary>The provider whose targets this resolves: local, aws, azure, gcp.</summary>
    string Provider { get; }

    /// <summary>
    /// Named digests (<c>sha256:&lt;hex&gt;</c>) of what <paramref name="target"/> would use now, in a stable order:
    /// the same inputs give the same list. Failures to reach what the target uses are
    /// <see cref="Errors.ImageForgeException"/>s naming it.
    /// </summary>
    /// <param name="target">The target of a definition, defaults filled in.</param>
    /// <param name="packages">The package names to resolve (the last version's inventory and the definition's additions).</param>
    /// <param name="cancellationToken">Stops the resolution.</param>
    Task<IReadOnlyList<(string Name, string Digest)>> ResolveAsync(
        TargetSpec target,
        IReadOnlyCollection<string> packages,
        CancellationToken cancellationToken = default
    );
}
