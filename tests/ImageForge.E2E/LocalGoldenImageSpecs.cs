using System.Security.Cryptography;
using System.Text.Json;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.E2E;

/// <summary>
/// Two real builds with real Packer, real mmdebstrap and a real boot under qemu, shared by the specs of the golden
/// image collection. The first (cold: mmdebstrap, the first scan before hardening) builds the shipped debian-11-cis
/// from a content copy whose hardening removes the kernel: a deliberately broken disk whose boot test fails, so the
/// shipped baseline's boot_test gate rejects the version. The second is the shipped definition as the README's main
/// command builds it, on the warm caches: its disk boots, and it is the latest version the other specs read.
/// </summary>
public sealed class GoldenImageFixture : IAsyncLifetime
{
    public TempDirectory Data { get; } = new("imageforge-e2e");

    public TempDirectory BrokenContent { get; } = new("imageforge-e2e-no-kernel");

    /// <summary>The first build: no kernel in the image (test-only hardening rule), cold caches.</summary>
    public CliResult Cold { get; private set; } = null!;

    /// <summary>The shipped definition, warm caches: what the other specs of the collection read.</summary>
    public CliResult Warm { get; private set; } = null!;

    public TimeSpan ColdTime { get; private set; }

    public TimeSpan WarmTime { get; private set; }

    public async Task InitializeAsync()
    {
        TestContent.Copy(BrokenContent.Path);
        TestContent.RemoveKernelInHardening(BrokenContent.Path);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        var started = TimeProvider.System.GetTimestamp();
        Cold = await CliRunner.RunAsync(
            BrokenContent.Path,
            null,
            timeout.Token,
            ["build", "debian-11-cis", "--reason", "e2e cold, no kernel", "--data-dir", Data.Path]
        );
        ColdTime = TimeProvider.System.GetElapsedTime(started);
        started = TimeProvider.System.GetTimestamp();
        Warm = await Run(timeout.Token, "build", "debian-11-cis", "--reason", "e2e warm");
        WarmTime = TimeProvider.System.GetElapsedTime(started);
    }

    public Task<CliResult> Run(CancellationToken cancellationToken, params string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            null,
            cancellationToken,
            [.. args, "--data-dir", Data.Path]
        );

    /// <summary>The versions of debian-11-cis (images show --output json), newest first.</summary>
    public async Task<IReadOnlyList<JsonElement>> VersionsAsync()
    {
        var show = await Run(
            CancellationToken.None,
            "images",
            "show",
            "debian-11-cis",
            "--output",
            "json"
        );
        show.ExitCode.ShouldBe(0, show.ToString());
        using var json = JsonDocument.Parse(show.Out);
        return
        [
            .. json.RootElement.GetProperty("versions").EnumerateArray().Select(v => v.Clone()),
        ];
    }

