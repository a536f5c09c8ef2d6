using System.Text.Json;
using System.Text.RegularExpressions;
using ImageForge.Core.Tests.Support;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace ImageForge.E2E;

/// <summary>SBOMs and findings of the shipped image (built with the security suite) from the shared golden builds.</summary>
[Collection(GoldenImageGroup.Name)]
public sealed class SbomAndFindingsSpecs(GoldenImageFixture fixture, ITestOutputHelper output)
{
    [Fact(Timeout = 120_000)]
    public async Task Every_package_dpkg_lists_in_the_built_image_is_in_both_SBOMs_and_nothing_else_and_both_validate()
    {
        // Arrange
        fixture.Warm.ExitCode.ShouldBe(0, fixture.Warm.ToString());
        var version = await LatestAsync(fixture.Run, "debian-11-cis");
        using var dir = new TempDirectory("imageforge-e2e-sbom");
        await Tools.RunAsync(
            "tar",
            "--zstd",
            "-xf",
            version.Files["rootfs-tar-zst"],
            "-C",
            dir.Path,
            "./var/lib/dpkg"
        );
        var dpkg = (
            await Tools.RunAsync(
                "dpkg-query",
                $"--admindir={dir.Path}/var/lib/dpkg",
                "-W",
                "-f=${db:Status-Status} ${Package}\\n"
            )
        )
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("installed ", StringComparison.Ordinal))
            .Select(l => l[10..])
            .Order(StringComparer.Ordinal)
            .ToList();

        // Act
        var cdx = await fixture.Run(CancellationToken.None, "sbom", version.Reference);
        var spdx = await fixture.Run(
            CancellationToken.None,
            "sbom",
            version.Reference,
            "--format",
            "spdx"
        );

        // Assert
        cdx.ExitCode.ShouldBe(0, cdx.ToString());
        spdx.ExitCode.ShouldBe(0, spdx.ToString());
        using var cdxJson = JsonDocument.Parse(cdx.Out);
        using var spdxJson = JsonDocument.Parse(spdx.Out);
        cdxJson
            .RootElement.GetProperty("metadata")
            .GetProperty("component")
            .GetProperty("version")
            .GetString()
            .ShouldBe(version.Version);
        var cdxNames = cdxJson
            .RootElement.GetProperty("components")
            .EnumerateArray()
            .Select(c => c.GetProperty("name").GetString()!)
            .Order(StringComparer.Ordinal)
            .ToList();
        var described = spdxJson.RootElement.GetProperty("documentDescribes")[0].GetString();
        var spdxNames = spdxJson
            .RootElement.GetProperty("packages")
            .EnumerateArray()
            .Where(p => p.GetProperty("SPDXID").GetString() != described)
            .Select(p => p.GetProperty("name").GetString()!)
            .Order(StringComparer.Ordinal)
            .ToList();
        dpkg.Count.ShouldBeGreaterThan(100);
        cdxNames.ShouldBe(dpkg);
        spdxNames.ShouldBe(dpkg);
        cdxJson
            .RootElement.GetProperty("components")
            .EnumerateArray()
            .Single(c => c.GetProperty("name").GetString() == "openssh-server")
            .GetProperty("purl")
            .GetString()!
            .ShouldStartWith("pkg:deb/debian/openssh-server@1:8.4p1-5%2Bdeb11u");

