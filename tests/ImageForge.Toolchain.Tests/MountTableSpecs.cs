using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using ImageForge.Toolchain.Tests.Support;

namespace ImageForge.Toolchain.Tests;

public sealed class MountTableSpecs
{
    [Theory]
    [InlineData("/tmp/a\\040b", "/tmp/a b")]
    [InlineData("/tmp/tab\\011x", "/tmp/tab\tx")]
    [InlineData("/tmp/back\\134slash", "/tmp/back\\slash")]
    [InlineData("/tmp/plain", "/tmp/plain")]
    [InlineData("/tmp/short\\04", "/tmp/short\\04")]
    public void Octal_escapes_of_mountinfo_are_decoded(string field, string expected)
    {
        // Act
        var decoded = MountTable.DecodeOctalEscapes(field);

        // Assert
        decoded.ShouldBe(expected);
    }

    [Theory]
    [InlineData("/a/b", "/a/b", true)]
    [InlineData("/a/b/c", "/a/b", true)]
    [InlineData("/a/bc", "/a/b", false)]
    [InlineData("/a", "/a/b", false)]
    public void Only_whole_path_components_count_as_below(
        string mountPoint,
        string root,
        bool expected
    )
    {
        // Act
        var below = MountTable.IsAtOrBelow(mountPoint, root);

        // Assert
        below.ShouldBe(expected);
    }

    [Fact]
    public void Mountinfo_lines_give_the_id_and_the_decoded_mount_point()
    {
        // Arrange
        string[] lines =
        [
            "42 27 0:39 / /tmp/m/a\\040b rw,relatime - tmpfs imageforge-test rw",
            "garbage",
        ];

        // Act
        var mounts = MountTable.ReadMountInfo(lines).ToList();

        // Assert
        mounts.ShouldBe([new MountTable.Mount(42, "/tmp/m/a b")]);
    }

    [Fact(Timeout = 30_000)]
    public async Task Unmounting_below_a_directory_goes_deepest_first_and_spares_siblings_with_the_same_prefix()
    {
        // Arrange
        using var temp = new TempDirectory();
        var root = temp.Combine("build");
        var nested = temp.Combine("build", "rootfs", "proc dir");
        var sibling = temp.Combine("buildx");
        await LiveProcesses.MountTmpfsAsync(root);
        await LiveProcesses.MountTmpfsAsync(nested);
        await LiveProcesses.MountTmpfsAsync(sibling);
        try
        {
            // Act
            var unmounted = MountTable.UnmountBelow(root);

            // Assert
            unmounted.ShouldBe([nested, root]);
            MountTable.MountsBelow(root).ShouldBeEmpty();
            MountTable.MountsBelow(sibling).ShouldBe([sibling]);
        }
        finally
        {
            MountTable.UnmountBelow(temp.Path);
        }
    }

    [Fact]
    public void The_root_directory_is_refused()
    {
        // Act
        var act = () => MountTable.UnmountBelow("/");

        // Assert
        act.ShouldThrow<ArgumentException>();
    }
}
