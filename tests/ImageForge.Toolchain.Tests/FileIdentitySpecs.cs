using ImageForge.TestUtils;
using ImageForge.Toolchain.Files;

namespace ImageForge.Toolchain.Tests;

public sealed class FileIdentitySpecs
{
    [Fact]
    public async Task An_untouched_file_keeps_its_identity()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("disk.raw");
        await File.WriteAllTextAsync(file, "disk");

        var first = FileIdentity.Of(file);
        var second = FileIdentity.Of(file);

        first.ShouldNotBeNull();
        second.ShouldBe(first);
        first.Value.Size.ShouldBe(4UL);
    }

    [Fact]
    public async Task Rewriting_a_file_with_the_same_size_and_its_old_modification_time_changes_its_identity()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("disk.raw");
        await File.WriteAllTextAsync(file, "disk");
        var modified = File.GetLastWriteTimeUtc(file);
        var before = FileIdentity.Of(file);
        // The status-change time has nanoseconds; a write in the same tick would not show.
        await Task.Delay(20);

        await File.WriteAllTextAsync(file, "DISK");
        File.SetLastWriteTimeUtc(file, modified);
        var after = FileIdentity.Of(file);

        after.ShouldNotBeNull();
        after.Value.ModifiedSeconds.ShouldBe(before!.Value.ModifiedSeconds);
        after.ShouldNotBe(before);
    }

    [Fact]
    public async Task A_file_replaced_by_another_has_another_identity()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("disk.raw");
        await File.WriteAllTextAsync(file, "disk");
        var before = FileIdentity.Of(file);
        await File.WriteAllTextAsync(temp.Combine("other"), "DISK");

        File.Move(temp.Combine("other"), file, overwrite: true);

        FileIdentity.Of(file).ShouldNotBe(before);
    }

    [Fact]
    public void A_missing_file_has_no_identity()
    {
        using var temp = new TempDirectory();

        FileIdentity.Of(temp.Combine("absent")).ShouldBeNull();
    }
}
