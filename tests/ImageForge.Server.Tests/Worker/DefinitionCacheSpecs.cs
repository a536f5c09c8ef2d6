using ImageForge.Application;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Worker;

/// <summary>
/// The worker's definition set is loaded once and again only when something the loader reads changed: a definition,
/// a baseline, the hardening tree, or the day.
/// </summary>
public sealed class DefinitionCacheSpecs : IDisposable
{
    private readonly TempDirectory _root = new("imageforge-definition-cache");
    private readonly ManualTimeProvider _time = new(
        new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero)
    );
    private readonly Pipeline _pipeline;

    public DefinitionCacheSpecs()
    {
        foreach (var part in new[] { "templates/images", "baselines", "hardening" })
        {
            DirectoryTrees.Copy(Path.Combine(RepoPaths.Root, part), _root.Combine(part));
        }
        _pipeline = new Pipeline(
            new PipelineHost(
                new HostPaths(
                    ContentPaths.UnderRoot(_root.Path),
                    new DataPaths(_root.Combine("data"))
                ),
                _time,
                _ => null,
                _root.Path,
                new Dictionary<string, string>()
            )
            {
                Resolvers = [],
            },
            TestProviders.Shipped
        );
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public void An_unchanged_content_gives_the_same_set_and_each_change_a_new_one_that_shows_it()
    {
        var definition = _root.Combine("templates", "images", "debian-11-cis.yaml");
        var first = _pipeline.LoadDefinitions();

        var again = _pipeline.LoadDefinitions();
        File.WriteAllText(
            definition,
            File.ReadAllText(definition)
                .Replace("description: Minimal", "description: Edited", StringComparison.Ordinal)
        );
        var edited = _pipeline.LoadDefinitions();
        File.Copy(definition, _root.Combine("templates", "images", "second.yaml"));
        var added = _pipeline.LoadDefinitions();
        File.Delete(_root.Combine("templates", "images", "second.yaml"));
        File.Delete(_root.Combine("hardening", "cis", "debian-11", "run.sh"));
        var noRunScript = _pipeline.LoadDefinitions();
        var sameDay = _pipeline.LoadDefinitions();
        _time.Advance(TimeSpan.FromDays(1));
        var nextDay = _pipeline.LoadDefinitions();

        first.IsValid.ShouldBeTrue(string.Join("; ", first.Problems));
        again.ShouldBeSameAs(first);
        edited.ShouldNotBeSameAs(first);
        edited.FindImage("debian-11-cis")!.Description.ShouldStartWith("Edited");
        added.Problems.ShouldContain(p => p.File.EndsWith("second.yaml", StringComparison.Ordinal));
        noRunScript.Problems.ShouldContain(p => p.Message.Contains("has no run.sh"));
        noRunScript.Problems.ShouldNotContain(p =>
            p.File.EndsWith("second.yaml", StringComparison.Ordinal)
        );
        sameDay.ShouldBeSameAs(noRunScript);
        nextDay.ShouldNotBeSameAs(noRunScript);
    }
}
