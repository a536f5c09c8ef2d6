using ImageForge.Core.Errors;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Tests.Support;

namespace ImageForge.Toolchain.Tests;

public sealed class PackerManifestSpecs
{
    [Fact]
    public void The_last_run_holds_only_the_builds_of_the_latest_packer_run()
    {
        // Act
        var manifest = PackerManifest.Read(
            TestFiles.Transcript("null-artifice-two-runs.manifest.json")
        );

        // Assert
        manifest.Builds.Count.ShouldBe(2);
        manifest.LastRunUuid.ShouldBe("22d1d10f-8c81-1705-c9fd-e4a6eb52081a");
        var build = manifest.LastRun.ShouldHaveSingleItem();
        build.Name.ShouldBe("local");
        build.BuilderType.ShouldBe("null");
        build.BuildTime.ShouldBe(DateTimeOffset.FromUnixTimeSeconds(1795330125));
        build.Files.ShouldBe([new PackerManifestFile("/tmp/pk/out/a.txt", 5)]);
        build.ArtifactId.ShouldBe("");
        build.CustomData.ShouldBe(new Dictionary<string, string> { ["version"] = "1" });
    }

    [Fact]
    public void Files_written_as_null_read_as_none()
    {
        // Act
        var manifest = PackerManifest.Read(
            TestFiles.Transcript("null-two-sources-one-fails.manifest.json")
        );

        // Assert
        var build = manifest.LastRun.ShouldHaveSingleItem();
        build.Name.ShouldBe("good");
        build.ArtifactId.ShouldBe("Null");
        build.Files.ShouldBeEmpty();
    }

    // Packer writes the manifest, so a wrong shape is the tool's failure (exit code 3), not the user's input.
    public static IEnumerable<object[]> Manifests =>
        BadJson.Rows(
            ("no last_run_uuid", """{"builds": []}""", "no 'builds' or no 'last_run_uuid'"),
            (
                "a build without builder_type",
                """{"builds": [{"name": "x"}], "last_run_uuid": "u"}""",
                "build #0"
            ),
            ("builds an object", """{"builds": {}, "last_run_uuid": "u"}""", "$.builds"),
            ("a build a number", """{"builds": [1], "last_run_uuid": "u"}""", "$.builds[0]"),
            (
                "a file null",
                """{"builds": [{"name": "x", "builder_type": "null", "packer_run_uuid": "u", "files": [null]}], "last_run_uuid": "u"}""",
                "build #0"
            ),
            (
                "custom_data an array",
                """{"builds": [{"name": "x", "custom_data": []}], "last_run_uuid": "u"}""",
                "$.builds[0].custom_data"
            )
        );

    [Theory]
    [Trait(BadInput.Trait, BadInput.JsonShape)]
    [MemberData(nameof(Manifests))]
    public void A_malformed_manifest_fails_naming_the_file(
        string shape,
        string content,
        string says
    )
    {
        // Arrange
        using var temp = new TempDirectory();
        var path = temp.Combine("packer-manifest.json");
        File.WriteAllText(path, content);

        // Act
        var act = () => PackerManifest.Read(path);

        // Assert
        var failure = act.ShouldThrow<ToolFailedException>(shape);
        failure.Message.ShouldContain(path, Case.Sensitive, shape);
        failure.Message.ShouldContain(says, Case.Sensitive, shape);
        failure.Tool.ShouldBe("packer");
        failure.ExitCode.ShouldBe(3);
    }

    [Fact]
    public void A_missing_manifest_says_the_template_needs_a_manifest_post_processor()
    {
        // Arrange
        using var temp = new TempDirectory();
        var path = temp.Combine("absent.json");

        // Act
        var act = () => PackerManifest.Read(path);

        // Assert
        var failure = act.ShouldThrow<ToolFailedException>();
        failure.Message.ShouldContain(path);
        failure.Message.ShouldContain("manifest post-processor");
    }
}
