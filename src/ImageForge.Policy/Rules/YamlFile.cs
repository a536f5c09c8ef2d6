using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;
using YamlDotNet.RepresentationModel;

namespace ImageForge.Policy.Rules;

/// <summary>
/// A small YAML file people write (a rule, the bindings, a fixture's expectations), read strictly: UTF-8, bounded in
/// size and in flow nesting (YamlDotNet parses recursively), every wrong shape an <see cref="InputProblem"/> with its line.
/// </summary>
internal sealed class YamlFile(string file, List<InputProblem> problems)
{
    public const long MaxBytes = 256 * 1024;

    private const int MaxNesting = 32;

    public string File => file;

    public List<InputProblem> Problems => problems;

    /// <summary>The root mapping of <paramref name="file"/>; null (with a problem) when it has none.</summary>
    public static YamlMappingNode? Read(string file, List<InputProblem> problems)
    {
        var read = TextInput.ReadUtf8(file, MaxBytes, "a policy file is a few kilobytes");
        if (read.Text is not { } text)
        {
            problems.Add(new(file, read.Line, "file", read.Problem!));
            return null;
        }
        if (FlowNesting(text) > MaxNesting)
        {
            problems.Add(new(file, 0, "file", $"nested deeper than {MaxNesting} levels"));
            return null;
        }
        var yaml = new YamlStream();
        try
        {
            yaml.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            problems.Add(new(file, (int)e.Start.Line, "yaml", e.Message));
            return null;
        }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            problems.Add(new(file, 1, "file", "expected a mapping"));
            return null;
        }
        return root;
    }

    public void Problem(YamlNode? node, string field, string message) =>
        problems.Add(new(file, node is null ? 0 : (int)node.Start.Line, field, message));

    public static YamlNode? Get(YamlMappingNode map, string name) =>
        map.Children.TryGetValue(new YamlScalarNode(name), out var value) ? value : null;

    public string? Text(
        YamlMappingNode map,
        string name,
        bool required = true,
        string? field = null
    )
    {
        field ??= name;
        switch (Get(map, name))
        {
            case YamlScalarNode { Value: { Length: > 0 } value }:
                return value;
            case null or YamlScalarNode when !required:
                return null;
            case null:
                Problem(map, field, "required");
                return null;
            case var other:
                Problem(other, field, "expected a text");
                return null;
        }
    }

    public IReadOnlyList<string> Texts(YamlMappingNode map, string name)
    {
        switch (Get(map, name))
        {
            case null:
                return [];
            case YamlSequenceNode list:
                var texts = new List<string>();
                foreach (var item in list.Children)
                {
                    if (item is YamlScalarNode { Value: { Length: > 0 } v })
                    {
                        texts.Add(v);
                    }
                    else
                    {
                        Problem(item, name, "expected a list of texts");
                    }
                }
                return texts;
            case var other:
                Problem(other, name, "expected a list");
                return [];
        }
    }

    public IEnumerable<YamlMappingNode> Mappings(YamlMappingNode map, string name)
    {
        switch (Get(map, name))
        {
            case null:
                yield break;
            case YamlSequenceNode list:
                foreach (var item in list.Children)
                {
                    if (item is YamlMappingNode m)
                    {
                        yield return m;
                    }
                    else
                    {
                        Problem(item, name, "expected a list of mappings");
                    }
                }
                break;
            case var other:
                Problem(other, name, "expected a list");
                break;
        }
    }

    public void OnlyKnown(YamlMappingNode map, string where, params string[] known)
    {
        foreach (var key in map.Children.Keys)
        {
            if (key is YamlScalarNode { Value: { } k } && !known.Contains(k))
            {
                Problem(key, where, $"unknown field '{k}'; known: {string.Join(", ", known)}");
            }
        }
    }

    public static InvalidInputException Error(IReadOnlyList<InputProblem> problems) =>
        new(problems);

    // Brackets inside quoted text count too: a policy file has no reason to nest anything 32 deep.
    private static int FlowNesting(string text)
    {
        int depth = 0,
            max = 0;
        foreach (var c in text)
        {
            if (c is '[' or '{')
            {
                max = Math.Max(max, ++depth);
            }
            else if (c is ']' or '}')
            {
                depth = Math.Max(0, depth - 1);
            }
        }
        return max;
    }
}
