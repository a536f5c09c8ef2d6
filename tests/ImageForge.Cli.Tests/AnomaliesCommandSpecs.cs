using System.Security.Cryptography;
using System.Text.Json;
using ImageForge.Core.Anomalies;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Facts;
using ImageForge.Storage;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// Two builds of debian-11-cis recorded through the real facts and anomaly collectors: the second has one more
/// setuid binary and one more enabled service, and <c>imageforge anomalies</c> shows both, explained.
/// </summary>
public sealed class AnomaliesCommandSpecs : IDisposable
{
    private static readonly string Sample = Path.Combine(
        RepoPaths.Root,
        "tests",
        "ImageForge.Core.Tests",
        "Facts",
        "image-facts.sample.json"
    );

    private readonly TempDirectory _dir = new("imageforge-anomalies-cli");

    private string DataDir => _dir.Combine("data");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_second_build_with_a_new_setuid_binary_and_service_shows_both_anomalies()
    {
        await RecordAsync(File.ReadAllText(Sample));
        var changed = File.ReadAllText(Sample)
            .Replace(
                "\"setuid_files\": [",
                "\"setuid_files\": [{\"path\": \"/usr/local/bin/extra\", \"sha256\": \"ab12\", \"mode\": \"4755\", \"uid\": 0, \"gid\": 0},",
                StringComparison.Ordinal
            )
            .Replace(
                "\"nginx.service\"",
                "\"nginx.service\", \"extra.service\"",
                StringComparison.Ordinal
            );
        var second = await RecordAsync(changed);

        var text = await RunAsync("anomalies", "debian-11-cis");
        var json = await RunAsync("anomalies", $"debian-11-cis@{second}", "--output", "json");

        text.ExitCode.ShouldBe(0, text.ToString());
        // The sample also holds the always-serious toor, NOPASSWD and PermitRootLogin: three more, raised every build.
        text.Out.ShouldContain("compared with 1 build(s): 5 raised");
        text.Out.ShouldContain("high      setuid_file-");
        text.Out.ShouldContain(
            "new setuid/setgid file /usr/local/bin/extra ab12: absent in the last build"
        );
        text.Out.ShouldContain("new enabled service extra.service: absent in the last build");
        json.ExitCode.ShouldBe(0, json.ToString());
        using var document = JsonDocument.Parse(json.Out);
        document
            .RootElement.GetProperty("anomalies")
            .EnumerateArray()
            .Where(a => a.GetProperty("detector").GetString() == "first_seen")
            .Select(a => a.GetProperty("signal").GetString())
            .ShouldBe([FactNames.SetuidFile, FactNames.EnabledUnit]);
    }

