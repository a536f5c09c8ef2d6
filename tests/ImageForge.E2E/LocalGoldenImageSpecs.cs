using System.Security.Cryptography;
using System.Text.Json;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.E2E;

/// <summary>
/// One cold build of the shipped debian-11-cis definition (what the README's main command runs), then a warm one,
/// with real Packer and real mmdebstrap against the Debian mirror. Shared by the specs of this class.
/// </summary>
public sealed class GoldenImageFixture : IAsyncLifetime
{
    public TempDirectory Data { get; } = new("imageforge-e2e");

    public CliResult Cold { get; private set; } = null!;

    public CliResult Warm { get; private set; } = null!;

    public TimeSpan ColdTime { get; private set; }

    public TimeSpan WarmTime { get; private set; }

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var started = TimeProvider.System.GetTimestamp();
        Cold = await Run(timeout.Token, "build", "debian-11-cis", "--reason", "e2e cold");
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

    public Task DisposeAsync()
    {
        Data.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The specs sharing one <see cref="GoldenImageFixture"/> (two real builds, run once).</summary>
[CollectionDefinition(Name)]
public sealed class GoldenImageGroup : ICollectionFixture<GoldenImageFixture>
{
    public const string Name = "golden image";
}

[Collection(GoldenImageGroup.Name)]
public sealed class LocalGoldenImageSpecs(GoldenImageFixture fixture)
{
    [Fact(Timeout = 60_000)]
    public async Task The_main_command_records_a_version_whose_artifacts_exist_and_match_their_sha256()
    {
        fixture.Cold.ExitCode.ShouldBe(0, fixture.Cold.ToString());

        var show = await fixture.Run(
            CancellationToken.None,
            "images",
            "show",
            "debian-11-cis",
            "--output",
            "json"
        );
        show.ExitCode.ShouldBe(0, show.ToString());
        using var json = JsonDocument.Parse(show.Out);
        var versions = json.RootElement.GetProperty("versions").EnumerateArray().ToList();
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
                    "disk-raw-ext4",
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
        fixture.Cold.ExitCode.ShouldBe(0, fixture.Cold.ToString());
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

        // The disk image is a real ext4 filesystem holding the hardened sshd configuration.
        var sshd = await Tools.RunAsync(
            "debugfs",
            "-R",
            "cat /etc/ssh/sshd_config",
            artifacts["disk-raw-ext4"]
        );
        sshd.ShouldContain("PermitRootLogin no");
    }

    [Fact]
    public void A_rebuild_with_a_warm_cache_reuses_the_bootstrapped_base()
    {
        fixture.Warm.ExitCode.ShouldBe(0, fixture.Warm.ToString());
        fixture.Warm.Error.ShouldContain("cache hit");
        fixture.Warm.Out.ShouldContain(".2 (build");
        // Not a timing assertion (benchmarks measure that): the warm build skips mmdebstrap entirely.
        fixture.Warm.Error.ShouldNotContain("running mmdebstrap");
    }

    [Fact]
    public void A_build_leaves_no_work_directory_and_no_mount_behind()
    {
        fixture.Cold.ExitCode.ShouldBe(0, fixture.Cold.ToString());
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
