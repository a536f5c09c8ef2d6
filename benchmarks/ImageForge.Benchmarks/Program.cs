using ImageForge.Benchmarks;

// Performance targets are proved here, as ratios and numbers measured in one run, not in timed unit tests.
//   dotnet run -c Release --project benchmarks/ImageForge.Benchmarks -- <name>|all
// Each benchmark prints a table and writes benchmarks/results/<name>.md.
IBenchmark[] benchmarks =
[
    new BuildOverheadBenchmark(),
    new VulnerabilityMatchingBenchmark(),
    new ComplianceBenchmark(),
    new CatalogScaleBenchmark(),
    new WorkerLoadBenchmark(),
    new ClusterLoadBenchmark(),
    new ClusterChaosBenchmark(),
    new MultiCloudBenchmark(),
    new CloudImportBenchmark(),
    new PolicyCheckBenchmark(),
    new DashboardScaleBenchmark(),
];

var wanted = args.FirstOrDefault() ?? "all";
var selected = wanted == "all" ? benchmarks : benchmarks.Where(b => b.Name == wanted).ToArray();
if (selected.Length == 0)
{
    await Console.Error.WriteLineAsync(
        $"unknown benchmark '{wanted}'; known: all, {string.Join(", ", benchmarks.Select(b => b.Name))}"
    );
    return 2;
}

foreach (var benchmark in selected)
{
    Console.WriteLine($"== {benchmark.Name}: {benchmark.Description}");
    var report = await benchmark.RunAsync();
    Console.WriteLine(report);
    var results = Path.Combine(ImageForge.TestUtils.RepoPaths.Root, "benchmarks", "results");
    Directory.CreateDirectory(results);
    await File.WriteAllTextAsync(Path.Combine(results, benchmark.Name + ".md"), report);
}

return 0;
