using System.Collections.Concurrent;
using System.Xml;

namespace ImageForge.Core.Definitions;

/// <summary>What is known about one SCAP datastream: its profile ids and, when read from the file, its rule ids.</summary>
/// <param name="Source">Where the knowledge comes from (the datastream file or the shipped profile list).</param>
/// <param name="Profiles">XCCDF profile ids.</param>
/// <param name="Rules">XCCDF rule ids; null when only a shipped profile list is known.</param>
internal sealed record ScapContentInfo(
    string Source,
    IReadOnlySet<string> Profiles,
    IReadOnlySet<string>? Rules
);

/// <summary>
/// Looks up the profiles (and rules) of a datastream: from the file when it is installed on this machine, else from
/// the list ImageForge ships (<c>baselines/scap-profiles/&lt;datastream&gt;.txt</c>). Reading a 20 MB datastream takes
/// a few hundred milliseconds, so results are cached per file, size and modification time.
/// </summary>
internal static class ScapContentCatalog
{
    private const string XccdfNamespace = "http://checklists.nist.gov/xccdf/1.2";

    private static readonly ConcurrentDictionary<
        (string Path, long Size, DateTime Modified),
        ScapContentInfo
    > Cache = new();

    /// <summary>The datastream's content, or null when it is neither installed nor covered by a shipped list.</summary>
    public static ScapContentInfo? Find(ContentPaths paths, string datastream)
    {
        var installed = Path.Combine(paths.ScapContent, datastream);
        var file = new FileInfo(installed);
        if (file.Exists)
        {
            return Cache.GetOrAdd(
                (file.FullName, file.Length, file.LastWriteTimeUtc),
                key => ReadDatastream(key.Path)
            );
        }
        if (paths.ScapProfileLists is null)
        {
            return null;
        }
        var list = Path.Combine(paths.ScapProfileLists, datastream + ".txt");
        if (!File.Exists(list))
        {
            return null;
        }
        var profiles = File.ReadAllLines(list)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToHashSet(StringComparer.Ordinal);
        return new ScapContentInfo(list, profiles, null);
    }

    /// <summary>Reads profile and rule ids of an XCCDF 1.2 benchmark (inside a source datastream or alone).</summary>
    public static ScapContentInfo ReadDatastream(string path)
    {
        var profiles = new HashSet<string>(StringComparer.Ordinal);
        var rules = new HashSet<string>(StringComparer.Ordinal);
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreWhitespace = true,
        };
        using var reader = XmlReader.Create(path, settings);
        while (reader.Read())
        {
            if (reader.NodeType != XmlNodeType.Element || reader.NamespaceURI != XccdfNamespace)
            {
                continue;
            }
            var id = reader.GetAttribute("id");
            if (id is null)
            {
                continue;
            }
            switch (reader.LocalName)
            {
                case "Profile":
                    profiles.Add(id);
                    break;
                case "Rule":
                    rules.Add(id);
                    break;
            }
        }
        return new ScapContentInfo(path, profiles, rules);
    }
}
