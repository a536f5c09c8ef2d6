using System.Text.RegularExpressions;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Local.Tests;

/// <summary>
/// What the local target builder takes from the template's outputs without running Packer: the digests the template
/// wrote (each artifact is hashed once, by the template), and the boot packages it passes.
/// </summary>
public sealed class LocalTargetBuilderSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-local-outputs");

    public void Dispose() => _dir.Dispose();

    private string Artifact(string name, string content, string? recorded)
    {
        var path = _dir.Combine(name);
        File.WriteAllText(path, content);
        if (recorded is not null)
        {
            File.WriteAllText(path + ".sha256", recorded);
        }
        return path;
    }

    private const string Digest =
        "a3f1b0e2c4d5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff";

    [Fact]
    public void The_digest_the_template_wrote_is_taken_as_it_is()
    {
        var path = Artifact("disk.raw", "bytes", $"{Digest}  disk.raw\n");

        LocalTargetBuilder.RecordedSha256(path).ShouldBe(Digest);
    }

    [Theory]
    [InlineData(null, "the template wrote no disk.raw.sha256")]
    [InlineData("0123  disk.raw\n", "expected '<sha256>  disk.raw'")]
    [InlineData(Digest + "  disk.vhd\n", "expected '<sha256>  disk.raw'")]
    [InlineData(Digest + " *disk.raw\n", "expected '<sha256>  disk.raw'")]
    public void A_missing_or_malformed_digest_fails_the_build(string? recorded, string message)
    {
        var path = Artifact("disk.raw", "bytes", recorded);

        Should
            .Throw<ToolFailedException>(() => LocalTargetBuilder.RecordedSha256(path))
            .Message.ShouldContain(message);
    }

    [Fact]
    public void An_artifact_written_after_its_digest_is_not_trusted()
    {
        var path = Artifact("disk.raw", "bytes", $"{Digest}  disk.raw\n");
        File.SetLastWriteTimeUtc(path + ".sha256", File.GetLastWriteTimeUtc(path).AddSeconds(-5));

        Should
            .Throw<ToolFailedException>(() => LocalTargetBuilder.RecordedSha256(path))
            .Message.ShouldContain("written after its digest");
    }

    [Fact]
    public void The_template_defaults_name_the_boot_packages_and_kernel_the_builder_passes()
    {
        // Running the template by hand (docs/local-target.md) gets the same bootable disk as a build does.
        var variables = File.ReadAllText(
            Path.Combine(RepoPaths.Root, "templates", "packer", "local", "variables.pkr.hcl")
        );

        Default(variables, "boot_packages")
            .ShouldBe(string.Join(' ', LocalTargetBuilder.BootPackages));
        Default(variables, "kernel_package").ShouldBe(LocalTargetBuilder.KernelPackage);
    }

    [Fact]
    public void The_flavours_variable_names_each_flavour_with_the_formats_its_importers_take()
    {
        var variable = LocalTargetBuilder.FlavoursVariable([
            new DiskFlavour("azure", ["waagent"], [LocalTargetBuilder.DiskVhdKind]),
            new DiskFlavour("gcp", ["google-guest-agent"], [LocalTargetBuilder.DiskTarGzKind]),
        ]);

        variable.ShouldBe("azure:raw,vhd:waagent gcp:raw,tar-gz:google-guest-agent");
        LocalTargetBuilder.FlavoursVariable([]).ShouldBe("");
        // flavours.sh refuses any entry its own pattern does not match: what the builder writes matches it.
        var script = File.ReadAllText(
            Path.Combine(RepoPaths.Root, "templates", "packer", "local", "scripts", "flavours.sh")
        );
        var pattern = Regex.Match(script, @"\[\[ ""\$entry"" =~ (\S+) \]\]").Groups[1].Value;
        pattern.ShouldNotBeEmpty();
        variable.Split(' ').ShouldAllBe(entry => Regex.IsMatch(entry, pattern));
        Regex
            .IsMatch("azure:vhd:waagent", pattern)
            .ShouldBeFalse("raw comes first: the formats are made from it");
        Regex.IsMatch("azure:raw,vhd:waagent;reboot", pattern).ShouldBeFalse();
        Default(
                File.ReadAllText(
                    Path.Combine(
                        RepoPaths.Root,
                        "templates",
                        "packer",
                        "local",
                        "variables.pkr.hcl"
                    )
                ),
                "flavours"
            )
            .ShouldBe("");
    }

    private static string Default(string hcl, string variable)
    {
        var match = Regex.Match(
            hcl,
            $"variable \"{variable}\" \\{{[^}}]*?default\\s*=\\s*\"([^\"]*)\"",
            RegexOptions.Singleline
        );
        match.Success.ShouldBeTrue($"variable {variable} has a default");
        return match.Groups[1].Value;
    }
}
