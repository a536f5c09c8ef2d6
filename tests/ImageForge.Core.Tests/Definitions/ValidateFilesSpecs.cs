using ImageForge.Core.Definitions;
using ImageForge.TestSupport;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Definitions;

/// <summary><c>imageforge validate PATH...</c>: files and directories given one by one.</summary>
public sealed class ValidateFilesSpecs : IDisposable
{
    private readonly ContentFixture _content = new();

    public void Dispose() => _content.Dispose();

    [Fact]
    public void A_definition_given_alone_is_checked_against_its_baseline_from_the_baselines_directory()
    {
        // Arrange
        var elsewhere = Path.Combine(_content.Root, "drafts");
        Directory.CreateDirectory(elsewhere);
        var file = Path.Combine(elsewhere, "web.yaml");
        File.WriteAllText(file, ContentFixture.MinimalDefinition);

        // Act
        var set = DefinitionLoader.LoadFiles(
            [file],
            _content.Paths,
            ContentFixture.Today,
            TestProviders.Shipped
        );

        // Assert
        set.ShouldHaveNoProblems();
        set.FindImage("web")!.SourceFile.ShouldBe(file);
        set.FindBaseline("debian-11-anssi").ShouldNotBeNull();
    }

    [Fact]
    public void Problems_of_the_referenced_baseline_are_reported_too()
    {
        // Arrange
        var baseline = _content.Baseline(
            "debian-11-anssi.yaml",
            ContentFixture.ValidBaseline.Replace("min_score: 60", "min_score: high")
        );
        var file = _content.Definition("web.yaml", ContentFixture.MinimalDefinition);

        // Act
        var set = DefinitionLoader.LoadFiles(
            [file],
            _content.Paths,
            ContentFixture.Today,
            TestProviders.Shipped
        );

        // Assert
        set.ShouldHaveProblem(baseline, 10, "min_score", "expected a whole number");
        set.ShouldHaveProblem(file, 6, "baseline", "is invalid");
    }

    [Fact]
    public void A_file_in_a_directory_named_baselines_is_a_baseline()
    {
        // Arrange
        var other = Path.Combine(_content.Root, "review", "baselines");
        Directory.CreateDirectory(other);
        var file = Path.Combine(other, "strict.yaml");
        File.WriteAllText(
            file,
            ContentFixture.ValidBaseline.Replace("name: debian-11-anssi", "name: strict")
        );

        // Act
        var set = DefinitionLoader.LoadFiles(
            [file],
            _content.Paths,
            ContentFixture.Today,
            TestProviders.Shipped
        );

        // Assert
        set.ShouldHaveNoProblems();
        set.FindBaseline("strict").ShouldNotBeNull();
        set.Images.ShouldBeEmpty();
    }

    [Fact]
    public void A_file_in_the_configured_baselines_directory_is_a_baseline_whatever_its_name()
    {
        // Arrange
        var custom = Path.Combine(_content.Root, "policies");
        var paths = _content.Paths with { Baselines = custom };
        Directory.CreateDirectory(custom);
        var file = Path.Combine(custom, "debian-11-anssi.yaml");
        File.WriteAllText(file, ContentFixture.ValidBaseline);

        // Act
        var set = DefinitionLoader.LoadFiles(
            [file],
            paths,
            ContentFixture.Today,
            TestProviders.Shipped
        );

        // Assert
        set.ShouldHaveNoProblems();
        set.Baselines.ShouldHaveSingleItem().Name.ShouldBe("debian-11-anssi");
    }

    [Fact]
    public void A_directory_contributes_its_yaml_files()
    {
        // Arrange
        _content.Definition("web.yaml", ContentFixture.MinimalDefinition);
        _content.Definition(
            "db.yml",
            ContentFixture.MinimalDefinition.Replace("name: web", "name: db")
        );
        _content.Definition("notes.txt", "not yaml");

        // Act
        var set = DefinitionLoader.LoadFiles(
            [_content.Paths.Definitions, _content.Paths.Baselines],
            _content.Paths,
            ContentFixture.Today,
            TestProviders.Shipped
        );

        // Assert
        set.ShouldHaveNoProblems();
        set.Images.Select(i => i.Name).ShouldBe(["db", "web"]);
        set.Baselines.ShouldHaveSingleItem();
    }

    [Fact]
    public void A_path_that_does_not_exist_and_a_file_that_is_not_yaml_are_reported_on_line_0()
    {
        // Arrange
        var missing = Path.Combine(_content.Root, "nope.yaml");
        var text = _content.Definition("notes.txt", "hello");

        // Act
        var set = DefinitionLoader.LoadFiles(
            [missing, text],
            _content.Paths,
            ContentFixture.Today,
            TestProviders.Shipped
        );

        // Assert
        set.ShouldHaveProblem(missing, 0, "(file)", "no such file or directory");
        set.ShouldHaveProblem(text, 0, "(file)", "expected a .yaml or .yml file");
    }

    [Fact]
    public void A_relative_path_stays_relative_in_problems()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Replace("provider: local", "provider: vsphere")
        );
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, file);

        // Act
        var set = DefinitionLoader.LoadFiles(
            [relative],
            _content.Paths,
            ContentFixture.Today,
            TestProviders.Shipped
        );

        // Assert
        set.ShouldHaveProblem(relative, 8, "targets[0].provider", "unknown provider 'vsphere'");
    }

    [Fact]
    public void An_unknown_baseline_lists_the_baselines_directory()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Replace(
                "baseline: debian-11-anssi",
                "baseline: debian-11-none"
            )
        );

        // Act
        var set = DefinitionLoader.LoadFiles(
            [file],
            _content.Paths,
            ContentFixture.Today,
            TestProviders.Shipped
        );

        // Assert
        set.ShouldHaveProblem(
            file,
            6,
            "baseline",
            "unknown baseline 'debian-11-none'",
            "known baselines: debian-11-anssi"
        );
    }
}
