namespace ImageForge.Storage.Sql;

/// <summary>
/// Where the catalog's artifacts and evidence are, as stored: a location below the data directory relative to it
/// (so a data directory restored from a backup or moved still finds its files, resolved against the directory the
/// catalog is opened in), anything else as given (a path outside it, a provider image id). Readers always get
/// absolute paths back.
/// </summary>
internal sealed class DataRoot(string dataDirectory)
{
    private readonly string _prefix = Prefix(dataDirectory);

    /// <summary>The full path of the data directory with one trailing separator.</summary>
    public static string Prefix(string dataDirectory) =>
        Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory))
        + Path.DirectorySeparatorChar;

    /// <summary>The stored form of <paramref name="location"/> and whether it is relative to the data directory.</summary>
    public (string Location, bool InDataDir) Store(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (Path.IsPathFullyQualified(location))
        {
            var full = Path.GetFullPath(location);
            if (full.Length > _prefix.Length && full.StartsWith(_prefix, StringComparison.Ordinal))
            {
                return (full[_prefix.Length..], true);
            }
        }

        return (location, false);
    }

    /// <summary>The location a stored one means in this data directory.</summary>
    public string Resolve(string stored, bool inDataDir) => inDataDir ? _prefix + stored : stored;
}
