using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.TestSupport;
using ImageForge.TestUtils;

namespace ImageForge.Signing.Tests;

/// <summary>
/// A small synthetic version of debian-11-cis (the repository's real definition and content): two artifact files and
/// two evidence documents in a temp directory, signed by the provenance collector with a file key.
/// </summary>
internal sealed class SignedVersion : IDisposable
{
    private readonly TempDirectory _dir;

    public string Root => _dir.Path;

    public required ImageVersion Version { get; init; }

    public required IReadOnlyList<EvidenceDocument> Signature { get; init; }

    public required FileKeySigner Signer { get; init; }

    public static async Task<SignedVersion> CreateAsync()
    {
        var dir = new TempDirectory("imageforge-signed");
        var content = ContentPaths.UnderRoot(RepoPaths.Root);
        var set = DefinitionLoader.Load(content, new DateOnly(2026, 1, 2), TestProviders.Shipped);
        var definition =
            set.FindImage("debian-11-cis")
            ?? throw new InvalidOperationException(string.Join("\n", set.Problems));
        var baseline = set.FindBaseline(definition.Baseline)!;
        var output = System.IO.Path.Combine(dir.Path, "artifacts");
        Directory.CreateDirectory(System.IO.Path.Combine(output, "evidence"));
        var artifacts = new[] { ("rootfs.tar.zst", "rootfs-tar-zst"), ("disk.raw", "disk-raw") }
            .Select(f => new Artifact
            {
                Target = "local",
                Region = "local",
                Kind = f.Item2,
                Location = Write(System.IO.Path.Combine(output, f.Item1), $"content of {f.Item1}"),
                Sha256 = Sha(System.IO.Path.Combine(output, f.Item1)),
                SizeBytes = 20,
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
                Location = Write(System.IO.Path.Combine(output, f.Item1), $"rows of {f.Item1}\n"),
                Sha256 = Sha(System.IO.Path.Combine(output, f.Item1)),
                MediaType = "text/tab-separated-values",
            })
            .ToList();
        var at = new DateTimeOffset(2026, 1, 2, 10, 0, 0, TimeSpan.Zero);
        var signer = FileKeySigner.OpenOrCreate(
            System.IO.Path.Combine(dir.Path, "keys", "signing-key.pem")
        );
        var collector = new ProvenanceCollector(
            signer,
            content,
            (id, _) =>
                Task.FromResult<BuildRecord?>(
                    new BuildRecord
                    {
                        Id = id,
                        Image = definition.Name,
                        Target = "local",
                        Trigger = BuildTrigger.Cve,
                        Requester = "alice",
                        Reason = "CVE-2026-1234",
                        Fingerprint = "fp-123",
                        StartedAt = at.AddMinutes(-5),
                        Status = BuildStatus.Running,
                    }
                )
        );
        var signature = await collector.CollectAsync(
            new EvidenceContext(
                definition,
                baseline,
                definition.Targets[0],
                "2026.01.02.1",
                "7",
                artifacts,
                evidence,
                System.IO.Path.Combine(output, "evidence"),
                at
            )
            {
                Tools = new Dictionary<string, string> { ["packer"] = "1.6.6" },
                BaseImage = TestProviders
                    .Shipped.Get(definition.Targets[0].Provider)
                    .BaseImage(definition, definition.Targets[0]),
            },
            new NullSink()
        );
        return new SignedVersion(dir)
        {
            Signer = signer,
            Signature = signature,
            Version = new ImageVersion
            {
                Image = definition.Name,
                Version = "2026.01.02.1",
                BuildId = "7",
                CreatedAt = at,
                Status = VersionStatus.Built,
                Fingerprint = "fp-123",
                Artifacts = artifacts,
                Evidence = [.. evidence.Concat(signature).Select(e => e with { RecordedAt = at })],
            },
        };
    }

    private SignedVersion(TempDirectory dir) => _dir = dir;

    public string PathOf(string kind) => Version.Evidence.Last(e => e.Kind == kind).Location;

    public void Dispose()
    {
        Signer.Dispose();
        _dir.Dispose();
    }

    private static string Write(string path, string text)
    {
        File.WriteAllText(path, text);
        return path;
    }

    private static string Sha(string path) =>
        Convert.ToHexStringLower(
            System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))
        );

    private sealed class NullSink : ITargetBuildSink
    {
        public void Progress(string stage, string detail) { }

        public void Log(string stream, string text) { }

        public void ToolStarted(int processGroup) { }
    }
}
