using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;

namespace ImageForge.Core.Tests.Definitions;

/// <summary>
/// A content root of its own in a temp directory: templates/images, baselines, and a stub hardening/cis/debian-11
/// with run.sh, plus (by default) a valid baseline debian-11-anssi.
/// </summary>
internal sealed class ContentFixture : IDisposable
{
    public static readonly DateOnly Today = new(2025, 6, 1);

    public const string ValidBaseline = """
        name: debian-11-anssi
        description: Debian 11 hardened to ANSSI high
        os:
          family: debian
          release: "11"
        hardening: cis/debian-11
        scap:
          datastream: ssg-debian11-ds.xml
          profile: xccdf_org.ssgproject.content_profile_anssi_np_nt28_high
        min_score: 60
        waivers: []

        """;

    /// <summary>The smallest valid definition, ending in a newline; line 1 is name, 7 targets, 8 provider, 9 base_image.</summary>
    public const string MinimalDefinition = """
        name: web
        description: Web server
        os:
          family: debian
          release: "11"
        baseline: debian-11-anssi
        targets:
          - provider: local
            base_image: bullseye

        """;

    private readonly TempDirectory _root = new("imageforge-definitions");

    public ContentFixture(bool withBaseline = true)
    {
        Paths = ContentPaths.UnderRoot(_root.Path);
        Directory.CreateDirectory(Paths.Definitions);
        Directory.CreateDirectory(Paths.Baselines);
        var hardening = Path.Combine(Paths.Hardening, "cis", "debian-11");
        Directory.CreateDirectory(hardening);
        File.WriteAllText(Path.Combine(hardening, "run.sh"), "#!/bin/sh\nexit 0\n");
        if (withBaseline)
        {
            Baseline("debian-11-anssi.yaml", ValidBaseline);
        }
    }

    public string Root => _root.Path;

    public ContentPaths Paths { get; }

    /// <summary>Writes an image definition into templates/images and returns its path as the loader reports it.</summary>
    public string Definition(string fileName, string yaml) =>
        Write(Paths.Definitions, fileName, yaml);

    /// <summary>Writes a baseline into baselines and returns its path as the loader reports it.</summary>
    public string Baseline(string fileName, string yaml) => Write(Paths.Baselines, fileName, yaml);

    public DefinitionSet Load() => Load(TestProviders.Shipped);

    public DefinitionSet Load(Core.Providers.ProviderRegistry providers) =>
        DefinitionLoader.Load(Paths, Today, providers);

    public void Dispose() => _root.Dispose();

    private static string Write(string directory, string fileName, string yaml)
    {
        var path = Path.Combine(directory, fileName);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, yaml.EndsWith('\n') ? yaml : yaml + "\n");
        return path;
    }
}

internal static class ProblemAssertions
{
    /// <summary>
    /// Asserts exactly one problem for <paramref name="field"/> in <paramref name="file"/>, on <paramref name="line"/>,
    /// whose message contains every one of <paramref name="messageParts"/>. Returns it.
    /// </summary>
    public static InputProblem ShouldHaveProblem(
        this DefinitionSet set,
        string file,
        int line,
        string field,
        params string[] messageParts
    )
    {
        var all = string.Join(Environment.NewLine, set.Problems);
        var matching = set.Problems.Where(p => p.File == file && p.Field == field).ToList();
        matching.Count.ShouldBe(
            1,
            $"expected one problem for '{field}' in {file}; problems:{Environment.NewLine}{all}"
        );
        var problem = matching[0];
        problem.Line.ShouldBe(line, $"line of {problem}");
        foreach (var part in messageParts)
        {
            problem.Message.ShouldContain(part, Case.Sensitive, $"message of {problem}");
        }
        return problem;
    }

    public static void ShouldHaveNoProblems(this DefinitionSet set) =>
        set.Problems.ShouldBeEmpty(string.Join(Environment.NewLine, set.Problems));
}
