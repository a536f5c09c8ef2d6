using System.Text.Json;
using ImageForge.Core.Provenance;
using ImageForge.Providers.Local;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.E2E;

/// <summary>
/// The shipped debian-11-cis-multicloud definition, its accounts and names replaced by the fakes' (as its header
/// tells a user to replace them with their own), built for real: one bootstrap, one hardening, one boot test of the
/// real disk, imported into AWS, Azure and GCP (the fakes), one signed provenance binding every cloud image to the one
/// disk. Runs in the golden-image collection, after its builds, so the bootstrapped base is warm.
/// </summary>
[Collection(GoldenImageGroup.Name)]
public sealed class MultiCloudSpecs(GoldenImageFixture fixture) : IAsyncLifetime, IDisposable
{
    private const string Image = "debian-11-cis-multicloud";
    private readonly TempDirectory _content = new("imageforge-e2e-multicloud");
    private ThreeClouds _clouds = null!;

    public async Task InitializeAsync() => _clouds = await ThreeClouds.StartAsync();

    public async Task DisposeAsync() => await _clouds.DisposeAsync();

    public void Dispose() => _content.Dispose();

    [Fact(Timeout = 900_000)]
    public async Task The_shipped_multicloud_image_is_built_once_and_imported_into_three_clouds_bound_to_one_disk()
    {
        var content = ContentForTheFakes(yaml => yaml);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(14));

        var built = await RunAsync(content, timeout.Token, "build", Image, "--output", "json");
        var verify = await RunAsync(content, timeout.Token, "verify", Image);

        built.ExitCode.ShouldBe(0, built.ToString());
        Count(built.Error, "applying hardening rules").ShouldBe(1, built.Error);
        Count(built.Error, "cache hit, using base").ShouldBe(1, built.Error);
        using var json = JsonDocument.Parse(built.Out);
        var artifacts = json
            .RootElement.GetProperty("version")
            .GetProperty("artifacts")
            .EnumerateArray()
            .ToList();
        artifacts
            .Where(a => a.GetProperty("target").GetString() != "local")
            .Select(a =>
                $"{a.GetProperty("target").GetString()}/{a.GetProperty("region").GetString()}"
            )
            .Order(StringComparer.Ordinal)
            .ShouldBe(ThreeClouds.Places);
        verify.ExitCode.ShouldBe(0, verify.ToString());

        // One disk: each cloud image was made from one of the local disk files, each of which is the raw disk or
        // was made from it.
        var disks = artifacts
            .Where(a => a.GetProperty("target").GetString() == "local")
            .Where(a =>
                a.GetProperty("kind").GetString()!.StartsWith("disk-", StringComparison.Ordinal)
            )
            .ToDictionary(
                a => a.GetProperty("sha256").GetString()!,
                a => a.GetProperty("kind").GetString()!,
                StringComparer.Ordinal
            );
        var raw = disks.Single(d => d.Value == "disk-raw").Key;
        foreach (var cloud in artifacts.Where(a => a.GetProperty("target").GetString() != "local"))
        {
            var source = cloud.GetProperty("source_sha256").GetString()!;
            disks.ShouldContainKey(source, $"{cloud} is made from a disk of this build");
        }

        foreach (
            var format in artifacts.Where(a =>
                a.GetProperty("kind").GetString() is "disk-vhd" or "disk-tar-gz"
            )
        )
        {
            format.GetProperty("source_sha256").GetString().ShouldBe(raw);
        }

