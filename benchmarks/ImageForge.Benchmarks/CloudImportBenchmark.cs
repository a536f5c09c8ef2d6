using System.Text.Json;
using ImageForge.TestSupport;
using ImageForge.TestUtils;

namespace ImageForge.Benchmarks;

/// <summary>
/// The import path of each cloud alone, against the in-process fakes (the AWS fake; Azurite with the ARM fake; the
/// GCP fake), through the unchanged imageforge command with the specs' disk module (random bytes in the three
/// formats, no Packer): the wall time of a build, of its import (from the import's first step to the evidence stage,
/// as the build's log stamps them), the throughput that gives, and the requests each fake received for one build, per
/// action.
/// </summary>
internal sealed class CloudImportBenchmark : IBenchmark
{
    // AWS gets the 1 GiB disk the issue names. Azurite runs in memory with a 512 MB extent limit and the GCP fake keeps
    // objects in memory, so those two import a 256 MiB disk (random bytes: nothing compresses or is skipped as zero).
    private static readonly (string Cloud, int DiskMiB)[] Clouds =
    [
        ("aws", 1024),
        ("azure", 256),
        ("gcp", 256),
    ];

    public string Name => "cloud-import";

    public string Description =>
        "each cloud's import path alone against its fake: wall time, throughput, requests per build";

    public async Task<string> RunAsync()
    {
        using var dir = new TempDirectory("imageforge-bench-cloud-import");
        await using var clouds = await ThreeClouds.StartAsync();
        var content = WriteContent(dir.Combine("content"));
        var rows = new List<IReadOnlyList<string>>();
        var requests = new List<IReadOnlyList<string>>();
        // One unmeasured build of a small disk warms the JIT, the disk module and the catalog.
        await CliRunner.RunAsync(
            content,
            clouds.Variables,
            clouds.Providers(new DiskMaker(8 << 20)),
            CancellationToken.None,
            ["build", "disk-warm-up", "--data-dir", dir.Combine("data-warm-up")]
        );
        foreach (var (cloud, mib) in Clouds)
        {
            var disks = new DiskMaker(mib << 20);
            var data = dir.Combine("data-" + cloud);
            Task<CliResult> Run(params string[] args) =>
                CliRunner.RunAsync(
                    content,
                    clouds.Variables,
                    clouds.Providers(disks),
                    CancellationToken.None,
                    [.. args, "--data-dir", data]
                );

            var before = Counts(clouds, cloud);
            var started = TimeProvider.System.GetTimestamp();
            var built = await Run("build", $"bench-{cloud}", "--output", "json");
            var wall = TimeProvider.System.GetElapsedTime(started);
            var after = Counts(clouds, cloud);
            var import = await ImportTimeAsync(Run, built, cloud);
            rows.Add([
                cloud,
                $"{mib} MiB",
                Report.Seconds(wall),
                Report.Seconds(import),
                Report.Number(mib / import.TotalSeconds, "0.0") + " MiB/s",
                (after.Values.Sum() - before.Values.Sum()).ToString(
                    System.Globalization.CultureInfo.InvariantCulture
                ),
            ]);
            requests.Add([
                cloud,
                string.Join(
                    ", ",
                    after
                        .Select(p => (p.Key, Count: p.Value - before.GetValueOrDefault(p.Key)))
                        .Where(p => p.Count > 0)
                        .OrderBy(p => p.Key, StringComparer.Ordinal)
                        .Select(p => $"{p.Key} {p.Count}")
                ),
            ]);
            Directory.Delete(data, recursive: true);
        }

        return new Report(
            "Cloud import paths alone: AWS (2 regions), Azure (2 regions), GCP, in-process fakes",
            "dotnet run -c Release --project benchmarks/ImageForge.Benchmarks -- cloud-import"
        )
            .Table(
                [
                    "cloud",
                    "disk",
                    "whole build (disk, import, evidence)",
                    "import",
                    "import throughput",
                    "requests per build",
                ],
                rows
            )
            .Line(
                "Requests per build, per action (AWS: EC2/S3/SSM/STS actions in every region; Azure: ARM calls by "
                    + "operation, the blob upload to Azurite is not counted; GCP: discovery method ids, the resumable "
                    + "upload's chunk PUTs as `storage.objects.insert#chunk`):"
            )
            .Line("")
            .Table(["cloud", "requests"], requests)
            .Line(
                "The throughput is the disk's size over the whole import (upload, import/insert, register or "
                    + "gallery version, copies, cleanup): the fakes answer the long-running steps at once, so it is "
                    + "mostly the upload. One build each; the machine's "
                    + Environment.ProcessorCount
                    + " cores are shared by imageforge and the fakes. Azure uploads in 1 MiB pages here (the specs' "
                    + "connection; production sends 4 MiB), GCP in 512 KiB chunks (production: 16 MiB)."
            )
            .ToString();
    }