    public Task DisposeAsync()
    {
        Data.Dispose();
        BrokenContent.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The specs sharing one <see cref="GoldenImageFixture"/> (two real builds and one real boot, run once).</summary>
[CollectionDefinition(Name)]
public sealed class GoldenImageGroup : ICollectionFixture<GoldenImageFixture>
{
    public const string Name = "golden image";
}

[Collection(GoldenImageGroup.Name)]
public sealed class LocalGoldenImageSpecs(GoldenImageFixture fixture)
{
    // Both versions' files are read again and hashed here, among them four sparse 2 GiB disks.
    [Fact(Timeout = 300_000)]
    public async Task The_main_command_records_a_version_whose_artifacts_exist_and_match_their_sha256()
    {
        fixture.Warm.ExitCode.ShouldBe(0, fixture.Warm.ToString());

        var versions = await fixture.VersionsAsync();
        versions.Count.ShouldBe(2);
        foreach (var version in versions)
        {
            version.GetProperty("version").GetString()!.ShouldMatch(@"^\d{4}\.\d{2}\.\d{2}\.[12]$");
            var kinds = new List<string>();
            foreach (
                var file in version
                    .GetProperty("artifacts")
                    .EnumerateArray()
                    .Concat(version.GetProperty("evidence").EnumerateArray())
            )
            {
                var path = file.GetProperty("path").GetString()!;
                File.Exists(path).ShouldBeTrue(path);
                await using var stream = File.OpenRead(path);
                Convert
                    .ToHexStringLower(await SHA256.HashDataAsync(stream))
                    .ShouldBe(file.GetProperty("sha256").GetString(), path);
                kinds.Add(file.GetProperty("kind").GetString()!);
            }

            // Every kind the local target and the compliance collector record (other collectors add more).
            foreach (
                var kind in new[]
                {
                    "rootfs-tar-zst",
                    "disk-raw",
                    "disk-vhd",
                    "disk-tar-gz",
                    "disk-layout",
                    "boot-test",
                    "boot-test-transcript",
                    "package-inventory",
                    "hardening-report",
                    "compliance-before-results",
                    "compliance-before-report",
                    "compliance-after-results",
                    "compliance-after-report",
                    "compliance-summary",
                }
            )
            {
                kinds.ShouldContain(kind);
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_image_is_hardened_and_its_inventory_lists_the_requested_packages()
    {
        fixture.Warm.ExitCode.ShouldBe(0, fixture.Warm.ToString());
        var artifacts = await LatestArtifactsAsync();

        var report = await File.ReadAllLinesAsync(artifacts["hardening-report"]);
        report.ShouldContain(l =>
            l.Contains("sshd", StringComparison.Ordinal)
            && l.Contains("\tpass", StringComparison.Ordinal)
        );
        report.ShouldNotContain(l => l.Contains("\tfail", StringComparison.Ordinal));

        var inventory = await File.ReadAllLinesAsync(artifacts["package-inventory"]);
        foreach (var package in new[] { "openssh-server", "auditd", "rsyslog" })
        {
            inventory.ShouldContain(
                l => l.StartsWith(package + "\t", StringComparison.Ordinal),
                package
            );
        }

        // The disk's root partition is a real ext4 filesystem holding the hardened sshd configuration.
        using var dir = new TempDirectory("imageforge-e2e-root");
        var root = await DiskImage.ExtractAsync(
            artifacts["disk-raw"],
            "root",
            dir.Combine("root.img")
        );
        var sshd = await Tools.RunAsync("debugfs", "-R", "cat /etc/ssh/sshd_config", root);
        sshd.ShouldContain("PermitRootLogin no");
    }

    [Fact]
    public void A_rebuild_with_a_warm_cache_reuses_the_bootstrapped_base_and_its_scan_before_hardening()
    {
        fixture.Cold.Error.ShouldContain("running mmdebstrap");
        fixture.Cold.Error.ShouldContain("cache miss, scanning this base");
        fixture.Warm.ExitCode.ShouldBe(0, fixture.Warm.ToString());
        fixture.Warm.Error.ShouldContain("cache hit, using base");
        fixture.Warm.Error.ShouldContain("cache hit, using the scan of this base");
        fixture.Warm.Out.ShouldContain(".2 (build");
        // Not a timing assertion (benchmarks measure that): the warm build skips mmdebstrap and the first scan.
        fixture.Warm.Error.ShouldNotContain("running mmdebstrap");
        fixture.Warm.Error.ShouldNotContain("scanning with OpenSCAP (before hardening)");
    }

    [Fact]
    public void A_build_leaves_no_work_directory_and_no_mount_behind()
    {
        fixture.Warm.ExitCode.ShouldBe(0, fixture.Warm.ToString());
        var work = Path.Combine(fixture.Data.Path, "work");
        (Directory.Exists(work) ? Directory.GetFileSystemEntries(work) : []).ShouldBeEmpty();
        File.ReadAllText("/proc/self/mountinfo").ShouldNotContain(fixture.Data.Path);
    }

    private async Task<Dictionary<string, string>> LatestArtifactsAsync()
    {
        var show = await fixture.Run(
            CancellationToken.None,
            "images",
            "show",
            "debian-11-cis",
            "--output",
            "json",
            "--limit",
            "1"
        );
        using var json = JsonDocument.Parse(show.Out);
        var version = json.RootElement.GetProperty("versions")[0];
        return version
            .GetProperty("artifacts")
            .EnumerateArray()
            .Concat(version.GetProperty("evidence").EnumerateArray())
            .ToDictionary(
                a => a.GetProperty("kind").GetString()!,
                a => a.GetProperty("path").GetString()!
            );
    }
}
