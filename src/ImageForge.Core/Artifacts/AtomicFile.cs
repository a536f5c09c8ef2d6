namespace ImageForge.Core.Artifacts;

/// <summary>
/// Writes a file so that a reader (another worker on the shared store) sees either nothing or the whole file: the
/// bytes go to a temporary name of their own in the same directory, are flushed to disk, and are renamed into place.
/// A writer killed midway leaves only a hidden <c>.partial</c> file that no catalog row names.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically, creating its directory.</summary>
    public static async Task WriteAsync(
        string path,
        ReadOnlyMemory<byte> bytes,
        CancellationToken cancellationToken
    )
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        // Its own temporary name: two writers of one path (a paused attempt, its successor) never share one.
        var partial = Path.Combine(
            directory,
            $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.partial"
        );
        try
        {
            await using (
                var stream = new FileStream(
                    partial,
                    FileMode.CreateNew,
                    FileAccess.Write,
                    FileShare.None,
                    bufferSize: 0,
                    useAsync: true
                )
            )
            {
                await stream.WriteAsync(bytes, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(partial, full, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
    }
}
