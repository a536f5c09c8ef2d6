namespace ImageForge.Core.Definitions;

/// <summary>
/// Reads a baseline's <c>revocation:</c> section, how far a revocation goes in the clouds:
/// <code>
/// revocation:
///   disable: true   # besides deprecating: AWS DisableImage, GCE state DELETED; nothing can launch the images
/// </code>
/// Without it a revocation deprecates (AWS deprecation time, GCE OBSOLETE, Azure end of life), which stops new
/// lookups but still lets anything that names the image by id launch it.
/// </summary>
internal static class BaselineRevocationReader
{
    private static readonly IReadOnlyList<string> Keys = ["disable"];

    public static RevocationPolicy Read(MappingReader baseline)
    {
        var node = baseline.Get("revocation");
        if (node is null)
        {
            return RevocationPolicy.Deprecate;
        }
        var map = MappingReader.Open(
            node,
            "revocation",
            "a mapping with disable (true or false), e.g. revocation: { disable: true }",
            baseline.Problems,
            Keys
        );
        return map?.OptionalBool("disable") == true
            ? RevocationPolicy.Disable
            : RevocationPolicy.Deprecate;
    }
}

/// <summary>How far a revocation of the baseline's images goes in the clouds (the <c>revocation:</c> section).</summary>
/// <param name="DisableImages">Besides deprecating, disable the images where the cloud can (AWS, GCE).</param>
public sealed record RevocationPolicy(bool DisableImages)
{
    /// <summary>Deprecate only (the default).</summary>
    public static RevocationPolicy Deprecate { get; } = new(false);

    /// <summary>Deprecate, and disable where the cloud can.</summary>
    public static RevocationPolicy Disable { get; } = new(true);
}