        var cdxResult = await SchemaValidator.ValidateAsync(
            SchemaValidator.CycloneDx16,
            SchemaValidator.CycloneDxRefs,
            version.Files["sbom-cyclonedx"]
        );
        var spdxResult = await SchemaValidator.ValidateAsync(
            SchemaValidator.Spdx23,
            [],
            version.Files["sbom-spdx"]
        );
        cdxResult.Values.Single().ShouldBeNull();
        spdxResult.Values.Single().ShouldBeNull();
        var licensed = cdxJson
            .RootElement.GetProperty("components")
            .EnumerateArray()
            .Count(c => c.TryGetProperty("licenses", out _));
        output.WriteLine($"{dpkg.Count} packages, {licensed} with a machine-readable license");
        licensed.ShouldBeGreaterThan(dpkg.Count / 3);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_image_built_with_the_security_suite_has_no_findings_from_it()
    {
        fixture.Warm.ExitCode.ShouldBe(0, fixture.Warm.ToString());
        var version = await LatestAsync(fixture.Run, "debian-11-cis");

        using var findings = JsonDocument.Parse(
            await File.ReadAllTextAsync(version.Files["vulnerability-findings"])
        );

        var source = findings
            .RootElement.GetProperty("sources")
            .EnumerateArray()
            .Single(s => s.GetProperty("name").GetString() == "debian-security");
        source.GetProperty("status").GetString().ShouldBe("ok", source.ToString());
        findings
            .RootElement.GetProperty("findings")
            .EnumerateArray()
            .Count(f => f.GetProperty("source").GetString() == "debian-security")
            .ShouldBe(0);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_rescan_with_an_OSV_database_records_new_evidence_and_diff_shows_the_versions_apart()
    {
        // Arrange: one hand-made OSV record against the installed openssh, one broken file. The first (cold) version
        // is scanned, so the latest one that other specs read keeps a single findings document.
        fixture.Warm.ExitCode.ShouldBe(0, fixture.Warm.ToString());
        var latest = await LatestAsync(fixture.Run, "debian-11-cis");
        var first = (await fixture.VersionsAsync())[^1];
        var firstReference = $"debian-11-cis@{first.GetProperty("version").GetString()}";
        var before = first.GetProperty("evidence").GetArrayLength();
        using var osv = new TempDirectory("imageforge-e2e-osv");
        await File.WriteAllTextAsync(
            osv.Combine("DEBIAN-CVE-2099-0001.json"),
            """
            {"id":"DEBIAN-CVE-2099-0001","modified":"2099-01-01T00:00:00Z","upstream":["CVE-2099-0001"],
             "affected":[{"package":{"ecosystem":"Debian:11","name":"openssh"},
                          "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:99.0-1"}]}]}]}
            """
        );
        await File.WriteAllTextAsync(osv.Combine("broken.json"), "{");

        // Act
        var scan = await fixture.Run(
            CancellationToken.None,
            "scan",
            firstReference,
            "--osv",
            osv.Path,
            "--output",
            "json"
        );
        var after = await fixture.Run(
            CancellationToken.None,
            "images",
            "show",
            firstReference,
            "--output",
            "json"
        );
        var diff = await fixture.Run(
            CancellationToken.None,
            "diff",
            firstReference,
            latest.Reference,
            "--output",
            "json"
        );
        var text = await fixture.Run(
            CancellationToken.None,
            "diff",
            firstReference,
            latest.Reference
        );

        // Assert
        scan.ExitCode.ShouldBe(0, scan.ToString());
        scan.Error.ShouldContain("broken.json");
        using var doc = JsonDocument.Parse(scan.Out);
        var osvFindings = doc
            .RootElement.GetProperty("findings")
            .EnumerateArray()
            .Where(f => f.GetProperty("source").GetString() == "osv")
            .ToList();
        osvFindings
            .Select(f => f.GetProperty("package").GetString())
            .ShouldContain("openssh-server");
        osvFindings.ShouldAllBe(f =>
            f.GetProperty("advisory").GetString() == "DEBIAN-CVE-2099-0001"
        );
        using var shown = JsonDocument.Parse(after.Out);
        shown
            .RootElement.GetProperty("versions")[0]
            .GetProperty("evidence")
            .GetArrayLength()
            .ShouldBe(before + 1);
        diff.ExitCode.ShouldBe(0, diff.ToString());
        using var d = JsonDocument.Parse(diff.Out);
        d.RootElement.GetProperty("changed").GetArrayLength().ShouldBe(0);
        d.RootElement.GetProperty("findings_compared").GetBoolean().ShouldBeTrue();
        // The latest version was not scanned with this database: from the first to it, the OSV findings are "fixed".
        d.RootElement.GetProperty("findings_fixed")
            .EnumerateArray()
            .ShouldContain(f => f.GetProperty("advisory").GetString() == "DEBIAN-CVE-2099-0001");
        text.Out.ShouldContain("packages: 0 added, 0 removed, 0 changed");
        output.WriteLine(text.Out);
    }

    internal sealed record VersionFiles(
        string Reference,
        string Version,
        Dictionary<string, string> Files,
        int EvidenceCount
    );

    internal static Task<VersionFiles> LatestAsync(
        Func<CancellationToken, string[], Task<CliResult>> run,
        string image
    ) => VersionAsync(run, image);

    /// <summary>A version's files (images show), the newest when <paramref name="version"/> is null.</summary>
    internal static async Task<VersionFiles> VersionAsync(
        Func<CancellationToken, string[], Task<CliResult>> run,
        string image,
        string? version = null
    )
    {
        var show = await run(
            CancellationToken.None,
            [
                "images",
                "show",
                version is null ? image : $"{image}@{version}",
                "--output",
                "json",
                "--limit",
                "1",
            ]
        );
        show.ExitCode.ShouldBe(0, show.ToString());
        using var json = JsonDocument.Parse(show.Out);
        var v = json.RootElement.GetProperty("versions")[0];
        var files = new Dictionary<string, string>();
        var evidence = v.GetProperty("evidence").EnumerateArray().ToList();
        // Newest of a kind wins (evidence is listed oldest first).
        foreach (var f in v.GetProperty("artifacts").EnumerateArray().Concat(evidence))
        {
            files[f.GetProperty("kind").GetString()!] = f.GetProperty("path").GetString()!;
        }
        var shown = v.GetProperty("version").GetString()!;
        return new VersionFiles($"{image}@{shown}", shown, files, evidence.Count);
    }
}

/// <summary>
/// One real build of the shipped definition with the security suite left out (security_updates false), through a
/// definitions override under another name; its own data directory, so its base cache is its own. Its disk is not
/// booted (boot_test false: the shipped image's boot is the suite's one boot), so it runs on a content copy whose
/// baseline has no boot_test gate.
/// </summary>
public sealed class InsecureImageFixture : IAsyncLifetime
{
    public const string Image = "debian-11-no-security";

