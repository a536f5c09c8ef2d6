namespace ImageForge.Core.Artifacts;

/// <summary>
/// The artifact store over a directory: local, or one every worker mounts at the same or another path (NFS). See
/// <see cref="IArtifactStore"/>.
/// </summary>
public sealed class FileSystemArtifactStore : IArtifactStore
{
    private readonly string _store;
    private readonly string _data;

    /// <summary>A store at <paramref name="root"/> (null: the data directory) for a process whose data directory is <paramref name="dataDirectory"/>.</summary>
    public FileSystemArtifactStore(string dataDirectory, string? root = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        _data = Prefix(dataDirectory);
        _store = root is null ? _data : Prefix(root);
        Root = _store[..^1];
    }

    /// <inheritdoc />
    public string Root { get; }

    /// <summary>The full path of a directory with one trailing separator.</summary>
    public static string Prefix(string directory) =>
        Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))
        + Path.DirectorySeparatorChar;

    /// <inheritdoc />
    public string DirectoryFor(string image, string filesKey) =>
        Path.Combine(Root, "artifacts", image, filesKey);

    /// <inheritdoc />
    public StoredLocation Store(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (!Path.IsPathFullyQualified(location))
        {
            return new(location, LocationRoot.AsGiven);
        }

        var full = Path.GetFullPath(location);
        // The store first: it may lie inside the data directory. With no store of its own, the data directory's
        // relative form is what catalogs have always held.
        var root = _store == _data ? LocationRoot.DataDirectory : LocationRoot.Store;
        if (Below(full, _store))
        {
            return new(full[_store.Length..], root);
        }

        return Below(full, _data)
            ? new(full[_data.Length..], LocationRoot.DataDirectory)
            : new(location, LocationRoot.AsGiven);
    }

    /// <inheritdoc />
    public string Resolve(StoredLocation stored)
    {
        var (location, root) = stored;
        var prefix = root switch
        {
            LocationRoot.Store => _store,
            LocationRoot.DataDirectory => _data,
            _ => null,
        };
        if (prefix is null)
        {
            return location;
        }

        var full = Path.GetFullPath(location, prefix);
        return !Path.IsPathRooted(location) && Below(full, prefix)
            ? full
            : throw new ArtifactLocationException(
                $"the catalog's artifact location '{location}' leads outside {Describe(root)} {prefix[..^1]}: "
                    + "refused (the row was damaged or tampered with); restore the catalog from a backup or rebuild the image"
            );
    }

    /// <inheritdoc />
    public Task WriteAsync(
        string path,
        ReadOnlyMemory<byte> bytes,
        CancellationToken cancellationToken
    ) => AtomicFile.WriteAsync(path, bytes, cancellationToken);

    /// <inheritdoc />
    public void Seal(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            try
            {
                using var stream = new FileStream(
                    file,
                    FileMode.Open,
                    FileAccess.ReadWrite,
                    FileShare.ReadWrite,
                    bufferSize: 0
                );
                stream.Flush(flushToDisk: true);
            }
            catch (UnauthorizedAccessException)
            {
                // A read-only file cannot be opened to flush it; the kernel writes it back on its own.
            }
            catch (IOException e)
            {
                throw new ArtifactLocationException(
                    $"could not flush {file} to the artifact store {Root}: {e.Message}; check that the share is "
                        + "mounted and writable, then build again"
                );
            }
        }
    }

    /// <inheritdoc />
    public bool Delete(string path)
    {
        var full = Path.GetFullPath(path);
        if (!Below(full, _store) && !Below(full, _data))
        {
            throw new ArtifactLocationException(
                $"{full} is outside the artifact store {Root} and the data directory {_data[..^1]}: refused to delete it"
            );
        }

        if (File.Exists(full))
        {
            File.Delete(full);
            return true;
        }

        return false;
    }

    private static bool Below(string full, string prefix) =>
        full.Length > prefix.Length && full.StartsWith(prefix, StringComparison.Ordinal);

    private static string Describe(LocationRoot root) =>
        root == LocationRoot.Store ? "the artifact store" : "the data directory";
}
