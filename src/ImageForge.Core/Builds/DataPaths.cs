using ImageForge.Core.Artifacts;

namespace ImageForge.Core.Builds;

/// <summary>
/// The layout of the data directory: catalog, per-build work directories, artifacts and caches. The catalog is the
/// SQLite file in <see cref="Root"/> unless <see cref="Database"/> names a PostgreSQL database (several workers then
/// share it, and <see cref="Root"/> is a directory they share too).
/// </summary>
/// <param name="Root">The data directory.</param>
/// <param name="Database">A PostgreSQL connection string (IMAGEFORGE_DATABASE or worker.yaml's database); null for SQLite.</param>
/// <param name="ArtifactRoot">
/// The artifact store every worker of a cluster shares (IMAGEFORGE_ARTIFACTS or worker.yaml's artifacts); null keeps
/// the artifacts in <see cref="Root"/>.
/// </param>
public sealed record DataPaths(string Root, string? Database = null, string? ArtifactRoot = null)
{
    public string Work => Path.Combine(Root, "work");

    public string Cache => Path.Combine(Root, "cache");

    /// <summary>The artifact store: where builds keep their final artifacts and evidence, and how the catalog's locations resolve.</summary>
    public IArtifactStore Store => new FileSystemArtifactStore(Root, ArtifactRoot);

    public string Artifacts => Path.Combine(Store.Root, "artifacts");

    public string WorkFor(string buildId) => Path.Combine(Work, buildId);

    public string ArtifactsFor(string image, string buildId) => Store.DirectoryFor(image, buildId);

    public string CacheFor(string provider) => Path.Combine(Cache, provider);

    // A connection string may hold a password: a printed DataPaths never shows it.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Root = ").Append(Root).Append(", Database = ");
        builder.Append(Database is null ? "sqlite" : "postgresql");
        builder.Append(", ArtifactRoot = ").Append(ArtifactRoot ?? Root);
        return true;
    }
}
