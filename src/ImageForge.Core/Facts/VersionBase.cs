namespace ImageForge.Core.Facts;

/// <summary>
/// What one version was built from, as the catalog records it: the base image its lineage names
/// (<c>debian/bullseye</c>, an AMI id), the ImageForge version it was built on, and the key and digest of its base's
/// facts (<see cref="FactNames.BaseKey"/>, <see cref="FactNames.BaseDigest"/>). Each part is null when not recorded.
/// </summary>
public sealed record VersionBase(
    string Version,
    string? BaseImage,
    string? Parent,
    string? Key,
    string? Digest
)
{
    /// <summary>
    /// Why this version's parent is outdated against <paramref name="newest"/>, the image's newest version: another
    /// base image or parent version, a base made from other inputs, or the same inputs made again with other
    /// contents. Null when nothing recorded on both sides differs.
    /// </summary>
    public string? OutdatedAgainst(VersionBase newest)
    {
        ArgumentNullException.ThrowIfNull(newest);
        if (newest.Version == Version)
        {
            return null;
        }
        var since = $"{newest.Version} is built on";
        var its = BaseImage is { } named ? $"base {named}" : "base";
        return (this, newest) switch
        {
            ({ BaseImage: { } a }, { BaseImage: { } b }) when a != b => $"base {a}; {since} {b}",
            ({ Parent: var a }, { Parent: var b }) when (a ?? b) is not null && a != b =>
                $"parent {a ?? "none"}; {since} {b ?? "none"}",
            ({ Key: { } a }, { Key: { } b }) when a != b =>
                $"{its} from other inputs; {since} a newer one",
            ({ Digest: { } a }, { Digest: { } b }) when a != b =>
                $"{its} made again since with other contents; {since} that one",
            _ => null,
        };
    }
}
