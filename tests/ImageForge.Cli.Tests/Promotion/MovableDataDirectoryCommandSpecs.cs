using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests.Promotion;

/// <summary>
/// A data directory copied elsewhere (a backup restored, a move to another disk) with the original gone: the commands
/// run on the copy find and re-hash the copy's files, since the catalog stores them relative to the data directory.
/// </summary>
public sealed class MovableDataDirectoryCommandSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-moved");

    public void Dispose() => _dir.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task A_copied_data_directory_verifies_promotes_admits_and_collects_garbage_in_its_new_place()
    {
        var original = _dir.Combine("data");
        var copy = _dir.Combine("restored");
        var v = await SignedVersions.RecordAsync(original, TimeProvider.System);
        var unkept = await SignedVersions.RecordAsync(original, TimeProvider.System);
        await SignedVersions.RecordAsync(original, TimeProvider.System);
        DirectoryTrees.Copy(original, copy);
        Directory.Delete(original, recursive: true);
        string There(string location) =>
            Path.Combine(copy, Path.GetRelativePath(original, location));
        var disk = There(v.Artifacts[0].Location);

        var verify = await RunAsync(copy, "verify", $"debian-11-cis@{v.Version}");
        var promote = await RunAsync(copy, "promote", $"debian-11-cis@{v.Version}", "--to", "dev");
        var admit = await RunAsync(
            copy,
            "admit",
            "--provider",
            "local",
            "--image-id",
            disk,
            "--channel",
            "dev"
        );
        var gc = await RunAsync(copy, "gc", "--keep", "1", "--apply");

        verify.ExitCode.ShouldBe(0, verify.ToString());
        verify.Out.ShouldContain($"ok       artifact disk-raw               {disk}");
        verify.Out.ShouldNotContain(original + Path.DirectorySeparatorChar);
        promote.ExitCode.ShouldBe(0, promote.ToString());
        admit.ExitCode.ShouldBe(0, admit.ToString());
        admit.Out.ShouldContain($"admitted: local image {disk} is debian-11-cis@{v.Version}");
        gc.ExitCode.ShouldBe(0, gc.ToString());
        gc.Out.ShouldContain($"deleted debian-11-cis@{unkept.Version}");
        File.Exists(There(unkept.Artifacts[0].Location)).ShouldBeFalse();
        File.Exists(disk).ShouldBeTrue();
    }

    private static Task<CliResult> RunAsync(string dataDir, params string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            new Dictionary<string, string> { ["IMAGEFORGE_ACTOR"] = "alice" },
            CancellationToken.None,
            [.. args, "--data-dir", dataDir]
        );
}
