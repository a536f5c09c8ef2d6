using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;

namespace ImageForge.Core.Vulnerabilities;

/// <summary>One affected package of an OSV record, reduced to what matching needs.</summary>
internal sealed record OsvAffected(
    string Ecosystem,
    string Name,
    IReadOnlyList<OsvRange> Ranges,
    IReadOnlySet<string> Versions,
    string? Severity
);

/// <summary>One range of an affected package: its type (ECOSYSTEM, SEMVER, GIT) and events in file order.</summary>
internal sealed record OsvRange(string Type, IReadOnlyList<OsvEvent> Events);

/// <summary>introduced, fixed, last_affected or limit, with its version.</summary>
internal sealed record OsvEvent(string Kind, string Version);

/// <summary>An OSV advisory as matching uses it.</summary>
internal sealed record OsvRecord(
    string Id,
    IReadOnlyList<string> Aliases,
    string? Summary,
    string? CvssVector,
    double? CvssScore,
    IReadOnlyList<OsvAffected> Affected
);

/// <summary>
/// An OSV database directory as osv.dev exports it: one JSON record per advisory, in any subdirectories (per
/// ecosystem), loose or inside <c>*.zip</c> archives (the <c>all.zip</c> of an ecosystem export). Records are
/// checked on load (required fields and types of the OSV schema); a record that fails, or a file that is not JSON,
/// is skipped and reported as a <see cref="ScanProblem"/> naming the file. Withdrawn records are ignored.
/// </summary>
internal sealed class OsvDatabase
{
    private static readonly HashSet<string> RangeTypes = ["ECOSYSTEM", "SEMVER", "GIT"];
    private static readonly string[] EventKinds = ["introduced", "fixed", "last_affected", "limit"];

    private readonly Dictionary<string, List<(OsvRecord Record, OsvAffected Affected)>> _byName;

    private OsvDatabase(
        Dictionary<string, List<(OsvRecord, OsvAffected)>> byName,
        int records,
        IReadOnlyList<ScanProblem> problems
    )
    {
        _byName = byName;
        RecordCount = records;
        Problems = problems;
    }

    /// <summary>Records loaded (after filtering by package name).</summary>
    public int RecordCount { get; }

    /// <summary>Files skipped because they are malformed, each naming the file.</summary>
    public IReadOnlyList<ScanProblem> Problems { get; }

