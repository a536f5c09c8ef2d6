using ImageForge.Core.Errors;

namespace ImageForge.Core.Artifacts;

/// <summary>
/// A stored artifact location leads outside the root it is relative to (a damaged or tampered catalog row: path
/// traversal), or a deletion named a path outside the store: refused, nothing is read or deleted. Also a build's
/// files that could not be flushed to the store (the build then fails; no version names them). Exit code 3.
/// </summary>
public sealed class ArtifactLocationException : ImageForgeException
{
    /// <summary>Creates the exception; <paramref name="message"/> names the location and the root.</summary>
    public ArtifactLocationException(string message)
        : base(message) { }

    /// <inheritdoc />
    public override int ExitCode => 3;
}