    public TempDirectory Data { get; } = new("imageforge-e2e-insecure");

    public TempDirectory Definitions { get; } = new("imageforge-e2e-defs");

    public TempDirectory Content { get; } = new("imageforge-e2e-insecure-content");

    public CliResult Build { get; private set; } = null!;

    /// <summary>The version <see cref="Build"/> made; other specs of the group build newer ones.</summary>
    internal SbomAndFindingsSpecs.VersionFiles First { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        TestContent.Copy(Content.Path);
        TestContent.Edit(
            Content.Path,
            Path.Combine("baselines", "debian-11-anssi.yaml"),
            TestContent.WithoutBootGate
        );
        var yaml = await File.ReadAllTextAsync(
            Path.Combine(RepoPaths.Root, "templates", "images", "debian-11-cis.yaml")
        );
        // Without the security suite the kernel metapackage comes from bullseye main, and the newer one the
        // security index lists has no file on the build machines' partial mirror (404): the debian-security source
        // would fail reading its changelog. This image is never booted, so it goes without a kernel.
        yaml = TestContent.WithoutBootTest(
            yaml.Replace("name: debian-11-cis", $"name: {Image}", StringComparison.Ordinal)
                .Replace(
                    "security_updates: true",
                    "security_updates: false",
                    StringComparison.Ordinal
                )
                .Replace(
                    "  remove: []",
                    "  remove: [linux-image-cloud-amd64]",
                    StringComparison.Ordinal
                )
        );
        yaml.ShouldContain("security_updates: false");
        yaml.ShouldContain("boot_test: false");
        yaml.ShouldContain("remove: [linux-image-cloud-amd64]");
        await File.WriteAllTextAsync(Definitions.Combine(Image + ".yaml"), yaml);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        Build = await Run(timeout.Token, "build", Image, "--reason", "e2e without security suite");
        if (Build.ExitCode == 0)
        {
            First = await SbomAndFindingsSpecs.LatestAsync(Run, Image);
        }
    }

    public Task<CliResult> Run(CancellationToken cancellationToken, params string[] args) =>
        CliRunner.RunAsync(
            Content.Path,
            null,
            cancellationToken,
            [.. args, "--data-dir", Data.Path, "--definitions", Definitions.Path]
        );

