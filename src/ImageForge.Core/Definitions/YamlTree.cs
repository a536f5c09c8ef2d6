using ImageForge.Core.Errors;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace ImageForge.Core.Definitions;

/// <summary>A node of a parsed YAML document with the line it starts on (1-based, as YamlDotNet marks it).</summary>
internal abstract class YNode(int line)
{
    public int Line { get; } = line;

    /// <summary>How a problem message names what was found: "a scalar", "a list", "a mapping".</summary>
    public abstract string KindName { get; }
}

internal sealed class YScalar(int line, string value, bool plain) : YNode(line)
{
    public string Value { get; } = value;

    /// <summary>True for an unquoted scalar; only those can mean null.</summary>
    public bool IsPlain { get; } = plain;

    /// <summary>An empty value (<c>key:</c>), <c>~</c> or <c>null</c>, unquoted: treated as if the key were absent.</summary>
    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string KindName => IsNull ? "nothing (an empty value)" : "a scalar";
}

internal sealed class YSequence(int line, IReadOnlyList<YNode> items) : YNode(line)
{
    public IReadOnlyList<YNode> Items { get; } = items;

    public override string KindName => "a list";
}

internal sealed class YMapping(
    int line,
    IReadOnlyList<KeyValuePair<YScalar, YNode>> entries,
    IReadOnlyList<YMapping.Duplicate> duplicates,
    IReadOnlyList<YNode> complexKeys
) : YNode(line)
{
    /// <summary>A key given again; the first value is kept.</summary>
    public sealed record Duplicate(YScalar Key, int FirstLine);

    /// <summary>Entries in document order; a key given twice is kept once (the first).</summary>
    public IReadOnlyList<KeyValuePair<YScalar, YNode>> Entries { get; } = entries;

    /// <summary>Keys given more than once, reported by whoever walks this mapping (it knows the field path).</summary>
    public IReadOnlyList<Duplicate> Duplicates { get; } = duplicates;

    /// <summary>Keys that are lists or mappings rather than text.</summary>
    public IReadOnlyList<YNode> ComplexKeys { get; } = complexKeys;

    public override string KindName => "a mapping";

    public KeyValuePair<YScalar, YNode>? Find(string key)
    {
        foreach (var entry in Entries)
        {
            if (entry.Key.Value == key)
            {
                return entry;
            }
        }
        return null;
    }
}

/// <summary>
/// Reads one YAML file into a <see cref="YNode"/> tree from YamlDotNet's parser events, so that a duplicate key or
/// an unknown alias becomes a reported problem instead of aborting the file, and every node keeps its line.
/// </summary>
internal static class YamlTreeReader
{
    /// <summary>Field name used for problems that concern the file as a whole rather than one field.</summary>
    public const string DocumentField = "(file)";

    /// <summary>Parses <paramref name="text"/>; returns the root node of its single document, or null after reporting why not.</summary>
    public static YNode? Read(string text, ProblemSink problems)
    {
        var parser = new Parser(new StringReader(text));
        var builder = new Builder(parser, problems);
        try
        {
            return builder.ReadStream();
        }
        catch (YamlException ex)
        {
            problems.Add(
                (int)ex.Start.Line,
                DocumentField,
                $"YAML syntax error: {ex.Message.TrimEnd('.')}. Check indentation (spaces, not tabs), quotes and brackets around this line."
            );
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this (without a position) on some unclosed flow collections.
            problems.Add(
                builder.LastLine,
                DocumentField,
                "YAML syntax error: the document ends inside an unclosed '[', '{' or quote that starts at or after this line. Close it."
            );
            return null;
        }
    }

    private sealed class Builder(IParser parser, ProblemSink problems)
    {
        private readonly Dictionary<string, YNode> _anchors = new(StringComparer.Ordinal);

        public int LastLine { get; private set; } = 1;

