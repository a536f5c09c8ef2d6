using System.Security.Cryptography;
using System.Text.Json;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Signing;
using ImageForge.Storage;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// <c>imageforge verify</c> and <c>imageforge keys export</c> on a small synthetic version recorded through the real
/// SQLite catalog, signed by the provenance collector the build composes (last), with the default file key.
/// </summary>
public sealed class VerifyCommandSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-verify");

    private string DataDir => _dir.Combine("data");

    [Fact(Timeout = 60_000)]
    public async Task A_signed_version_verifies_and_one_changed_byte_anywhere_makes_verify_exit_1_naming_it()
    {
        var version = await RecordSignedVersionAsync();

        var clean = await RunAsync("verify", $"debian-11-cis@{version.Version}");
        var outcomes = new List<(string Kind, CliResult Result)>();
        foreach (var kind in new[] { "disk-raw", "package-inventory", "provenance-dsse" })
        {
            var path =
                version.Artifacts.FirstOrDefault(a => a.Kind == kind)?.Location
                ?? version.Evidence.Last(e => e.Kind == kind).Location;
            var original = await File.ReadAllBytesAsync(path);
            var changed = original.ToArray();
            changed[^2] ^= 0x01;
            await File.WriteAllBytesAsync(path, changed);
            outcomes.Add((kind, await RunAsync("verify", $"debian-11-cis@{version.Version}")));
            await File.WriteAllBytesAsync(path, original);
        }

        clean.ExitCode.ShouldBe(0, clean.ToString());
        clean.Out.ShouldContain("signature ok: keyid file:sha256:");
        clean.Out.ShouldContain("verified: 7 files re-hashed, signature valid");
        foreach (var (kind, result) in outcomes)
        {
            result.ExitCode.ShouldBe(1, result.ToString());
            result.Out.ShouldContain("verification FAILED");
            result.Out.ShouldMatch($@"(?m)^  CHANGED\s+\w+\s+{kind}\s");
            result.Out.ShouldContain($"{kind} changed: ");
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Verify_with_json_output_lists_every_item_and_the_signature()
    {
        var version = await RecordSignedVersionAsync();

        var result = await RunAsync(
            "verify",
            $"debian-11-cis@{version.Version}",
            "--output",
            "json"
        );

        result.ExitCode.ShouldBe(0, result.ToString());
        using var json = JsonDocument.Parse(result.Out);
        json.RootElement.GetProperty("ok").GetBoolean().ShouldBeTrue();
        json.RootElement.GetProperty("signature_valid").GetBoolean().ShouldBeTrue();
        json.RootElement.GetProperty("algorithm").GetString().ShouldBe("ECDSA_P256_SHA256");
        json.RootElement.GetProperty("subjects").GetInt32().ShouldBe(4);
        json.RootElement.GetProperty("items")
            .EnumerateArray()
            .Select(i => i.GetProperty("status").GetString())
            .ShouldAllBe(s => s == "ok");
        json.RootElement.GetProperty("problems").GetArrayLength().ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task Keys_export_prints_the_public_key_that_verify_accepts_as_the_trusted_key()
    {
        var version = await RecordSignedVersionAsync();

        var export = await RunAsync("keys", "export", "--file", _dir.Combine("pub.pem"));
        var trusted = await RunAsync(
            "verify",
            $"debian-11-cis@{version.Version}",
            "--key",
            _dir.Combine("pub.pem")
        );
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await File.WriteAllTextAsync(
            _dir.Combine("other.pem"),
            other.ExportSubjectPublicKeyInfoPem()
        );
        var untrusted = await RunAsync(
            "verify",
            $"debian-11-cis@{version.Version}",
            "--key",
            _dir.Combine("other.pem")
        );

        export.ExitCode.ShouldBe(0, export.ToString());
        (await File.ReadAllTextAsync(_dir.Combine("pub.pem"))).ShouldStartWith(
            "-----BEGIN PUBLIC KEY-----"
        );
        trusted.ExitCode.ShouldBe(0, trusted.ToString());
        trusted.Out.ShouldContain("checked with the trusted --key");
        untrusted.ExitCode.ShouldBe(1, untrusted.ToString());
        untrusted.Out.ShouldContain("the signature does not verify");
    }

    [Fact(Timeout = 60_000)]
    public async Task Verify_of_an_unknown_version_is_bad_input_and_an_image_alone_means_its_latest_version()
    {
        var recorded = await RecordSignedVersionAsync();
        var unknown = await RunAsync("verify", "debian-11-cis@2026.01.02.9");
        var unknownImage = await RunAsync("verify", "no-such-image");
        var bare = await RunAsync("verify", "debian-11-cis");

        unknown.ExitCode.ShouldBe(2, unknown.ToString());
        unknown.Error.ShouldContain("has no version 2026.01.02.9");
        unknownImage.ExitCode.ShouldBe(2, unknownImage.ToString());
        unknownImage.Error.ShouldContain("no versions of 'no-such-image'");
        bare.ExitCode.ShouldBe(0, bare.ToString());
        bare.Out.ShouldContain("verified");
        bare.Out.ShouldContain(recorded.Version);
    }

    [Fact]
    public async Task The_provenance_collector_runs_last_so_it_covers_every_other_collectors_evidence()
    {
        var ctx = new CliContext
        {
            Host = new CliHost(
                TextWriter.Null,
                TextWriter.Null,
                TimeProvider.System,
                RepoPaths.Root,
                _ => null,
                new Dictionary<string, string>()
            ),
            Content = ContentPaths.UnderRoot(RepoPaths.Root),
            Data = new DataPaths(DataDir),
            Json = false,
            Out = TextWriter.Null,
            Error = TextWriter.Null,
            Time = TimeProvider.System,
        };

        await using var catalog = await ctx.OpenCatalogAsync(CancellationToken.None);
        var collectors = ctx.Pipeline.EvidenceCollectors(catalog);

        collectors[^1].ShouldBeOfType<ProvenanceCollector>();
    }

    public void Dispose() => _dir.Dispose();

    private Task<CliResult> RunAsync(params string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            new Dictionary<string, string>(),
            CancellationToken.None,
            [.. args, "--data-dir", DataDir]
        );

    // A build recorded as the pipeline records it: build row, reserved version, files, the provenance collector, completion.
    private async Task<ImageVersion> RecordSignedVersionAsync()
    {
        var content = ContentPaths.UnderRoot(RepoPaths.Root);
        var set = DefinitionLoader.Load(content, new DateOnly(2026, 1, 2), TestProviders.Shipped);
        var definition = set.FindImage("debian-11-cis")!;
        var baseline = set.FindBaseline(definition.Baseline)!;
        await using var catalog = await Catalog.OpenAsync(DataDir, TimeProvider.System);
        var build = await catalog.StartBuildAsync(
            new NewBuild(definition.Name, "local", BuildTrigger.Manual, "tester", "spec", "fp"),
            Environment.ProcessId
        );
        var version = await catalog.ReserveVersionAsync(build.Id, TimeProvider.System.GetUtcNow());
        var output = new DataPaths(DataDir).ArtifactsFor(definition.Name, build.Id);
        var evidenceDir = Path.Combine(output, "evidence");
        Directory.CreateDirectory(evidenceDir);
        var artifacts = new[] { ("rootfs.tar.zst", "rootfs-tar-zst"), ("disk.raw", "disk-raw") }
            .Select(f => new Artifact
            {
                Target = "local",
                Region = "local",
                Kind = f.Item2,
                Location = Write(Path.Combine(output, f.Item1), $"bytes of {f.Item1}"),
                Sha256 = Sha(Path.Combine(output, f.Item1)),
                SizeBytes = 10,
            })
            .ToList();
        var evidence = new[]
        {
            ("packages.tsv", "package-inventory"),
            ("hardening-report.tsv", "hardening-report"),
        }
            .Select(f => new EvidenceDocument
            {
                Kind = f.Item2,
                Location = Write(Path.Combine(output, f.Item1), $"rows of {f.Item1}\n"),
                Sha256 = Sha(Path.Combine(output, f.Item1)),
                MediaType = "text/tab-separated-values",
            })
            .ToList();
        var signer = Signers.Create(null, DataDir);
        var collector = new ProvenanceCollector(
            signer,
            content,
            (id, ct) => catalog.GetBuildAsync(id, ct)
        );
        var signature = await collector.CollectAsync(
            new EvidenceContext(
                definition,
                baseline,
                definition.Targets[0],
                version,
                build.Id,
                artifacts,
                evidence,
                evidenceDir,
                TimeProvider.System.GetUtcNow()
            )
            {
                BaseImage = TestProviders
                    .Shipped.Get(definition.Targets[0].Provider)
                    .BaseImage(definition, definition.Targets[0]),
            },
            new NullSink()
        );
        (signer as IDisposable)?.Dispose();
        return await catalog.CompleteBuildAsync(
            build.Id,
            artifacts,
            [.. evidence, .. signature],
            VersionStatus.Built,
            TimeProvider.System.GetUtcNow()
        );
    }

    private static string Write(string path, string text)
    {
        File.WriteAllText(path, text);
        return path;
    }

    private static string Sha(string path) =>
        Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private sealed class NullSink : ITargetBuildSink
    {
        public void Progress(string stage, string detail) { }

        public void Log(string stream, string text) { }

        public void ToolStarted(int processGroup) { }
    }
}
