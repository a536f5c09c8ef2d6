using System.Security.Cryptography;
using System.Text.Json;
using ImageForge.TestSupport;
using Shouldly;
using Xunit;

namespace ImageForge.MultiCloud.Tests;

/// <summary>
/// A guest-agent flavour (docs/multicloud.md#flavours): with <c>guest_agent: true</c> on the azure target, one build
/// makes the base disk and the azure flavour's disk, Azure imports the flavour's VHD (its bytes are what the fake
/// received) and AWS and GCP the base disk, and the signed statement names which disk each cloud got and what the
/// flavour added.
/// </summary>
public sealed partial class MultiCloudSpecs
{
    [Fact(Timeout = 120_000)]
    public async Task A_flavour_for_azure_gives_two_disk_digests_and_azure_imports_the_flavours_vhd_the_others_the_base()
    {
        var image = "mc-flavour";
        var content = WriteContent(image);
        var definition = Path.Combine(content, "templates", "images", $"{image}.yaml");
        File.WriteAllText(
            definition,
            File.ReadAllText(definition)
                .Replace(
                    "  - provider: azure\n    build: import\n",
                    "  - provider: azure\n    build: import\n    guest_agent: true\n",
                    StringComparison.Ordinal
                )
        );
        var azureBlobsBefore = Clouds.Azurite.Sources.Count;

        var built = await RunAsync(content, "build", image, "--output", "json");

        built.ExitCode.ShouldBe(0, built.ToString());
        _disks.Builds.ShouldBe(1, "one build of the tree, its flavour included");
        using var json = JsonDocument.Parse(built.Out);
        var artifacts = json
            .RootElement.GetProperty("version")
            .GetProperty("artifacts")
            .EnumerateArray()
            .Select(a =>
                (
                    Target: a.GetProperty("target").GetString()!,
                    Region: a.GetProperty("region").GetString()!,
                    Kind: a.GetProperty("kind").GetString()!,
                    Path: a.GetProperty("path").GetString()!,
                    Sha256: a.GetProperty("sha256").GetString(),
                    Flavour: a.TryGetProperty("flavour", out var f) ? f.GetString() : null
                )
            )
            .ToList();
        var raws = artifacts.Where(a => a.Kind == "disk-raw").ToList();
        raws.Select(a => a.Sha256)
            .Distinct()
            .Count()
            .ShouldBe(2, "the base disk and the flavour's");
        var flavourVhd = artifacts.Single(a => a.Kind == "disk-vhd" && a.Flavour == "azure");
        Path.GetFileName(flavourVhd.Path).ShouldBe("disk-azure.vhd");
        artifacts
            .Where(a => a.Target == "azure")
            .ShouldAllBe(a => a.Flavour == "azure", "each Azure image says its flavour");
        artifacts.Where(a => a.Target is "aws" or "gcp").ShouldAllBe(a => a.Flavour == null);

        // What the Azure fake was given to import is the flavour's VHD, byte for byte.
        var received = Clouds.Azurite.Sources.Skip(azureBlobsBefore).ToList();
        received.ShouldNotBeEmpty();
        received.ShouldAllBe(r =>
            r.Sha256
            == Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(flavourVhd.Path)))
        );

        // The signed statement: Azure's images from the flavour's disk, AWS's and GCP's from the base disk, and the
        // flavour's disk files name the flavour and what it added.
        var statement = await StatementAsync(content, image);
        var formats = statement.Disks();
        var baseRaw = raws.Single(a => a.Flavour is null).Sha256!;
        var flavourRaw = raws.Single(a => a.Flavour == "azure").Sha256!;
        foreach (var place in ThreeClouds.Places)
        {
            var (target, region) = (place.Split('/')[0], place.Split('/')[1]);
            var id = artifacts.Single(a => a.Target == target && a.Region == region).Path;
            var source = statement.SourceOf(target, region, id);
            var disk = formats.GetValueOrDefault(source, source);
            disk.ShouldBe(target == "azure" ? flavourRaw : baseRaw, $"{place} got the wrong disk");
        }
        var flavourSubject = statement.Subjects.Single(s =>
            s.Name.EndsWith("/disk-raw/disk-azure.raw", StringComparison.Ordinal)
        );
        flavourSubject.Annotations!.Value.GetProperty("flavour").GetString().ShouldBe("azure");
        flavourSubject
            .Annotations.Value.GetProperty("flavour_packages")
            .GetString()
            .ShouldBe("waagent=1.0-test");

        // images show names the flavour of each Azure image and what the flavour's disk added.
        var shown = await RunAsync(content, "images", "show", image);
        shown.ExitCode.ShouldBe(0, shown.ToString());
        shown.Out.ShouldContain("flavour azure, adds waagent=1.0-test");
        shown.Out.ShouldContain($"flavour azure, from sha256:{flavourVhd.Sha256}");
        Clouds.Arm.TakeProblems().ShouldBeEmpty();
    }
}
