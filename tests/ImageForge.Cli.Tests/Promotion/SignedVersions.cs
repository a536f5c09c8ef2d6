using System.Security.Cryptography;
using System.Text.Json;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;
using ImageForge.Signing;
using ImageForge.Storage;
using ImageForge.TestSupport;
using ImageForge.TestUtils;

namespace ImageForge.Cli.Tests.Promotion;

/// <summary>
/// Versions recorded as the pipeline records them, without Packer: build row, reserved version, artifact files, a
/// gate decision written here, the provenance collector's signature, completion through the real SQLite catalog.
/// </summary>
internal static class SignedVersions
{
    /// <summary>Who requested the build of every version recorded here (the four-eyes rule's requester).</summary>
    public const string Requester = "tester";

    public static async Task<ImageVersion> RecordAsync(
        string dataDir,
        TimeProvider time,
        string decision = "pass",
        IReadOnlyList<(string Target, string Region)>? places = null,
        string? signingKey = null,
        IReadOnlyList<(string File, string Kind, string Text)>? moreEvidence = null,
        IReadOnlyDictionary<string, int>? findings = null,
        DataPaths? paths = null
    )
    {
        // A worker's paths (a shared catalog, a shared artifact store), else the SQLite catalog of dataDir.
        paths ??= new DataPaths(dataDir);
        var content = ContentPaths.UnderRoot(RepoPaths.Root);
        var set = DefinitionLoader.Load(content, new DateOnly(2026, 1, 2), TestProviders.Shipped);
        var definition = set.FindImage("debian-11-cis")!;
        var baseline = set.FindBaseline(definition.Baseline)!;
        await using var catalog = await Catalog.OpenAsync(paths, time);
        var build = await catalog.StartBuildAsync(
            new NewBuild(definition.Name, "local", BuildTrigger.Manual, Requester, "spec", "fp"),
            Environment.ProcessId
        );
        var version = await catalog.ReserveVersionAsync(build.Id, time.GetUtcNow());
        var output = paths.ArtifactsFor(definition.Name, build.Id);
        var evidenceDir = Path.Combine(output, "evidence");
        Directory.CreateDirectory(evidenceDir);
        var artifacts = new List<Artifact>();
        foreach (var (target, region) in places ?? [("local", "local")])
        {
            var file = Path.Combine(output, $"{target}-{region}-disk.raw");
            await File.WriteAllTextAsync(file, $"disk of {version} for {target}/{region}");
            artifacts.Add(
                new Artifact
                {
                    Target = target,
                    Region = region,
                    Kind = "disk-raw",
                    Location = file,
                    Sha256 = Sha(file),
                    SizeBytes = new FileInfo(file).Length,
                }
            );
        }

        var gate = Path.Combine(evidenceDir, "gate-decision.json");
        await File.WriteAllTextAsync(
            gate,
            JsonSerializer.Serialize(
                new
                {
                    decision,
                    baseline = baseline.Name,
                    evaluated_at = time.GetUtcNow(),
                    reasons = Array.Empty<object>(),
                }
            )
        );
        var evidence = new List<EvidenceDocument>
        {
            new()
            {
                Kind = "gate-decision",
                Location = gate,
                Sha256 = Sha(gate),
                MediaType = "application/json",
            },
        };
        if (findings is not null)
        {
            var scan = new FindingsDocument
            {
                Image = definition.Name,
                Version = version,
                ScannedAt = time.GetUtcNow(),
                Sources = [],
                Summary = findings,
                Findings = [],
                Suppressed = [],
                ExpiredSuppressions = [],
                Problems = [],
            }.ToJson();
            moreEvidence =
            [
                .. moreEvidence ?? [],
                (
                    "vulnerability-findings.json",
                    EvidenceFiles.VulnerabilityFindings,
                    System.Text.Encoding.UTF8.GetString(scan)
                ),
            ];
        }
        foreach (var (file, kind, text) in moreEvidence ?? [])
        {
            var path = Path.Combine(evidenceDir, file);
            await File.WriteAllTextAsync(path, text);
            evidence.Add(
                new EvidenceDocument
                {
                    Kind = kind,
                    Location = path,
                    Sha256 = Sha(path),
                    MediaType = "application/json",
                }
            );
        }
        var signer = Signers.Create(signingKey, dataDir);
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
                time.GetUtcNow()
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
            decision == "fail" ? VersionStatus.Rejected : VersionStatus.Built,
            time.GetUtcNow()
        );
    }

    private static string Sha(string path) =>
        Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    internal sealed class NullSink : ITargetBuildSink
    {
        public void Progress(string stage, string detail) { }

        public void Log(string stream, string text) { }

        public void ToolStarted(int processGroup) { }
    }
}
