using System.Text.RegularExpressions;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests;

/// <summary>
/// The shape the code keeps (docs/architecture.md): a provider is one module, shared code never names one, the
/// command line reaches the worker host only to run it, and the repository tests itself with nothing beside it.
/// </summary>
public sealed partial class ArchitectureSpecs
{
    private static readonly string Src = Path.Combine(RepoPaths.Root, "src");

    private static readonly string[] CheckedFolders = ["tests", "eng", "benchmarks", ".ci", "src"];

    [Theory]
    [InlineData("local", "ImageForge.Providers.Local")]
    [InlineData("aws", "ImageForge.Providers.Aws")]
    [InlineData("azure", "ImageForge.Providers.Azure")]
    [InlineData("gcp", "ImageForge.Providers.Gcp")]
    public void A_provider_is_named_only_inside_its_own_module(string provider, string module)
    {
        var quoted = $"\"{provider}\"";

        // The deploy-time policy reads Terraform's resources of each cloud (aws_*, azurerm_*, google_*) into one model
        // whose resources name their cloud: that is Terraform's vocabulary, not ImageForge's provider modules
        // (docs/architecture.md).
        var outside = SourceFiles(Src)
            .Where(f => !f.StartsWith(Path.Combine(Src, module) + "/", StringComparison.Ordinal))
            .Where(f =>
                !f.StartsWith(
                    Path.Combine(Src, "ImageForge.Policy") + "/",
                    StringComparison.Ordinal
                )
            )
            .SelectMany(f =>
                File.ReadLines(f)
                    .Select((line, i) => (f, Line: i + 1, Text: line))
                    .Where(l => l.Text.Contains(quoted, StringComparison.Ordinal))
            )
            .Select(l => $"{Path.GetRelativePath(RepoPaths.Root, l.f)}:{l.Line}: {l.Text.Trim()}")
            .ToList();

        outside.ShouldBeEmpty();
    }

    [Fact]
    public void The_command_line_uses_the_worker_host_only_to_run_the_worker()
    {
        var cli = Path.Combine(Src, "ImageForge.Cli");

        var users = SourceFiles(cli)
            .Where(f =>
                File.ReadLines(f)
                    .Any(l => l.StartsWith("using ImageForge.Server", StringComparison.Ordinal))
            )
            .Select(Path.GetFileName)
            .ToList();

        users.ShouldBe(["WorkerCommand.cs"]);
    }

    [Fact]
    public void No_test_script_or_build_file_reads_from_beside_the_repository()
    {
        var roots = CheckedFolders.Select(d => Path.Combine(RepoPaths.Root, d));
        var files = roots
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories))
            .Where(f =>
                !f.Contains("/bin/", StringComparison.Ordinal)
                && !f.Contains("/obj/", StringComparison.Ordinal)
                && !f.Contains("/node_modules/", StringComparison.Ordinal)
                && !f.Contains("/specs/", StringComparison.Ordinal)
                && !f.EndsWith("ArchitectureSpecs.cs", StringComparison.Ordinal)
            )
            .Concat(
                Directory
                    .EnumerateFiles(RepoPaths.Root)
                    .Where(f => !f.EndsWith(".md", StringComparison.Ordinal))
            );

        var readers = files
            .Where(f => SharedFolder().IsMatch(File.ReadAllText(f)))
            .Select(f => Path.GetRelativePath(RepoPaths.Root, f))
            .ToList();

        readers.ShouldBeEmpty();
    }

    private static IEnumerable<string> SourceFiles(string root) =>
        Directory
            .EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f =>
                !f.Contains("/obj/", StringComparison.Ordinal)
                && !f.Contains("/bin/", StringComparison.Ordinal)
            );

    [GeneratedRegex(@"\.\./shared|RepoPaths\.Shared")]
    private static partial Regex SharedFolder();
}
