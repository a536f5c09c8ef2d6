using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;
using ImageForge.Core.Providers;

namespace ImageForge.Core.Definitions;

/// <summary>
/// Loads image definitions and baselines, checks each file against its schema and the files against each other
/// (unique names, known baselines, matching operating systems), and reports every problem at once.
/// </summary>
/// <remarks>
/// Only <c>*.yaml</c> and <c>*.yml</c> files directly in a directory are read; subdirectories are not searched.
/// File paths in problems and in <c>SourceFile</c> are kept as given (a relative path stays relative). A problem that
/// concerns a whole file (it cannot be read) has line 0.
/// </remarks>
public static class DefinitionLoader
{
    /// <summary>Files larger than this are refused unread: definitions and baselines are a few kilobytes.</summary>
    private const long MaxFileBytes = 1024 * 1024;

    /// <summary>
    /// Loads every definition in <see cref="ContentPaths.Definitions"/> and every baseline in
    /// <see cref="ContentPaths.Baselines"/>. <paramref name="today"/> decides which waivers have expired;
    /// <paramref name="providers"/> are the providers targets may name, with their rules.
    /// </summary>
    public static DefinitionSet Load(ContentPaths paths, DateOnly today, ProviderRegistry providers)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(providers);
        var problems = new List<InputProblem>();
        var baselines = ListYamlFiles(paths.Baselines, problems)
            .Select(file => ParseBaseline(file, paths, today, problems))
            .ToList();
        var definitions = ListYamlFiles(paths.Definitions, problems)
            .Select(file => ParseDefinition(file, today, problems, providers))
            .ToList();
        var known = baselines.Select(b => Stem(b.File)).ToList();
        return Assemble(definitions, baselines, known, paths, problems);
    }

    /// <summary>
    /// Loads the given files and directories (<c>imageforge validate PATH...</c>). A file is a baseline when it lies
    /// in <see cref="ContentPaths.Baselines"/> or in any directory named <c>baselines</c>; every other file is an image
    /// definition. A directory contributes its YAML files, classified by the same rule. Baselines that the
    /// definitions refer to and that were not given are read from <see cref="ContentPaths.Baselines"/> and checked too.
    /// </summary>
    public static DefinitionSet LoadFiles(
        IEnumerable<string> files,
        ContentPaths paths,
        DateOnly today,
        ProviderRegistry providers
    )
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(providers);
        ArgumentNullException.ThrowIfNull(paths);
        var problems = new List<InputProblem>();
        var definitionFiles = new List<string>();
        var baselineFiles = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);

        void Add(string file)
        {
            if (seen.Add(Path.GetFullPath(file)))
            {
                (IsBaselineFile(file, paths) ? baselineFiles : definitionFiles).Add(file);
            }
        }

        foreach (var path in files)
        {
            if (Directory.Exists(path))
            {
                foreach (var file in ListYamlFiles(path, problems))
                {
                    Add(file);
                }
            }
            else if (File.Exists(path))
            {
                if (IsYaml(path))
                {
                    Add(path);
                }
                else
                {
                    problems.Add(
                        new(
                            path,
                            0,
                            YamlTreeReader.DocumentField,
                            "expected a .yaml or .yml file, or a directory of them"
                        )
                    );
                }
            }
            else
            {
                problems.Add(
                    new(
                        path,
                        0,
                        YamlTreeReader.DocumentField,
                        "no such file or directory; expected an image definition or baseline (.yaml), or a directory of them"
                    )
                );
            }
        }

        var baselines = baselineFiles
            .Select(file => ParseBaseline(file, paths, today, problems))
            .ToList();
        var definitions = definitionFiles
            .Select(file => ParseDefinition(file, today, problems, providers))
            .ToList();

        var available = Directory.Exists(paths.Baselines)
            ? ListYamlFiles(paths.Baselines, problems).ToList()
            : [];
        var given = baselines.Select(b => Stem(b.File)).ToHashSet(StringComparer.Ordinal);
        var needed = definitions
            .Select(d => d.BaselineName)
            .OfType<string>()
            .Where(name => !given.Contains(name))
            .Distinct(StringComparer.Ordinal);
        foreach (var name in needed)
        {
            foreach (var file in available.Where(f => Stem(f) == name))
            {
                baselines.Add(ParseBaseline(file, paths, today, problems));
            }
        }
        var known = given.Concat(available.Select(Stem)).ToList();
        return Assemble(definitions, baselines, known, paths, problems);
    }

    private static DefinitionSet Assemble(
        List<DefinitionDraft> definitions,
        List<BaselineDraft> baselines,
        IReadOnlyCollection<string> knownBaselines,
        ContentPaths paths,
        List<InputProblem> problems
    )
    {
        // A baseline is referred to by its file name, so two files with the same stem (x.yaml, x.yml) collide.
        var baselinesByStem = baselines
            .GroupBy(b => Stem(b.File), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var group in baselinesByStem.Values.Where(g => g.Count > 1))
        {
            foreach (var draft in group)
            {
                var others = string.Join(", ", group.Where(o => o != draft).Select(o => o.File));
                problems.Add(
                    new(
                        draft.File,
                        draft.NameLine,
                        "name",
                        $"baseline '{Stem(draft.File)}' is also defined in {others}; keep one file per baseline"
                    )
                );
            }
        }

        foreach (
            var group in definitions
                .Where(d => d.Name is not null)
                .GroupBy(d => d.Name!, StringComparer.Ordinal)
        )
        {
            var drafts = group.ToList();
            if (drafts.Count < 2)
            {
                continue;
            }
            foreach (var draft in drafts)
            {
                var others = string.Join(
                    ", ",
                    drafts.Where(o => o != draft).Select(o => $"{o.File}:{o.NameLine}")
                );
                problems.Add(
                    new(
                        draft.File,
                        draft.NameLine,
                        "name",
                        $"image name '{group.Key}' is also used in {others}; image names must be unique, rename one"
                    )
                );
            }
        }

        var distinctKnown = knownBaselines
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        foreach (var draft in definitions.Where(d => d.BaselineName is not null))
        {
            CheckBaselineReference(draft, baselinesByStem, distinctKnown, paths, problems);
        }

        var filesWithProblems = problems.Select(p => p.File).ToHashSet(StringComparer.Ordinal);
        var validImages = definitions
            .Where(d => d.Definition is not null && !filesWithProblems.Contains(d.File))
            .Select(d => d.Definition!)
            .OrderBy(d => d.Name, StringComparer.Ordinal)
            .ToList();
        var validBaselines = baselines
            .Where(b => b.Baseline is not null && !filesWithProblems.Contains(b.File))
            .Select(b => b.Baseline!)
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .ToList();
        var ordered = problems
            .OrderBy(p => p.File, StringComparer.Ordinal)
            .ThenBy(p => p.Line)
            .ToList();
        return new DefinitionSet(validImages, validBaselines, ordered);
    }

    private static void CheckBaselineReference(
        DefinitionDraft draft,
        Dictionary<string, List<BaselineDraft>> baselinesByStem,
        List<string> known,
        ContentPaths paths,
        List<InputProblem> problems
    )
    {
        var name = draft.BaselineName!;
        if (!baselinesByStem.TryGetValue(name, out var candidates))
        {
            var list =
                known.Count == 0
                    ? "none were found"
                    : "known baselines: " + string.Join(", ", known);
            problems.Add(
                new(
                    draft.File,
                    draft.BaselineLine,
                    "baseline",
                    $"unknown baseline '{name}': there is no {name}.yaml in {paths.Baselines}; {list}"
                )
            );
            return;
        }
        var baseline = candidates.Count == 1 ? candidates[0].Baseline : null;
        if (baseline is null || problems.Any(p => p.File == candidates[0].File))
        {
            problems.Add(
                new(
                    draft.File,
                    draft.BaselineLine,
                    "baseline",
                    $"baseline '{name}' is invalid; fix the problems reported for {string.Join(", ", candidates.Select(c => c.File))}"
                )
            );
            return;
        }
        if (draft.Os is not null && draft.Os != baseline.Os)
        {
            problems.Add(
                new(
                    draft.File,
                    draft.OsLine,
                    "os",
                    $"os is {draft.Os} but baseline '{name}' is for {baseline.Os}; use a baseline for {draft.Os} or change os to {baseline.Os}"
                )
            );
        }
    }

    private static DefinitionDraft ParseDefinition(
        string file,
        DateOnly today,
        List<InputProblem> problems,
        ProviderRegistry providers
    )
    {
        var sink = new ProblemSink(file, problems);
        var text = ReadText(file, sink);
        var root = text is null ? null : YamlTreeReader.Read(text, sink);
        return ImageDefinitionParser.Parse(root, sink, today, providers);
    }

    private static BaselineDraft ParseBaseline(
        string file,
        ContentPaths paths,
        DateOnly today,
        List<InputProblem> problems
    )
    {
        var sink = new ProblemSink(file, problems);
        var text = ReadText(file, sink);
        var root = text is null ? null : YamlTreeReader.Read(text, sink);
        return BaselineParser.Parse(root, sink, paths, today);
    }

    private static string? ReadText(string file, ProblemSink sink)
    {
        var read = TextInput.ReadUtf8(
            file,
            MaxFileBytes,
            "a definition or baseline is a few kilobytes"
        );
        if (read.Problem is { } problem)
        {
            sink.Add(read.Line, YamlTreeReader.DocumentField, problem);
        }

        return read.Text;
    }

    private static List<string> ListYamlFiles(string directory, List<InputProblem> problems)
    {
        if (!Directory.Exists(directory))
        {
            problems.Add(
                new(
                    directory,
                    0,
                    YamlTreeReader.DocumentField,
                    "directory not found; expected a directory of .yaml files"
                )
            );
            return [];
        }
        return Directory
            .EnumerateFiles(directory)
            .Where(IsYaml)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static bool IsYaml(string file) =>
        Path.GetExtension(file) is { } ext
        && (
            ext.Equals(".yaml", StringComparison.OrdinalIgnoreCase)
            || ext.Equals(".yml", StringComparison.OrdinalIgnoreCase)
        );

    private static bool IsBaselineFile(string file, ContentPaths paths)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(file)) ?? "";
        var baselines = Path.TrimEndingDirectorySeparator(Path.GetFullPath(paths.Baselines));
        return string.Equals(
                Path.TrimEndingDirectorySeparator(directory),
                baselines,
                StringComparison.Ordinal
            )
            || Path.GetFileName(directory) == "baselines";
    }

    private static string Stem(string file) => Path.GetFileNameWithoutExtension(file);
}
