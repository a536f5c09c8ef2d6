namespace ImageForge.Core.Definitions;

/// <summary>
/// One YAML mapping being read against its schema: reports duplicate, non-text and unknown keys when opened, and
/// missing required keys on the line of the mapping itself.
/// </summary>
internal sealed class MappingReader
{
    private readonly YMapping _mapping;
    private readonly string _path;
    private readonly ProblemSink _problems;

    private MappingReader(YMapping mapping, string path, ProblemSink problems)
    {
        _mapping = mapping;
        _path = path;
        _problems = problems;
    }

    /// <summary>Line of the mapping; a missing field is reported here.</summary>
    public int Line => _mapping.Line;

    public IReadOnlyList<KeyValuePair<YScalar, YNode>> Entries => _mapping.Entries;

    public ProblemSink Problems => _problems;

    /// <summary>
    /// Opens <paramref name="node"/> as a mapping with the given known keys (null: any key, checked by the caller).
    /// Reports and returns null when it is something else.
    /// </summary>
    public static MappingReader? Open(
        YNode node,
        string path,
        string expectation,
        ProblemSink problems,
        IReadOnlyList<string>? knownKeys
    )
    {
        if (node is not YMapping mapping)
        {
            problems.Add(
                node.Line,
                FieldName(path),
                $"expected {expectation}, found {Describe(node)}"
            );
            return null;
        }
        var reader = new MappingReader(mapping, path, problems);
        foreach (var complex in mapping.ComplexKeys)
        {
            problems.Add(
                complex.Line,
                FieldName(path),
                $"expected a plain text key, found {complex.KindName} used as a key"
            );
        }
        foreach (var duplicate in mapping.Duplicates)
        {
            problems.Add(
                duplicate.Key.Line,
                reader.PathOf(duplicate.Key.Value),
                $"duplicate key '{duplicate.Key.Value}' (first given on line {duplicate.FirstLine}); keep only one"
            );
        }
        if (knownKeys is not null)
        {
            foreach (var entry in mapping.Entries)
            {
                if (!knownKeys.Contains(entry.Key.Value, StringComparer.Ordinal))
                {
                    problems.Add(
                        entry.Key.Line,
                        reader.PathOf(entry.Key.Value),
                        UnknownMessage("key", entry.Key.Value, knownKeys)
                    );
                }
            }
        }
        return reader;
    }

    /// <summary>Line of the value of <paramref name="key"/>, or of the mapping when the key is absent.</summary>
    public int LineOf(string key) => _mapping.Find(key)?.Value.Line ?? Line;

    public string PathOf(string key) => _path.Length == 0 ? key : $"{_path}.{key}";

    /// <summary>The value of <paramref name="key"/>, or null when it is absent or empty (<c>key:</c>, <c>~</c>).</summary>
    public YNode? Get(string key)
    {
        var entry = _mapping.Find(key);
        if (entry is null || entry.Value.Value is YScalar { IsNull: true })
        {
            return null;
        }
        return entry.Value.Value;
    }

    /// <summary>The value of a required key; reports "missing" on the mapping's line when absent or empty.</summary>
    public YNode? Require(string key, string expectation)
    {
        var value = Get(key);
        if (value is null)
        {
            var entry = _mapping.Find(key);
            if (entry is null)
            {
                _problems.Add(
                    Line,
                    PathOf(key),
                    $"missing required field '{key}': expected {expectation}"
                );
            }
            else
            {
                _problems.Add(
                    entry.Value.Key.Line,
                    PathOf(key),
                    $"'{key}' is empty: expected {expectation}"
                );
            }
        }
        return value;
    }

    /// <summary>A required scalar, as text; null (reported) when missing or not a scalar or blank.</summary>
    public string? RequireScalar(string key, string expectation)
    {
        var node = Require(key, expectation);
        return node is null ? null : Schema.Scalar(node, PathOf(key), expectation, _problems);
    }

    /// <summary>A required calendar date written YYYY-MM-DD; null (reported) when missing or malformed.</summary>
    public DateOnly? RequireDate(string key, string expectation)
    {
        var text = RequireScalar(key, expectation);
        if (text is null)
        {
            return null;
        }

        if (
            Patterns.IsoDate().IsMatch(text)
            && DateOnly.TryParseExact(
                text,
                "yyyy-MM-dd",
                System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.None,
                out var date
            )
        )
        {
            return date;
        }

        _problems.Add(LineOf(key), PathOf(key), $"expected {expectation}, found '{text}'");
        return null;
    }

