using ImageForge.Core.Facts;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Facts;

/// <summary>When a version's parent is outdated against the image's newest version, and the reason given.</summary>
public sealed class VersionBaseSpecs
{
    private static readonly VersionBase Newest = new(
        "2026.12.04.3",
        "debian/bullseye",
        null,
        "k2",
        "d2"
    );

    [Fact]
    public void Another_base_image_parent_inputs_or_contents_make_a_parent_outdated_each_with_its_reason()
    {
        new VersionBase("1", "ami-old", null, null, null)
            .OutdatedAgainst(Newest with { BaseImage = "ami-new" })
            .ShouldBe("base ami-old; 2026.12.04.3 is built on ami-new");
        new VersionBase("1", null, "base@2026.11.01.1", null, null)
            .OutdatedAgainst(Newest with { BaseImage = null, Parent = "base@2026.12.01.1" })
            .ShouldBe("parent base@2026.11.01.1; 2026.12.04.3 is built on base@2026.12.01.1");
        new VersionBase("1", "debian/bullseye", null, "k1", "d1")
            .OutdatedAgainst(Newest)
            .ShouldBe(
                "base debian/bullseye from other inputs; 2026.12.04.3 is built on a newer one"
            );
        new VersionBase("1", "debian/bullseye", null, "k2", "d1")
            .OutdatedAgainst(Newest)
            .ShouldBe(
                "base debian/bullseye made again since with other contents; 2026.12.04.3 is built on that one"
            );
    }

    [Fact]
    public void The_same_base_the_newest_itself_or_nothing_recorded_is_not_outdated()
    {
        new VersionBase("1", "debian/bullseye", null, "k2", "d2")
            .OutdatedAgainst(Newest)
            .ShouldBeNull();
        Newest.OutdatedAgainst(Newest).ShouldBeNull();
        new VersionBase("1", null, null, null, null).OutdatedAgainst(Newest).ShouldBeNull();
        new VersionBase("1", "debian/bullseye", null, "k1", null)
            .OutdatedAgainst(Newest with { Key = null })
            .ShouldBeNull("keys recorded on one side only are not compared");
    }
}
