namespace ImageForge.Toolchain.Packer;

/// <summary>A successful <c>packer build</c>: its artifacts in the order reported and the tail of its output.</summary>
/// <param name="Artifacts">Every artifact of every build, post-processor artifacts included.</param>
/// <param name="LastLines">The last lines of output (secrets masked), for the build log.</param>
public sealed record PackerBuildResult(
    IReadOnlyList<PackerArtifact> Artifacts,
    IReadOnlyList<string> LastLines
);
