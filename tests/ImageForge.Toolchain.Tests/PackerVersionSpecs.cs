using ImageForge.Toolchain.Packer;

namespace ImageForge.Toolchain.Tests;

public sealed class PackerVersionSpecs
{
    [Theory]
    [InlineData("Packer v1.6.6", "1.6.6")]
    [InlineData("Packer v1.6.6\n", "1.6.6")]
    [InlineData(
        "Packer v1.11.2\n\nYour version of Packer is out of date! The latest version\nis 1.12.0.",
        "1.11.2"
    )]
    [InlineData("Packer v1.9.0-dev (abc1234)", "1.9.0")]
    [InlineData("warning: something first\nPacker v1.8.7", "1.8.7")]
    public void The_version_is_read_from_the_Packer_line(string output, string expected)
    {
        // Act
        var version = PackerClient.ParseVersion(output);

        // Assert
        version.ShouldBe(Version.Parse(expected));
    }

    [Theory]
    [InlineData("")]
    [InlineData("packer 1.6.6")]
    [InlineData("Usage: packer [--version] [--help] <command> [<args>]")]
    [InlineData("cracklib-packer: reading words")]
    public void Output_without_a_Packer_version_line_is_not_a_version(string output)
    {
        // Act
        var version = PackerClient.ParseVersion(output);

        // Assert
        version.ShouldBeNull();
    }

    [Theory]
    [InlineData("1.6.6", false)]
    [InlineData("1.6.99", false)]
    [InlineData("1.7.0", true)]
    [InlineData("1.11.2", true)]
    public void Plugins_and_init_exist_from_1_7_0(string version, bool supported)
    {
        // Arrange
        var info = new PackerVersionInfo(Version.Parse(version));

        // Act / Assert
        info.SupportsRequiredPlugins.ShouldBe(supported);
        info.SupportsInit.ShouldBe(supported);
    }

    [Fact]
    public void The_required_plugins_block_is_empty_for_1_6_6()
    {
        // Arrange
        var client = new PackerClient(new(TimeProvider.System));

        // Act
        var block = client.RequiredPluginsBlock(
            new PackerVersionInfo(new Version(1, 6, 6)),
            [("amazon", "github.com/hashicorp/amazon", ">= 1.2.0")]
        );

        // Assert
        block.ShouldBe("");
    }

    [Fact]
    public void The_required_plugins_block_declares_each_plugin_for_1_7_and_later()
    {
        // Arrange
        var client = new PackerClient(new(TimeProvider.System));

        // Act
        var block = client.RequiredPluginsBlock(
            new PackerVersionInfo(new Version(1, 11, 2)),
            [
                ("amazon", "github.com/hashicorp/amazon", ">= 1.2.0"),
                ("azure", "github.com/hashicorp/azure", "~> 2"),
            ]
        );

        // Assert
        block.ShouldBe(
            """
            packer {
              required_plugins {
                amazon = {
                  source  = "github.com/hashicorp/amazon"
                  version = ">= 1.2.0"
                }
                azure = {
                  source  = "github.com/hashicorp/azure"
                  version = "~> 2"
                }
              }
            }

            """
        );
    }

    [Fact]
    public void A_plugin_name_that_is_not_an_identifier_is_refused()
    {
        // Arrange
        var client = new PackerClient(new(TimeProvider.System));

        // Act
        var act = () =>
            client.RequiredPluginsBlock(
                new PackerVersionInfo(new Version(1, 8, 0)),
                [("bad name", "x", "1")]
            );

        // Assert
        act.ShouldThrow<ArgumentException>();
    }
}