    /// <summary>
    /// Loads every record below <paramref name="directory"/>. With <paramref name="packageNames"/>, only affected
    /// entries for those package names are kept (what a scan of one image needs; far less memory).
    /// </summary>
    public static OsvDatabase Load(
        string directory,
        IReadOnlySet<string>? packageNames = null,
        CancellationToken cancellationToken = default
    )
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException(
                $"OSV database directory {directory} does not exist"
            );
        }
        var records = new ConcurrentBag<OsvRecord>();
        var problems = new ConcurrentBag<ScanProblem>();
        var files = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories);
        Parallel.ForEach(
            files,
            new ParallelOptions { CancellationToken = cancellationToken },
            file =>
            {
                if (file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                {
                    byte[] bytes;
                    try
                    {
                        bytes = File.ReadAllBytes(file);
                    }
                    catch (IOException e)
                    {
                        problems.Add(new ScanProblem(file, $"cannot be read: {e.Message}"));
                        return;
                    }
                    ParseInto(bytes, file, packageNames, records, problems);
                }
                else if (file.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
                {
                    try
                    {
                        using var zip = ZipFile.OpenRead(file);
                        foreach (var entry in zip.Entries)
                        {
                            if (
                                !entry.FullName.EndsWith(
                                    ".json",
                                    StringComparison.OrdinalIgnoreCase
                                )
                            )
                            {
                                continue;
                            }
                            using var stream = entry.Open();
                            using var copy = new MemoryStream();
                            stream.CopyTo(copy);
                            ParseInto(
                                copy.ToArray(),
                                $"{file}!{entry.FullName}",
                                packageNames,
                                records,
                                problems
                            );
                        }
                    }
                    catch (InvalidDataException e)
                    {
                        problems.Add(
                            new ScanProblem(file, $"is not a readable zip archive: {e.Message}")
                        );
                    }
                }
            }
        );
        var byName = new Dictionary<string, List<(OsvRecord, OsvAffected)>>(StringComparer.Ordinal);
        var count = 0;
        foreach (var record in records.OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            count++;
            foreach (var affected in record.Affected)
            {
                if (!byName.TryGetValue(affected.Name, out var list))
                {
                    byName[affected.Name] = list = [];
                }
                list.Add((record, affected));
            }
        }
        return new OsvDatabase(
            byName,
            count,
            problems.OrderBy(p => p.File, StringComparer.Ordinal).ToList()
        );
    }

    /// <summary>Parses and checks one record; a problem names the file. Null when the record is skipped.</summary>
    internal static OsvRecord? Parse(
        byte[] json,
        string file,
        IReadOnlySet<string>? packageNames,
        out string? problem
    )
    {
        problem = null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = "is not an OSV record: expected a JSON object";
                return null;
            }
            var id = RequiredString(root, "id", "");
            RequiredString(root, "modified", "");
            if (root.TryGetProperty("withdrawn", out var withdrawn))
            {
                _ = ExpectKind(withdrawn, JsonValueKind.String, "withdrawn");
                return null;
            }
            var aliases = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var key in new[] { "aliases", "upstream" })
            {
                foreach (var alias in StringArray(root, key))
                {
                    if (alias != id)
                    {
                        aliases.Add(alias);
                    }
                }
            }
            _ = StringArray(root, "related");
            string? summary = null;
            if (root.TryGetProperty("summary", out var s))
            {
                summary = ExpectKind(s, JsonValueKind.String, "summary").GetString();
            }
            var (vector, score) = ReadSeverity(root, "severity");
            var affected = new List<OsvAffected>();
            if (root.TryGetProperty("affected", out var affectedList))
            {
                var index = 0;
                foreach (
                    var a in ExpectKind(affectedList, JsonValueKind.Array, "affected")
                        .EnumerateArray()
                )
                {
                    var path = $"affected[{index++}]";
                    ExpectKind(a, JsonValueKind.Object, path);
                    if (!a.TryGetProperty("package", out var package))
                    {
                        // Records that name only git ranges of a repository have no package: nothing to match.
                        continue;
                    }
                    ExpectKind(package, JsonValueKind.Object, path + ".package");
                    var ecosystem = RequiredString(package, "ecosystem", path + ".package.");
                    var name = RequiredString(package, "name", path + ".package.");
                    var ranges = ReadRanges(a, path);
                    var versions = StringArray(a, "versions").ToHashSet(StringComparer.Ordinal);
                    _ = ReadSeverity(a, "severity");
                    if (packageNames is not null && !packageNames.Contains(name))
                    {
                        continue;
                    }
                    affected.Add(
                        new OsvAffected(ecosystem, name, ranges, versions, SpecificSeverity(a))
                    );
                }
            }
            return packageNames is not null && affected.Count == 0
                ? null
                : new OsvRecord(id, [.. aliases], summary, vector, score, affected);
        }
        catch (JsonException e)
        {
            problem = $"is not valid JSON: {e.Message}";
        }
        catch (OsvFormatException e)
        {
            problem = $"fails the OSV schema: {e.Message}";
        }
        return null;
    }

    private static void ParseInto(
        byte[] json,
        string file,
        IReadOnlySet<string>? packageNames,
        ConcurrentBag<OsvRecord> records,
        ConcurrentBag<ScanProblem> problems
    )
    {
        if (packageNames is not null && NamesNoneOf(json, packageNames))
        {
            return;
        }
        var record = Parse(json, file, packageNames, out var problem);
        if (problem is not null)
        {
            problems.Add(new ScanProblem(file, problem + " (record skipped)"));
        }
        else if (record is not null)
        {
            records.Add(record);
        }
    }

    // A cheap first pass: true when the record names packages and none of them is wanted, so it is not parsed and
    // checked further (most of a large database). Records naming no package, or not valid JSON, get the full check.
    private static bool NamesNoneOf(byte[] json, IReadOnlySet<string> wanted)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            var named = false;
            while (reader.Read())
            {
                if (
                    reader.TokenType == JsonTokenType.PropertyName
                    && reader.ValueTextEquals("name"u8)
                )
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                    {
                        return false;
                    }
                    named = true;
                    if (wanted.Contains(reader.GetString()!))
                    {
                        return false;
                    }
                }
            }
            return named;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static List<OsvRange> ReadRanges(JsonElement affected, string path)
    {
        var ranges = new List<OsvRange>();
        if (!affected.TryGetProperty("ranges", out var list))
        {
            return ranges;
        }
        var index = 0;
        foreach (var r in ExpectKind(list, JsonValueKind.Array, path + ".ranges").EnumerateArray())
        {
            var rpath = $"{path}.ranges[{index++}]";
            ExpectKind(r, JsonValueKind.Object, rpath);
            var type = RequiredString(r, "type", rpath + ".");
            if (!RangeTypes.Contains(type))
            {
                throw new OsvFormatException(
                    $"{rpath}.type '{type}' is not one of GIT, SEMVER, ECOSYSTEM"
                );
            }
            if (type == "GIT" && !r.TryGetProperty("repo", out _))
            {
                throw new OsvFormatException($"{rpath}: a GIT range needs repo");
            }
            if (!r.TryGetProperty("events", out var events))
            {
                throw new OsvFormatException($"{rpath}.events is missing");
            }
            var parsed = new List<OsvEvent>();
            var e = 0;
            foreach (
                var ev in ExpectKind(events, JsonValueKind.Array, rpath + ".events")
                    .EnumerateArray()
            )
            {
                var epath = $"{rpath}.events[{e++}]";
                ExpectKind(ev, JsonValueKind.Object, epath);
                OsvEvent? one = null;
                foreach (var p in ev.EnumerateObject())
                {
                    if (!EventKinds.Contains(p.Name))
                    {
                        throw new OsvFormatException(
                            $"{epath} has '{p.Name}'; expected one of introduced, fixed, last_affected, limit"
                        );
                    }
                    if (one is not null)
                    {
                        throw new OsvFormatException(
                            $"{epath} has more than one of introduced, fixed, last_affected, limit"
                        );
                    }
                    one = new OsvEvent(
                        p.Name,
                        ExpectKind(p.Value, JsonValueKind.String, $"{epath}.{p.Name}").GetString()!
                    );
                }
                parsed.Add(one ?? throw new OsvFormatException($"{epath} is empty"));
            }
            if (parsed.Count == 0)
            {
                throw new OsvFormatException($"{rpath}.events is empty");
            }
            ranges.Add(new OsvRange(type, parsed));
        }
        return ranges;
    }

    private static (string? Vector, double? Score) ReadSeverity(JsonElement element, string key)
    {
        if (!element.TryGetProperty(key, out var list))
        {
            return (null, null);
        }
        string? vector = null;
        double? score = null;
        foreach (var s in ExpectKind(list, JsonValueKind.Array, key).EnumerateArray())
        {
            ExpectKind(s, JsonValueKind.Object, key + "[]");
            var type = RequiredString(s, "type", key + "[].");
            var text = RequiredString(s, "score", key + "[].");
            if (
                type is "CVSS_V3"
                && Cvss.BaseScoreV3(text) is { } v3
                && (score is null || v3 > score)
            )
            {
                (vector, score) = (text, v3);
            }
            else if (vector is null && type is "CVSS_V4" or "CVSS_V2")
            {
                vector = text;
            }
        }
        return (vector, score);
    }

    // Debian and Ubuntu put an urgency or priority in ecosystem_specific/database_specific.
    private static string? SpecificSeverity(JsonElement affected)
    {
        foreach (var key in new[] { "ecosystem_specific", "database_specific" })
        {
            if (
                affected.TryGetProperty(key, out var specific)
                && specific.ValueKind == JsonValueKind.Object
                && specific.TryGetProperty("severity", out var sev)
                && sev.ValueKind == JsonValueKind.String
            )
            {
                return sev.GetString();
            }
        }
        return null;
    }

    private static string RequiredString(JsonElement e, string name, string prefix)
    {
        if (!e.TryGetProperty(name, out var value))
        {
            throw new OsvFormatException($"required field {prefix}{name} is missing");
        }
        var text = ExpectKind(value, JsonValueKind.String, prefix + name).GetString()!;
        return text;
    }

    private static List<string> StringArray(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var value))
        {
            return [];
        }
        if (value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        ExpectKind(value, JsonValueKind.Array, name);
        var list = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            list.Add(ExpectKind(item, JsonValueKind.String, name + "[]").GetString()!);
        }
        return list;
    }

    private static JsonElement ExpectKind(JsonElement e, JsonValueKind kind, string path) =>
        e.ValueKind == kind
            ? e
            : throw new OsvFormatException(
                $"{path} must be {kind.ToString().ToLowerInvariant()}, found {e.ValueKind.ToString().ToLowerInvariant()}"
            );

    /// <summary>
    /// Findings for one installed package: records whose affected package has this ecosystem (see
    /// <see cref="EcosystemMatches"/>) and name, and whose ranges or versions include the version.
    /// </summary>
    internal IEnumerable<(OsvRecord Record, OsvAffected Affected, string? Fixed)> Match(
        string ecosystem,
        string name,
        string version
    )
    {
        if (!_byName.TryGetValue(name, out var candidates))
        {
            yield break;
        }
        foreach (var (record, affected) in candidates)
        {
            if (!EcosystemMatches(affected.Ecosystem, ecosystem))
            {
                continue;
            }
            if (OsvRanges.IsAffected(affected, version, out var fixedVersion))
            {
                yield return (record, affected, fixedVersion);
            }
        }
    }

    /// <summary>
    /// "Debian:11" matches "Debian:11"; "Ubuntu:22.04" also matches "Ubuntu:22.04:LTS" and "Ubuntu:Pro:22.04:LTS";
    /// "Red Hat" matches every Red Hat product stream whose CPE names the wanted major release.
    /// </summary>
    public static bool EcosystemMatches(string recordEcosystem, string imageEcosystem)
    {
        if (string.Equals(recordEcosystem, imageEcosystem, StringComparison.Ordinal))
        {
            return true;
        }
        if (recordEcosystem.StartsWith(imageEcosystem + ":", StringComparison.Ordinal))
        {
            return true;
        }
        var image = imageEcosystem.Split(':');
        var record = recordEcosystem.Split(':');
        if (image[0] == "Ubuntu" && record[0] == "Ubuntu" && image.Length > 1)
        {
            return record.Length > 2 && record[1] == "Pro" && record[2] == image[1];
        }
        if (image[0] == "Red Hat" && record[0] == "Red Hat" && image.Length > 1)
        {
            // Red Hat:enterprise_linux:9::baseos, Red Hat:rhel_eus:9.2::appstream
            return record.Length > 2
                && (
                    record[2] == image[1]
                    || record[2].StartsWith(image[1] + ".", StringComparison.Ordinal)
                );
        }
        return false;
    }
}

