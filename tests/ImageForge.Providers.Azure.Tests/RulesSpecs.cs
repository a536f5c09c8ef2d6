using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Azure.Tests;

/// <summary>What an Azure target refuses, through <c>imageforge validate</c>: file and line, exit code 2.</summary>
public sealed class RulesSpecs
{
    private const string Valid = """
        name: azure-image
        description: d
        os: {family: debian, release: "11"}
        baseline: debian-11-anssi
        targets:
          - provider: azure
            base_image: Debian:debian-11:11-gen2:latest
            build: native
            regions: [westeurope, northeurope]
            options:
              subscription_id: 5f1c2e7a-0d3b-4c59-9a6e-1f0e2d3c4b5a
              resource_group: imageforge-images
              gallery: imageforge
              image_definition: debian-11
              publisher: imageforge
              storage_account: imageforgevhds
              replica_count: 2
            channels:
              prod: { latest: true }
        channels: [dev, prod]

        """;

    [Fact(Timeout = 30_000)]
    public async Task A_complete_target_and_the_shipped_azure_image_are_valid()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("azure-image.yaml");
        await File.WriteAllTextAsync(path, Valid);

        var mine = await CliRunner.RunAsync(RepoPaths.Root, "validate", path);
        var shipped = await CliRunner.RunAsync(
            RepoPaths.Root,
            "validate",
            Path.Combine(RepoPaths.Root, "templates", "images", "debian-11-cis-azure.yaml")
        );

        mine.ExitCode.ShouldBe(0, mine.ToString());
        shipped.ExitCode.ShouldBe(0, shipped.ToString());
    }

    [Theory(Timeout = 30_000)]
    [InlineData(
        "regions: [westeurope, northeurope]",
        "regions: [westeurope, westeu]",
        9,
        "'westeu' is not a region name for azure"
    )]
    [InlineData(
        "subscription_id: 5f1c2e7a-0d3b-4c59-9a6e-1f0e2d3c4b5a",
        "subscription_id: 5f1c2e7a-0d3b-4c59-9a6e",
        11,
        "expected a GUID"
    )]
    [InlineData("gallery: imageforge", "gallery: image-forge", 13, "a compute gallery name")]
    [InlineData("gallery: imageforge", "gallery: imageforge.", 13, "a compute gallery name")]
    [InlineData(
        "replica_count: 2",
        "replica_count: 0",
        17,
        "expected a whole number from 1 to 100, found '0'"
    )]
    [InlineData(
        "replica_count: 2",
        "replica_count: 101",
        17,
        "expected a whole number from 1 to 100, found '101'"
    )]
    [InlineData(
        "storage_account: imageforgevhds",
        "storage_account: ImageForge-VHDs",
        16,
        "a storage account name"
    )]
    [InlineData("latest: true", "latest: sometimes", 19, "expected true or false")]
    public async Task A_target_azure_would_refuse_is_reported_with_file_and_line_and_exit_code_2(
        string valid,
        string broken,
        int line,
        string expected
    )
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("azure-image.yaml");
        Valid.ShouldContain(valid);
        await File.WriteAllTextAsync(path, Valid.Replace(valid, broken, StringComparison.Ordinal));

        var result = await CliRunner.RunAsync(RepoPaths.Root, "validate", path);

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain($"azure-image.yaml:{line}");
        result.Error.ShouldContain(expected);
        // Validation writes nothing.
        Directory.EnumerateFileSystemEntries(dir.Path).ShouldBe([path]);
    }
}
