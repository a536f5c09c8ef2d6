namespace ImageForge.Core.Artifacts;

/// <summary>Which root a stored location is relative to.</summary>
public enum LocationRoot
{
    /// <summary>Kept as given: a path outside both roots, or a provider's image id.</summary>
    AsGiven = 0,

    /// <summary>Relative to the data directory of the process reading it (catalogs from before the store).</summary>
    DataDirectory = 1,

    /// <summary>Relative to the artifact store's root, which every worker of a cluster shares.</summary>
    Store = 2,
}

/// <summary>A location as the catalog keeps it: the text and the root it is relative to.</summary>
public readonly record struct StoredLocation(string Location, LocationRoot Root);

/// <summary>
/// Where builds keep their final artifacts and evidence, and the one resolver of their stored locations
/// (docs/cluster.md). The store's root is a directory every worker of a cluster shares (an NFS mount: worker.yaml's
/// <c>artifacts</c>, IMAGEFORGE_ARTIFACTS); by default it is the data directory. A location below the store is stored
/// relative to it, so any worker serves any version's files; one below the data directory relative to that (as
/// catalogs written before the store did); anything else as given.
/// </summary>
public interface IArtifactStore
{
    /// <summary>The store's root directory (full path).</summary>
    string Root { get; }

    /// <summary>The directory below the store where one build attempt of an image keeps its output.</summary>
    string DirectoryFor(string image, string filesKey);

    /// <summary>The stored form of <paramref name="location"/> (an absolute path or a provider id).</summary>
    StoredLocation Store(string location);

    /// <summary>The full path a stored location means here; one kept as given comes back as it is.</summary>
    /// <exception cref="ArtifactLocationException">A relative location that leads outside its root (path traversal).</exception>
    string Resolve(StoredLocation stored);

    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="path"/> atomically: a temporary name in the same directory,
    /// flushed to disk, then renamed, so a reader never sees half a file, whenever the writer dies.
    /// </summary>
    Task WriteAsync(string path, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken);

    /// <summary>
    /// Flushes every file below <paramref name="directory"/> (written by tools such as Packer) to disk before the
    /// catalog records them, so a version never points at data a crash could still lose.
    /// </summary>
    /// <exception cref="ArtifactLocationException">A file could not be flushed (the share is gone or read-only).</exception>
    void Seal(string directory);

    /// <summary>Deletes a file below the store or the data directory; false when it was not there.</summary>
    /// <exception cref="ArtifactLocationException">The path is outside both roots: nothing is deleted.</exception>
    bool Delete(string path);
}