/// <summary>An OSV record breaks a rule of the OSV schema.</summary>
internal sealed class OsvFormatException(string message) : Exception(message);

/// <summary>Evaluates OSV affected ranges and versions lists.</summary>
internal static class OsvRanges
{
    /// <summary>
    /// True when <paramref name="version"/> is listed in versions or lies in a range: walking the events in version
    /// order, introduced at or below the version makes it affected, fixed at or below it (or last_affected below it,
    /// or limit at or below it) makes it not affected. Fixed is the first fixed version above it, when there is one.
    /// </summary>
    public static bool IsAffected(OsvAffected affected, string version, out string? fixedVersion)
    {
        fixedVersion = null;
        var comparer = VersionOrdering.ForEcosystem(affected.Ecosystem);
        var hit = affected.Versions.Contains(version);
        foreach (var range in affected.Ranges)
        {
            var cmp = range.Type switch
            {
                "ECOSYSTEM" => comparer,
                "SEMVER" => SemVerComparer.Instance,
                _ => null,
            };
            if (cmp is null)
            {
                continue;
            }
            var events = range
                .Events.OrderBy(e => e.Version, new ZeroFirst(cmp))
                .ThenBy(e =>
                    Array.IndexOf(["introduced", "last_affected", "fixed", "limit"], e.Kind)
                )
                .ToList();
            var affectedHere = false;
            string? firstFixedAbove = null;
            foreach (var e in events)
            {
                var c =
                    e.Version == "0" && e.Kind == "introduced"
                        ? 1
                        : cmp.Compare(version, e.Version);
                switch (e.Kind)
                {
                    case "introduced" when c >= 0:
                        affectedHere = true;
                        break;
                    case "fixed" when c >= 0:
                    case "limit" when c >= 0:
                    case "last_affected" when c > 0:
                        affectedHere = false;
                        break;
                    case "fixed" when firstFixedAbove is null:
                        firstFixedAbove = e.Version;
                        break;
                }
            }
            if (affectedHere)
            {
                hit = true;
                fixedVersion ??= firstFixedAbove;
            }
        }
        if (hit && fixedVersion is null && comparer is not null)
        {
            // Listed in versions only: the first fixed event above it in any range, if any.
            fixedVersion = affected
                .Ranges.SelectMany(r => r.Events)
                .Where(e => e.Kind == "fixed" && comparer.Compare(e.Version, version) > 0)
                .Select(e => e.Version)
                .Order(comparer)
                .FirstOrDefault();
        }
        return hit;
    }