    public Task DisposeAsync()
    {
        Data.Dispose();
        Definitions.Dispose();
        Content.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The specs sharing one <see cref="InsecureImageFixture"/> (one real build, run once).</summary>
[CollectionDefinition(Name)]
public sealed class InsecureImageGroup : ICollectionFixture<InsecureImageFixture>
{
    public const string Name = "image without the security suite";
}

[Collection(InsecureImageGroup.Name)]
public sealed class SecuritySuiteSpecs(InsecureImageFixture fixture, ITestOutputHelper output)
{
    [Fact(Timeout = 180_000)]
    public async Task A_channel_asking_for_a_fresh_rescan_refuses_a_version_whose_new_findings_fail_the_gates()
    {
        // Arrange: the same content, but dev asks for a fresh re-scan and any fixable finding fails the gates.
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        var version = fixture.First;
        using var content = new TempDirectory("imageforge-e2e-rescan");
        TestContent.Copy(content.Path);

        var baseline = content.Combine("baselines", "debian-11-anssi.yaml");
        var yaml = TestContent.WithoutBootGate(await File.ReadAllTextAsync(baseline));
        yaml = yaml.Replace(
                "promotion:\n",
                "promotion:\n  dev:\n    rescan: true\n",
                StringComparison.Ordinal
            )
            .Replace(
                "max: { critical: 0, high: 0 }",
                "max: { critical: 0, high: 0, unknown: 0 }",
                StringComparison.Ordinal
            )
            .Replace(
                "    on_violation: warn\n",
                "    on_violation: fail\n",
                StringComparison.Ordinal
            );
        yaml.ShouldContain("rescan: true");
        await File.WriteAllTextAsync(baseline, yaml);

        // Act
        var promote = await CliRunner.RunAsync(
            content.Path,
            null,
            CancellationToken.None,
            [
                "promote",
                version.Reference,
                "--to",
                "dev",
                "--data-dir",
                fixture.Data.Path,
                "--definitions",
                fixture.Definitions.Path,
            ]
        );
        var channels = await fixture.Run(
            CancellationToken.None,
            ["channels", "show", InsecureImageFixture.Image]
        );
        var after = await SbomAndFindingsSpecs.VersionAsync(
            fixture.Run,
            InsecureImageFixture.Image,
            version.Version
        );

        // Assert
        output.WriteLine(promote.ToString());
        promote.ExitCode.ShouldBe(1, promote.ToString());
        promote.Error.ShouldContain("fresh re-scan:");
        channels.Out.ShouldNotContain(version.Version);
        after.EvidenceCount.ShouldBe(version.EvidenceCount + 1);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_bullseye_image_built_without_the_security_suite_shows_real_findings_with_CVE_ids_from_changelogs()
    {
        // Arrange
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        var version = fixture.First;

        // Act
        using var doc = JsonDocument.Parse(
            await File.ReadAllTextAsync(version.Files["vulnerability-findings"])
        );

        // Assert
        var source = doc
            .RootElement.GetProperty("sources")
            .EnumerateArray()
            .Single(s => s.GetProperty("name").GetString() == "debian-security");
        source.GetProperty("status").GetString().ShouldBe("ok", source.ToString());
        var findings = doc
            .RootElement.GetProperty("findings")
            .EnumerateArray()
            .Where(f => f.GetProperty("source").GetString() == "debian-security")
            .ToList();
        var cves = findings
            .Select(f => f.GetProperty("advisory").GetString()!)
            .Where(a => Regex.IsMatch(a, @"^CVE-\d{4}-\d{4,}$"))
            .Distinct()
            .ToList();
        var packages = findings
            .Select(f => f.GetProperty("package").GetString())
            .Distinct()
            .ToList();
        output.WriteLine(
            $"{findings.Count} findings from debian-security, {cves.Count} distinct CVE ids, {packages.Count} packages; {source.GetProperty("detail").GetString()}"
        );
        output.WriteLine(string.Join(", ", packages));
        findings.Count.ShouldBeGreaterThan(0);
        cves.Count.ShouldBeGreaterThan(0);
        foreach (var f in findings)
        {
            f.GetProperty("fixed_version").GetString().ShouldNotBeNullOrEmpty();
            Core.Vulnerabilities.DebianVersionComparer.Instance.Compare(
                    f.GetProperty("installed_version").GetString(),
                    f.GetProperty("fixed_version").GetString()
                )
                .ShouldBeLessThan(0);
        }
    }
}
