using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// The help text is a contract people and scripts rely on. A deliberate change: rerun with
/// IMAGEFORGE_UPDATE_SNAPSHOTS=1 and commit the changed snapshot with the change.
/// </summary>
public sealed class HelpSnapshotSpecs
{
    [Theory]
    [InlineData("root", new[] { "--help" })]
    [InlineData("build", new[] { "build", "--help" })]
    [InlineData("builds", new[] { "builds", "--help" })]
    [InlineData("images-show", new[] { "images", "show", "--help" })]
    [InlineData("sbom", new[] { "sbom", "--help" })]
    [InlineData("scan", new[] { "scan", "--help" })]
    [InlineData("diff", new[] { "diff", "--help" })]
    [InlineData("promote", new[] { "promote", "--help" })]
    [InlineData("approve", new[] { "approve", "--help" })]
    [InlineData("reject", new[] { "reject", "--help" })]
    [InlineData("rollback", new[] { "rollback", "--help" })]
    [InlineData("revoke", new[] { "revoke", "--help" })]
    [InlineData("gc", new[] { "gc", "--help" })]
    [InlineData("keys-trust", new[] { "keys", "trust", "--help" })]
    [InlineData("policy-check", new[] { "policy", "check", "--help" })]
    public async Task Help_output_matches_its_snapshot(string name, string[] args)
    {
        var result = await CliRunner.RunAsync(RepoPaths.Root, args);
        var snapshot = Path.Combine(
            RepoPaths.Root,
            "tests",
            "ImageForge.Cli.Tests",
            "Snapshots",
            $"help-{name}.txt"
        );

        result.ExitCode.ShouldBe(0);
        if (Environment.GetEnvironmentVariable("IMAGEFORGE_UPDATE_SNAPSHOTS") == "1")
        {
            await File.WriteAllTextAsync(snapshot, result.Out);
        }

        result.Out.ShouldBe(await File.ReadAllTextAsync(snapshot));
    }
}