    private sealed class ZeroFirst(IComparer<string> inner) : IComparer<string>
    {
        public int Compare(string? x, string? y) =>
            x == y ? 0
            : x == "0" ? -1
            : y == "0" ? 1
            : inner.Compare(x, y);
    }
}

/// <summary>Semantic Versioning 2.0 precedence (build metadata ignored), for SEMVER ranges.</summary>
internal sealed class SemVerComparer : IComparer<string>
{
    public static SemVerComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        var (ca, pa) = Split(x ?? "");
        var (cb, pb) = Split(y ?? "");
        for (var i = 0; i < 3; i++)
        {
            var c = ca[i].CompareTo(cb[i]);
            if (c != 0)
            {
                return c;
            }
        }
        if (pa.Length == 0 || pb.Length == 0)
        {
            return pb.Length - pa.Length == 0 ? 0
                : pa.Length == 0 ? 1
                : -1;
        }
        for (var i = 0; i < Math.Min(pa.Length, pb.Length); i++)
        {
            var na = long.TryParse(pa[i], out var a);
            var nb = long.TryParse(pb[i], out var b);
            var c =
                na && nb ? a.CompareTo(b)
                : na ? -1
                : nb ? 1
                : string.CompareOrdinal(pa[i], pb[i]);
            if (c != 0)
            {
                return Math.Sign(c);
            }
        }
        return pa.Length.CompareTo(pb.Length);
    }

    private static (long[] Core, string[] Pre) Split(string v)
    {
        v = v.TrimStart('v').Split('+')[0];
        var dash = v.IndexOf('-', StringComparison.Ordinal);
        var core = dash >= 0 ? v[..dash] : v;
        var pre = dash >= 0 ? v[(dash + 1)..].Split('.') : [];
        var parts = core.Split('.');
        var numbers = new long[3];
        for (var i = 0; i < 3 && i < parts.Length; i++)
        {
            _ = long.TryParse(parts[i], out numbers[i]);
        }
        return (numbers, pre);
    }
}
