using ImageForge.Core.Errors;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Local.Tests;

/// <summary>A registry manifest of the wrong shape is refused naming the file and the JSON path, never a cast error.</summary>
[Trait(BadInput.Trait, BadInput.JsonShape)]
public sealed class LocalRegistryManifestSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-registry");

    public void Dispose() => _dir.Dispose();

    public static IEnumerable<object[]> Manifests =>
        BadJson.Rows(
            ("versions missing", """{"image":"a","channel":"dev"}""", "$.versions is missing"),
            (
                "versions an object",
                """{"versions":{}}""",
                "$.versions: expected an array, found an object"
            ),
            (
                "an entry a string",
                """{"versions":["2026.01.02.1"]}""",
                "$.versions[0]: expected an object, found a string"
            ),
            (
                "version a number",
                """{"versions":[{"version":1}]}""",
                "$.versions[0].version: expected a string, found a number"
            ),
            (
                "state a boolean",
                """{"versions":[{"version":"2026.01.02.1","state":true}]}""",
                "$.versions[0].state: expected a string, found a boolean"
            ),
            (
                "files a string",
                """{"versions":[{"version":"2026.01.02.1","files":"disk.raw"}]}""",
                "$.versions[0].files: expected an array, found a string"
            )
        );

    [Theory]
    [MemberData(nameof(Manifests))]
    public void A_manifest_of_the_wrong_shape_is_refused_naming_the_file(
        string shape,
        string json,
        string says
    )
    {
        var registry = new LocalRegistry(_dir.Path, TimeProvider.System);
        var directory = registry.ChannelDirectory("debian-11-cis", "dev");
        Directory.CreateDirectory(directory);
        var manifest = Path.Combine(directory, LocalRegistry.ManifestName);
        File.WriteAllText(manifest, json);

        var error = Should.Throw<InvalidInputException>(
            () => registry.StateOf("debian-11-cis", "dev", "2026.01.02.1"),
            shape
        );

        error.ExitCode.ShouldBe(2);
        error.Message.ShouldStartWith(manifest + ": ", Case.Sensitive, shape);
        error.Message.ShouldContain(says, Case.Sensitive, shape);
    }
}
