using System.Text;
using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;
using ImageForge.Toolchain.Files;

namespace ImageForge.Application;

/// <summary>
/// The definition set of one content directory for a long-lived process (the worker's pages and API ask for it on
/// every request): loaded again only when the day changed (waivers expire by the day) or anything the loader reads
/// did. That is every entry of the definitions and baselines directories, every file and directory below the
/// hardening root, and the SCAP content and shipped profile lists, each by its <see cref="FileIdentity"/> (an edit,
/// a truncation, a rename over it or a reset modification time all change its status-change time), so a stale set is
/// never served. Taking the stamp costs one <c>statx</c> per entry: about a hundred for the shipped content.
/// </summary>
internal sealed class DefinitionCache(ContentPaths paths, ProviderRegistry providers)
{
    private readonly Lock _lock = new();
    private (string Stamp, DefinitionSet Set)? _last;

    /// <summary>The set as <see cref="DefinitionLoader.Load"/> gives it for <paramref name="today"/>.</summary>
    public DefinitionSet Load(DateOnly today)
    {
        var stamp = Stamp(today);
        lock (_lock)
        {
            if (_last is { } last && last.Stamp == stamp)
            {
                return last.Set;
            }
        }
        var set = DefinitionLoader.Load(paths, today, providers);
        lock (_lock)
        {
            _last = (stamp, set);
        }
        return set;
    }

    private string Stamp(DateOnly today)
    {
        var text = new StringBuilder(today.ToString("O", null)).Append('\n');
        Add(text, paths.Definitions, SearchOption.TopDirectoryOnly);
        Add(text, paths.Baselines, SearchOption.TopDirectoryOnly);
        Add(text, paths.Hardening, SearchOption.AllDirectories);
        Add(text, paths.ScapContent, SearchOption.TopDirectoryOnly);
        if (paths.ScapProfileLists is { } lists)
        {
            Add(text, lists, SearchOption.TopDirectoryOnly);
        }
        return text.ToString();
    }

    // The directory and its entries, sorted, each with its identity (none when it is gone between listing and statx).
    private static void Add(StringBuilder text, string directory, SearchOption depth)
    {
        text.Append(directory).Append('\t').Append(FileIdentity.Of(directory)).Append('\n');
        if (!Directory.Exists(directory))
        {
            return;
        }
        IEnumerable<string> entries;
        try
        {
            entries = Directory
                .EnumerateFileSystemEntries(directory, "*", depth)
                .Order(StringComparer.Ordinal)
                .ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // What cannot be listed is what the loader cannot read either: load again each time.
            text.Append(Guid.NewGuid()).Append('\n');
            return;
        }
        foreach (var entry in entries)
        {
            text.Append(entry).Append('\t').Append(FileIdentity.Of(entry)).Append('\n');
        }
    }
}