    // From the import's first step to the next stage (evidence), as the build's log records them.
    private static async Task<TimeSpan> ImportTimeAsync(
        Func<string[], Task<CliResult>> run,
        CliResult built,
        string cloud
    )
    {
        if (built.ExitCode != 0)
        {
            throw new InvalidOperationException(built.ToString());
        }

        using var json = JsonDocument.Parse(built.Out);
        var id = json.RootElement.GetProperty("build").GetProperty("id").GetString()!;
        var logs = await run(["builds", "logs", id, "--output", "json"]);
        var steps = logs
            .Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(l => l.GetProperty("stream").GetString() == "step")
            .Select(l =>
                (
                    Time: l.GetProperty("time").GetDateTimeOffset(),
                    Text: l.GetProperty("text").GetString()!
                )
            )
            .ToList();
        var start = steps.First(s =>
            s.Text.StartsWith($"import {cloud} | importing", StringComparison.Ordinal)
        );
        var end = steps.First(s =>
            s.Time >= start.Time && s.Text.StartsWith("evidence", StringComparison.Ordinal)
        );
        return end.Time - start.Time;
    }

    private static Dictionary<string, int> Counts(ThreeClouds clouds, string cloud) =>
        cloud switch
        {
            "aws" => clouds.Aws.Fake.Requests.ByOperation.ToDictionary(),
            "azure" => clouds.Arm.Calls.ToDictionary(),
            _ => clouds.Gcp.Fake.Calls.ToDictionary(),
        };

    private static string WriteContent(string path) =>
        BenchmarkImages.Write(
            path,
            Clouds.Select(c => ($"bench-{c.Cloud}", Targets(c.Cloud))).Append(("disk-warm-up", ""))
        );

    private static string Targets(string cloud) =>
        cloud switch
        {
            "aws" => ThreeClouds.AwsTarget(),
            "azure" => ThreeClouds.AzureTarget("bench-azure"),
            _ => ThreeClouds.GcpTarget("bench-gcp"),
        };
}

/// <summary>The benchmarks' content: the shipped content, an open baseline, and images whose disk the specs' disk module makes.</summary>
internal static class BenchmarkImages
{
    /// <summary>Writes each image with the disk module's target followed by <c>targets</c> (YAML); returns the root.</summary>
    public static string Write(string path, IEnumerable<(string Image, string Targets)> images)
    {
        var root = ContentCopy.Create(path);
        ContentCopy.AddOpenBaseline(root);
        foreach (var (image, targets) in images)
        {
            File.WriteAllText(
                Path.Combine(root, "templates", "images", $"{image}.yaml"),
                $"name: {image}\ndescription: benchmark\nos: {{ family: debian, release: \"11\" }}\nbaseline: open\n"
                    + $"targets:\n  - provider: {DiskMaker.ProviderName}\n    base_image: bullseye\n{targets}\n"
                    + "channels: [dev, staging, prod]\n"
            );
        }

        return root;
    }
}