    [Fact]
    public async Task A_version_without_a_report_is_exit_1_saying_why()
    {
        await RecordAsync(null);

        var result = await RunAsync("anomalies", "debian-11-cis");

        result.ExitCode.ShouldBe(1);
        result.Error.ShouldContain("has no anomaly report");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_stored_report_that_is_not_a_report_is_exit_1_naming_the_file_and_the_JSON_path_and_refuses_a_restricted_channel()
    {
        var v = await RecordReportAsync(
            """{"format": "imageforge-anomalies", "image": "debian-11-cis", "version": "v", "target": "local", "compared_with": [], "anomalies": "none"}"""
        );

        var result = await RunAsync("anomalies", $"debian-11-cis@{v.Version}");
        var promotion = await RunAsAsync(
            "root",
            "promote",
            $"debian-11-cis@{v.Version}",
            "--to",
            "prod"
        );

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Error.ShouldContain(
            $"the anomalies evidence of debian-11-cis@{v.Version} is unreadable"
        );
        result.Error.ShouldContain(v.Evidence.Single(e => e.Kind == AnomalyReport.Kind).Location);
        result.Error.ShouldContain("$.anomalies");
        result.Error.ShouldContain("expected an array", Case.Sensitive, "said in JSON's words");
        result.Error.ShouldNotContain("System.", Case.Sensitive, "no .NET type names");
        promotion.ExitCode.ShouldBe(1, promotion.ToString());
        promotion.Error.ShouldContain("refused");
        promotion.Error.ShouldContain(
            $"the anomalies evidence of debian-11-cis@{v.Version} is unreadable"
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task A_restricted_channel_refuses_an_unacknowledged_high_anomaly_and_the_acknowledgement_is_audited()
    {
        var anomaly = AnomalyDetector
            .Detect(
                FactSnapshot.From(Document(FactsDocuments.ReadImageFacts(Sample), "v2")),
                [],
                AnomalySettings.Default,
                new DateOnly(2026, 1, 2)
            )
            .First(a => a.Severity >= AnomalySeverity.High);
        var report = new AnomalyReport
        {
            Image = "debian-11-cis",
            Version = "v2",
            Target = "local",
            ComparedWith = [],
            Anomalies = [anomaly],
        };
        var v = await RecordReportAsync(System.Text.Encoding.UTF8.GetString(report.ToJson()));
        var name = $"debian-11-cis@{v.Version}";

        var refused = await RunAsAsync("root", "promote", name, "--to", "prod");
        var wrongId = await RunAsAsync(
            "root",
            "anomalies",
            "ack",
            name,
            "nope-00000000",
            "--reason",
            "r"
        );
        var ack = await RunAsAsync(
            "root",
            "anomalies",
            "ack",
            name,
            anomaly.Id,
            "--reason",
            "break-glass account approved in CHG-42"
        );
        var again = await RunAsAsync("root", "promote", name, "--to", "prod");
        var audit = await RunAsAsync("root", "audit", "log");
        var shown = await RunAsAsync("root", "anomalies", name, "--output", "json");
        var text = await RunAsAsync("root", "anomalies", name);

        refused.ExitCode.ShouldBe(1, refused.ToString());
        refused.Error.ShouldContain(
            $"anomaly {anomaly.Id} ({AnomalySeverities.Name(anomaly.Severity)}) is not acknowledged"
        );
        wrongId.ExitCode.ShouldBe(2, wrongId.ToString());
        wrongId.Error.ShouldContain($"its raised anomalies are {anomaly.Id}");
        ack.ExitCode.ShouldBe(0, ack.ToString());
        ack.Out.ShouldContain($"acknowledged anomaly {anomaly.Id} of {name}");
        again.Error.ShouldNotContain("is not acknowledged");
        audit.Out.ShouldContain("acknowledge-anomaly");
        audit.Out.ShouldContain("break-glass account approved in CHG-42");
        using var json = JsonDocument.Parse(shown.Out);
        var acknowledged = json.RootElement.GetProperty("anomalies")[0];
        acknowledged.GetProperty("acknowledged").GetBoolean().ShouldBeTrue();
        acknowledged
            .GetProperty("acknowledgement")
            .GetProperty("actor")
            .GetString()
            .ShouldBe("root");
        text.Out.ShouldContain("acknowledged by root (");
        text.Out.ShouldContain("break-glass account approved in CHG-42");
    }

    private static FactsDocument Document(ImageFacts facts, string version) =>
        new()
        {
            Image = "debian-11-cis",
            Version = version,
            Target = "local",
            ImageFacts = facts,
            Build = new BuildFacts(
                new Dictionary<string, double>(),
                null,
                [],
                new Dictionary<string, int>(),
                []
            ),
        };

    // A signed version whose anomalies.json holds exactly the text given.
    private Task<ImageVersion> RecordReportAsync(string report) =>
        Promotion.SignedVersions.RecordAsync(
            DataDir,
            TimeProvider.System,
            moreEvidence: [(AnomalyReport.FileName, AnomalyReport.Kind, report)]
        );

    private Task<CliResult> RunAsAsync(string actor, params string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            new Dictionary<string, string> { ["IMAGEFORGE_ACTOR"] = actor },
            CancellationToken.None,
            [.. args, "--data-dir", DataDir]
        );

    private Task<CliResult> RunAsync(params string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            new Dictionary<string, string>(),
            CancellationToken.None,
            [.. args, "--data-dir", DataDir]
        );

    // A build recorded as the pipeline records it, with the facts and anomaly collectors over image-facts.json.
    private async Task<string> RecordAsync(string? imageFacts)
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
        var evidence = new List<EvidenceDocument>();
        if (imageFacts is not null)
        {
            var path = Path.Combine(output, "image-facts.json");
            File.WriteAllText(path, imageFacts);
            evidence.Add(
                new EvidenceDocument
                {
                    Kind = FactsDocuments.ImageKind,
                    Location = path,
                    Sha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))),
                    MediaType = FactsDocuments.MediaType,
                }
            );
        }
        IEvidenceCollector[] collectors =
        [
            new FactsCollector(
                catalog,
                (id, ct) => catalog.ReadLogAsync(id, cancellationToken: ct)
            ),
            new AnomalyCollector(catalog),
        ];
        foreach (var collector in collectors)
        {
            evidence.AddRange(
                await collector.CollectAsync(
                    new EvidenceContext(
                        definition,
                        baseline,
                        definition.Targets[0],
                        version,
                        build.Id,
                        [],
                        evidence,
                        evidenceDir,
                        TimeProvider.System.GetUtcNow()
                    )
                    {
                        BaseImage = TestProviders
                            .Shipped.Get(definition.Targets[0].Provider)
                            .BaseImage(definition, definition.Targets[0]),
                    },
                    new Promotion.SignedVersions.NullSink()
                )
            );
        }
        await catalog.CompleteBuildAsync(
            build.Id,
            [],
            evidence,
            VersionStatus.Built,
            TimeProvider.System.GetUtcNow()
        );
        return version;
    }
}
