namespace ImageForge.Core.Builds;

/// <summary>The layout of the data directory: catalog, per-build work directories, artifacts and caches.</summary>
public sealed record DataPaths(string Root)
{
    public string Work => Path.Combine(Root, "work");

    public string Cache => Path.Combine(Root, "cache");

    public string Artifacts => Path.Combine(Root, "artifacts");

    public string WorkFor(string buildId) => Path.Combine(Work, buildId);

    public string ArtifactsFor(string image, string buildId) =>
        Path.Combine(Artifacts, image, buildId);

    public string CacheFor(string provider) => Path.Combine(Cache, provider);
}