        _clouds.Aws.AssertNoModelProblems();
        _clouds.Gcp.AssertNoModelProblems();
        _clouds.Arm.TakeProblems().ShouldBeEmpty();
    }

    /// <summary>
    /// The same definition with <c>guest_agent: true</c> on azure (one more real build; its boot test boots the base
    /// disk, which covers the tree, partitions and boot loader the flavour shares): one bootstrap, one hardening and
    /// one boot test, two raw disk
    /// digests, waagent in the azure disk's dpkg database and not in the base disk's (read from the disks'
    /// /var partitions with debugfs, offsets from sfdisk), Azure's images from the flavour's VHD, AWS's and GCP's from
    /// the base disk, and the flavour with its packages in the signed provenance.
    /// </summary>
    [Fact(Timeout = 900_000)]
    public async Task A_waagent_flavour_for_azure_is_made_from_the_same_hardened_tree_and_only_azure_imports_it()
    {
        var content = ContentForTheFakes(yaml =>
            yaml.Replace(
                "  - provider: azure\n    build: import\n",
                "  - provider: azure\n    build: import\n    guest_agent: true\n",
                StringComparison.Ordinal
            )
        );
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(14));

        var built = await RunAsync(content, timeout.Token, "build", Image, "--output", "json");

        built.ExitCode.ShouldBe(0, built.ToString());
        Count(built.Error, "applying hardening rules").ShouldBe(1, built.Error);
        Count(built.Error, "extracting base into the work directory").ShouldBe(1, built.Error);
        Count(built.Error, "installing waagent into the azure flavour").ShouldBe(1, built.Error);
        Count(built.Error, "booting the disk").ShouldBe(1, built.Error);
        using var json = JsonDocument.Parse(built.Out);
        var artifacts = json
            .RootElement.GetProperty("version")
            .GetProperty("artifacts")
            .EnumerateArray()
            .Select(a =>
                (
                    Target: a.GetProperty("target").GetString()!,
                    Kind: a.GetProperty("kind").GetString()!,
                    Path: a.GetProperty("path").GetString()!,
                    Sha256: a.TryGetProperty("sha256", out var h) ? h.GetString() : null,
                    Source: a.TryGetProperty("source_sha256", out var s) ? s.GetString() : null,
                    Flavour: a.TryGetProperty("flavour", out var f) ? f.GetString() : null
                )
            )
            .ToList();
        var raws = artifacts.Where(a => a.Kind == "disk-raw").ToList();
        raws.Count.ShouldBe(2);
        raws.Select(a => a.Sha256).Distinct().Count().ShouldBe(2, "two disk digests");
        var baseRaw = raws.Single(a => a.Flavour is null);
        var azureRaw = raws.Single(a => a.Flavour == "azure");
        (await DpkgStatusAsync(azureRaw.Path)).ShouldContain("\nPackage: waagent\n");
        (await DpkgStatusAsync(baseRaw.Path)).ShouldNotContain("Package: waagent\n");

        // Azure's images from the flavour's VHD, the others from the base disk's formats.
        var disks = artifacts
            .Where(a => a.Target == "local" && a.Kind.StartsWith("disk-", StringComparison.Ordinal))
            .ToDictionary(a => a.Sha256!, a => a, StringComparer.Ordinal);
        foreach (var cloud in artifacts.Where(a => a.Target != "local"))
        {
            var disk = disks[cloud.Source!];
            disk.Flavour.ShouldBe(cloud.Target == "azure" ? "azure" : null, cloud.ToString());
            cloud.Flavour.ShouldBe(disk.Flavour);
            (disk.Kind == "disk-raw" ? disk.Sha256 : disk.Source).ShouldBe(
                disk.Flavour is null ? baseRaw.Sha256 : azureRaw.Sha256
            );
        }

        // The signed statement names the flavour's disk and what it added, with versions from its dpkg.
        var shown = await RunAsync(
            content,
            timeout.Token,
            "images",
            "show",
            Image,
            "--output",
            "json"
        );
        shown.ExitCode.ShouldBe(0, shown.ToString());
        var statementPath = JsonDocument
            .Parse(shown.Out)
            .RootElement.GetProperty("versions")[0]
            .GetProperty("evidence")
            .EnumerateArray()
            .Single(e => e.GetProperty("kind").GetString() == ProvenanceSubjects.StatementKind)
            .GetProperty("path")
            .GetString()!;
        using var statement = JsonDocument.Parse(await File.ReadAllTextAsync(statementPath));
        var subjects = statement.RootElement.GetProperty("subject").EnumerateArray().ToList();
        var flavourSubject = subjects.Single(s =>
            s.GetProperty("name")
                .GetString()!
                .EndsWith("/disk-raw/disk-azure.raw", StringComparison.Ordinal)
        );
        flavourSubject
            .GetProperty("digest")
            .GetProperty("sha256")
            .GetString()
            .ShouldBe(azureRaw.Sha256);
        flavourSubject
            .GetProperty("annotations")
            .GetProperty("flavour_packages")
            .GetString()!
            .ShouldMatch(@"(^| )waagent=\S+");
        subjects.ShouldContain(s =>
            s.GetProperty("name")
                .GetString()!
                .EndsWith("/disk-raw/disk.raw", StringComparison.Ordinal)
            && s.GetProperty("digest").GetProperty("sha256").GetString() == baseRaw.Sha256
        );
        _clouds.Arm.TakeProblems().ShouldBeEmpty();
    }

    // The dpkg database of a disk, read from its /var partition (cis layout) without a loop device.
    private async Task<string> DpkgStatusAsync(string disk)
    {
        var var = await DiskImage.ExtractAsync(
            disk,
            "var",
            Path.Combine(_content.Path, Path.GetFileName(disk) + ".var.img")
        );
        try
        {
            return await Tools.RunAsync("debugfs", "-R", "cat /lib/dpkg/status", var);
        }
        finally
        {
            File.Delete(var);
        }
    }

    // The shipped multi-cloud definition with the fakes' accounts and names, then edited by the spec.
    private string ContentForTheFakes(Func<string, string> edit)
    {
        var content = TestContent.Copy(Path.Combine(_content.Path, Guid.NewGuid().ToString("N")));
        TestContent.Edit(
            content,
            Path.Combine("templates", "images", $"{Image}.yaml"),
            yaml => TestContent.PointAtFakes(edit(yaml))
        );
        return content;
    }

    private static int Count(string text, string what) => text.Split(what).Length - 1;

    private Task<CliResult> RunAsync(
        string content,
        CancellationToken cancellationToken,
        params string[] args
    ) =>
        CliRunner.RunAsync(
            content,
            _clouds.Variables,
            _clouds.Providers(new LocalProvider()),
            cancellationToken,
            [.. args, "--data-dir", fixture.Data.Path]
        );
}
