using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

public sealed class ValidateCommandSpecs
{
    [Fact]
    public async Task The_shipped_definitions_and_baselines_are_valid()
    {
        var result = await CliRunner.RunAsync(RepoPaths.Root, "validate");

        result.ExitCode.ShouldBe(0, result.ToString());
        result.Out.ShouldStartWith("ok: ");
    }

    [Theory]
    [InlineData(
        "missing-field",
        "name: broken\nos: {family: debian, release: \"11\"}\nbaseline: debian-11-anssi\ntargets:\n  - provider: local\n    base_image: bullseye\n",
        "description"
    )]
    [InlineData(
        "wrong-type",
        "name: broken\ndescription: d\nos: {family: debian, release: \"11\"}\nbaseline: debian-11-anssi\ntargets: local\n",
        "targets"
    )]
    [InlineData(
        "unknown-target",
        "name: broken\ndescription: d\nos: {family: debian, release: \"11\"}\nbaseline: debian-11-anssi\ntargets:\n  - provider: openstack\n    base_image: bullseye\n",
        "provider"
    )]
    [InlineData(
        "bad-cron",
        "name: broken\ndescription: d\nos: {family: debian, release: \"11\"}\nbaseline: debian-11-anssi\ntargets:\n  - provider: local\n    base_image: bullseye\nschedule: {cron: \"61 2 * * *\", time_zone: UTC}\n",
        "cron"
    )]
    [InlineData(
        "unknown-baseline",
        "name: broken\ndescription: d\nos: {family: debian, release: \"11\"}\nbaseline: no-such-baseline\ntargets:\n  - provider: local\n    base_image: bullseye\n",
        "baseline"
    )]
    [InlineData(
        "path-traversal",
        "name: ../../etc/evil\ndescription: d\nos: {family: debian, release: \"11\"}\nbaseline: debian-11-anssi\ntargets:\n  - provider: local\n    base_image: bullseye\n",
        "name"
    )]
    public async Task A_bad_definition_gives_a_file_and_line_error_and_exit_code_2(
        string file,
        string yaml,
        string field
    )
    {
        using var dir = new TempDirectory();
        // The file is named like the image, so the problem checked is the only one.
        Directory.CreateDirectory(dir.Combine(file));
        var path = dir.Combine(file, "broken.yaml");
        await File.WriteAllTextAsync(path, yaml);

        var result = await CliRunner.RunAsync(RepoPaths.Root, "validate", path);

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldMatch(
            $@"{System.Text.RegularExpressions.Regex.Escape(path)}:\d+: [^:]*{field}[^:]*: .+"
        );
    }

    [Fact]
    [Trait(BadInput.Trait, BadInput.Encoding)]
    public async Task A_definition_with_Latin_1_bytes_in_its_description_exits_2_naming_the_line_and_byte()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("latin.yaml");
        var yaml =
            "name: latin\ndescription: Caf\u00e9 server\nos: {family: debian, release: \"11\"}\n"
            + "baseline: debian-11-anssi\ntargets:\n  - provider: local\n    base_image: bullseye\n";
        await File.WriteAllBytesAsync(path, System.Text.Encoding.Latin1.GetBytes(yaml));

        var result = await CliRunner.RunAsync(RepoPaths.Root, "validate", path);

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain(
            $"{path}:2: (file): not valid UTF-8: byte 0xE9 at byte offset 28 (line 2, byte 17 of the line)"
        );
    }

    [Fact]
    public async Task A_bad_definition_refuses_the_build_before_anything_is_recorded()
    {
        using var dir = new TempDirectory();
        var definitions = dir.Combine("images");
        Directory.CreateDirectory(definitions);
        await File.WriteAllTextAsync(
            Path.Combine(definitions, "broken.yaml"),
            "name: broken\ndescription: d\nos: {family: debian, release: \"11\"}\nbaseline: debian-11-anssi\ntargets:\n  - provider: local\n    base_image: bullseye\nschedule: {cron: \"* * *\", time_zone: UTC}\n"
        );
        var data = dir.Combine("data");

        var build = await CliRunner.RunAsync(
            RepoPaths.Root,
            "build",
            "broken",
            "--definitions",
            definitions,
            "--data-dir",
            data
        );
        var builds = await CliRunner.RunAsync(
            RepoPaths.Root,
            "builds",
            "list",
            "--data-dir",
            data,
            "--output",
            "json"
        );

        build.ExitCode.ShouldBe(2, build.ToString());
        build.Error.ShouldContain("broken.yaml:8");
        builds.Out.Trim().ShouldBe("[]");
        Directory.Exists(Path.Combine(data, "work")).ShouldBeFalse();
    }

    [Fact]
    public async Task A_build_whose_target_lacks_its_template_is_refused_before_anything_is_recorded()
    {
        using var dir = new TempDirectory();
        foreach (var folder in new[] { "templates/images", "baselines", "hardening" })
        {
            foreach (
                var file in Directory.EnumerateFiles(
                    Path.Combine(RepoPaths.Root, folder),
                    "*",
                    SearchOption.AllDirectories
                )
            )
            {
                var to = Path.Combine(
                    dir.Path,
                    folder,
                    Path.GetRelativePath(Path.Combine(RepoPaths.Root, folder), file)
                );
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(file, to);
            }
        }

        var data = dir.Combine("data");

        var build = await CliRunner.RunAsync(
            dir.Path,
            "build",
            "debian-11-cis",
            "--data-dir",
            data
        );
        var builds = await CliRunner.RunAsync(
            dir.Path,
            "builds",
            "list",
            "--data-dir",
            data,
            "--output",
            "json"
        );

        build.ExitCode.ShouldBe(2, build.ToString());
        build.Error.ShouldContain("the local target's Packer template is missing");
        builds.Out.Trim().ShouldBe("[]");
    }

    [Fact]
    public async Task An_unknown_option_is_bad_input()
    {
        var result = await CliRunner.RunAsync(RepoPaths.Root, "images", "list", "--colour");

        result.ExitCode.ShouldBe(2);
        result.Error.ShouldContain("--colour");
    }
}