    /// <summary>An optional scalar, as text; null when absent or when it is not a scalar (reported).</summary>
    public string? OptionalScalar(string key, string expectation)
    {
        var node = Get(key);
        return node is null ? null : Schema.Scalar(node, PathOf(key), expectation, _problems);
    }

    /// <summary>An optional true or false; null when absent or when it is something else (reported).</summary>
    public bool? OptionalBool(string key)
    {
        var text = OptionalScalar(key, "true or false");
        if (text is null)
        {
            return null;
        }
        if (bool.TryParse(text, out var value))
        {
            return value;
        }
        _problems.Add(LineOf(key), PathOf(key), $"expected true or false, found '{text}'");
        return null;
    }

    /// <summary>"unknown key 'x'; expected one of: a, b (did you mean 'y'?)".</summary>
    public static string UnknownMessage(string what, string given, IReadOnlyList<string> known)
    {
        if (known.Count == 0)
        {
            return $"unknown {what} '{given}'; none are accepted here";
        }
        var message = $"unknown {what} '{given}'; expected one of: {string.Join(", ", known)}";
        var suggestion = Schema.Closest(given, known);
        return suggestion is null ? message : $"{message} (did you mean '{suggestion}'?)";
    }

    private static string FieldName(string path) =>
        path.Length == 0 ? YamlTreeReader.DocumentField : path;

    private static string Describe(YNode node) => node.KindName;
}

/// <summary>Small readers for scalars and lists with "expected ..., found ..." messages.</summary>
internal static class Schema
{
    /// <summary>The text of a scalar node; reports and returns null for a list, a mapping or blank text.</summary>
    public static string? Scalar(YNode node, string path, string expectation, ProblemSink problems)
    {
        if (node is not YScalar scalar)
        {
            problems.Add(node.Line, path, $"expected {expectation}, found {node.KindName}");
            return null;
        }
        if (scalar.IsNull || string.IsNullOrWhiteSpace(scalar.Value))
        {
            problems.Add(node.Line, path, $"is empty: expected {expectation}");
            return null;
        }
        return scalar.Value;
    }

    /// <summary>The items of a list node with their paths (<c>path[i]</c>); reports and returns null for anything else.</summary>
    public static IReadOnlyList<(YNode Node, string Path)>? List(
        YNode node,
        string path,
        string itemsDescription,
        ProblemSink problems
    )
    {
        if (node is not YSequence sequence)
        {
            problems.Add(
                node.Line,
                path,
                $"expected a list of {itemsDescription}, found {node.KindName}"
            );
            return null;
        }
        return sequence.Items.Select((item, i) => (item, $"{path}[{i}]")).ToList();
    }

    /// <summary>A list of scalars; non-scalar items are reported and skipped.</summary>
    public static List<(string Value, int Line, string Path)>? ScalarList(
        YNode node,
        string path,
        string itemsDescription,
        string itemExpectation,
        ProblemSink problems
    )
    {
        var items = List(node, path, itemsDescription, problems);
        if (items is null)
        {
            return null;
        }
        var result = new List<(string, int, string)>();
        foreach (var (item, itemPath) in items)
        {
            var value = Scalar(item, itemPath, itemExpectation, problems);
            if (value is not null)
            {
                result.Add((value, item.Line, itemPath));
            }
        }
        return result;
    }

    /// <summary>Reports every value after the first occurrence of a repeated one.</summary>
    public static void ReportRepeats(
        IEnumerable<(string Value, int Line, string Path)> items,
        string what,
        ProblemSink problems
    )
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (value, line, path) in items)
        {
            if (!seen.TryAdd(value, line))
            {
                problems.Add(
                    line,
                    path,
                    $"{what} '{value}' is listed twice (first on line {seen[value]}); list it once"
                );
            }
        }
    }

    /// <summary>The known value closest to a misspelt one, when it is close enough to be a likely typo.</summary>
    public static string? Closest(string given, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = Distance(given.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }
        }
        return
            best is not null && bestDistance <= Math.Max(1, Math.Min(given.Length, best.Length) / 3)
            ? best
            : null;
    }

    /// <summary>Edit distance counting a swap of two neighbouring letters as one edit (gpc -> gcp).</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(
                    Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1),
                    d[i - 1, j - 1] + cost
                );
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
