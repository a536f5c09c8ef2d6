using System.Text.Json;
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
        var content = TestContent.Copy(_content.Path);
        TestContent.Edit(
            content,
            Path.Combine("templates", "images", $"{Image}.yaml"),
            TestContent.PointAtFakes
        );
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
