using System.Text.Json;
using ImageForge.TestSupport;
using ImageForge.TestUtils;

namespace ImageForge.Benchmarks;

/// <summary>
/// One multi-cloud build (one disk imported into AWS, Azure and GCP at once, against the in-process fakes) against the
/// three single-cloud builds of the same disk size, and one three-cloud promotion against the three single-cloud
/// promotions. The disk is made by the specs' test module (no Packer), so what is measured is ImageForge's import and
/// promotion orchestration and the SDKs' transfers, not the disk build. The median of a few rounds.
/// </summary>
internal sealed class MultiCloudBenchmark : IBenchmark
{
    private const int Rounds = 3;
    private const int DiskMiB = 32;

    public string Name => "multi-cloud";

    public string Description =>
        "one build and one promotion on three clouds (fakes) vs the three single-cloud ones";

    public async Task<string> RunAsync()
    {
        using var dir = new TempDirectory("imageforge-bench-multicloud");
        await using var clouds = await ThreeClouds.StartAsync();
        var disks = new DiskMaker(DiskMiB << 20);
        var content = WriteContent(dir.Combine("content"));
        var data = dir.Combine("data");
        Task<CliResult> Run(params string[] args) =>
            CliRunner.RunAsync(
                content,
                clouds.Variables,
                clouds.Providers(disks),
                CancellationToken.None,
                [.. args, "--data-dir", data]
            );

        // One unmeasured round warms the JIT, the SDK clients and the fakes.
        var images = new[] { "bench-all", "bench-aws", "bench-azure", "bench-gcp" };
        var build = images.ToDictionary(i => i, _ => new List<TimeSpan>());
        var promote = images.ToDictionary(i => i, _ => new List<TimeSpan>());
        for (var round = 0; round <= Rounds; round++)
        {
            foreach (var image in images)
            {
                var started = TimeProvider.System.GetTimestamp();
                var built = await Run("build", image, "--output", "json");
                var buildTime = TimeProvider.System.GetElapsedTime(started);
                var version = Version(built);
                started = TimeProvider.System.GetTimestamp();
                var promoted = await Run("promote", $"{image}@{version}", "--to", "dev");
                var promoteTime = TimeProvider.System.GetElapsedTime(started);
                if (promoted.ExitCode != 0)
                {
                    throw new InvalidOperationException(promoted.ToString());
                }

                if (round > 0)
                {
                    build[image].Add(buildTime);
                    promote[image].Add(promoteTime);
                }
            }
        }

        var report = new Report(
            $"One version on three clouds: {DiskMiB} MiB disk, AWS (2 regions), Azure (2 regions), GCP, in-process fakes",
            "dotnet run -c Release --project benchmarks/ImageForge.Benchmarks -- multi-cloud"
        );
        var rows = new List<IReadOnlyList<string>>();
        foreach (var (what, times) in new[] { ("build", build), ("promotion", promote) })
        {
            var all = Median(times["bench-all"]);
            var singles = images.Skip(1).Select(i => Median(times[i])).ToList();
            var slowest = singles.Max();
            var sum = TimeSpan.FromTicks(singles.Sum(s => s.Ticks));
            rows.Add([
                what,
                Report.Seconds(all),
                string.Join(" / ", singles.Select(Report.Seconds)),
                Report.Seconds(sum),
                Report.Number(all / slowest, "0.00"),
                Report.Number(all / sum, "0.00"),
            ]);
        }

        report.Table(
            [
                "what (median of " + Rounds + ")",
                "three clouds at once",
                "aws / azure / gcp alone",
                "sum of the three",
                "at once / slowest (goal <= 1.1)",
                "at once / sum",
            ],
            rows
        );
        report.Line(
            "The build columns include the test disk module's disk (random bytes, three formats: the same work in "
                + "every row); the machine has "
                + Environment.ProcessorCount
                + " cores, shared by the fakes, so uploads to three clouds at once compete for them."
        );
        return report.ToString();
    }

    private static TimeSpan Median(List<TimeSpan> times) =>
        times.Order().ElementAt(times.Count / 2);

    private static string Version(CliResult built) =>
        built.ExitCode == 0
            ? JsonDocument
                .Parse(built.Out)
                .RootElement.GetProperty("version")
                .GetProperty("version")
                .GetString()!
            : throw new InvalidOperationException(built.ToString());

    private static string WriteContent(string path) =>
        BenchmarkImages.Write(
            path,
            [
                ("bench-all", ThreeClouds.CloudTargets("bench-all")),
                ("bench-aws", ThreeClouds.AwsTarget()),
                ("bench-azure", ThreeClouds.AzureTarget("bench-azure")),
                ("bench-gcp", ThreeClouds.GcpTarget("bench-gcp")),
            ]
        );
}