        public YNode? ReadStream()
        {
            Expect<StreamStart>();
            YNode? root = null;
            var documents = 0;
            while (Peek() is DocumentStart start)
            {
                documents++;
                Next();
                var node = ReadNode();
                Expect<DocumentEnd>();
                if (documents == 1)
                {
                    root = node;
                }
                else if (documents == 2)
                {
                    problems.Add(
                        (int)start.Start.Line,
                        DocumentField,
                        "expected one YAML document per file, found a second one ('---'); move it into its own file"
                    );
                }
            }
            Expect<StreamEnd>();
            if (documents == 0)
            {
                problems.Add(
                    1,
                    DocumentField,
                    "the file is empty; expected a mapping of fields (see docs/definitions.md)"
                );
            }
            return root;
        }

        private YNode ReadNode()
        {
            var ev = Next();
            switch (ev)
            {
                case AnchorAlias alias:
                    if (_anchors.TryGetValue(alias.Value.Value, out var target))
                    {
                        return target;
                    }
                    problems.Add(
                        Line(alias),
                        DocumentField,
                        $"unknown alias '*{alias.Value.Value}'; define the anchor '&{alias.Value.Value}' on an earlier, complete node"
                    );
                    return new YScalar(Line(alias), "", plain: true);
                case Scalar scalar:
                    return Remember(
                        scalar,
                        new YScalar(Line(scalar), scalar.Value, scalar.Style == ScalarStyle.Plain)
                    );
                case SequenceStart seqStart:
                {
                    var items = new List<YNode>();
                    while (Peek() is not SequenceEnd)
                    {
                        items.Add(ReadNode());
                    }
                    Next();
                    return Remember(seqStart, new YSequence(Line(seqStart), items));
                }
                case MappingStart mapStart:
                {
                    var entries = new List<KeyValuePair<YScalar, YNode>>();
                    var duplicates = new List<YMapping.Duplicate>();
                    var complexKeys = new List<YNode>();
                    var seen = new Dictionary<string, int>(StringComparer.Ordinal);
                    while (Peek() is not MappingEnd)
                    {
                        var keyNode = ReadNode();
                        var value = ReadNode();
                        if (keyNode is not YScalar key)
                        {
                            complexKeys.Add(keyNode);
                            continue;
                        }
                        if (seen.TryGetValue(key.Value, out var firstLine))
                        {
                            duplicates.Add(new(key, firstLine));
                            continue;
                        }
                        seen[key.Value] = key.Line;
                        entries.Add(new(key, value));
                    }
                    Next();
                    return Remember(
                        mapStart,
                        new YMapping(Line(mapStart), entries, duplicates, complexKeys)
                    );
                }
                default:
                    throw new SemanticErrorException(
                        ev.Start,
                        ev.End,
                        $"unexpected {ev.GetType().Name}"
                    );
            }
        }

        private YNode Remember(NodeEvent ev, YNode node)
        {
            if (!ev.Anchor.IsEmpty)
            {
                _anchors[ev.Anchor.Value] = node;
            }
            return node;
        }

        private ParsingEvent? Peek()
        {
            if (parser.Current is null && !parser.MoveNext())
            {
                return null;
            }
            return parser.Current;
        }

        private ParsingEvent Next()
        {
            var current =
                Peek() ?? throw new SemanticErrorException("unexpected end of the document");
            LastLine = Line(current);
            parser.MoveNext();
            return current;
        }

        private void Expect<T>()
            where T : ParsingEvent
        {
            var ev = Next();
            if (ev is not T)
            {
                throw new SemanticErrorException(
                    ev.Start,
                    ev.End,
                    $"unexpected {ev.GetType().Name}"
                );
            }
        }

        private static int Line(ParsingEvent ev) => (int)ev.Start.Line;
    }
}

/// <summary>Collects the problems of one file.</summary>
internal sealed class ProblemSink(string file, List<InputProblem> all)
{
    private int _count;

    public string File { get; } = file;

    /// <summary>How many problems were reported for this file so far.</summary>
    public int Count => _count;

    public void Add(int line, string field, string message)
    {
        all.Add(new InputProblem(File, line, field, message));
        _count++;
    }
}
