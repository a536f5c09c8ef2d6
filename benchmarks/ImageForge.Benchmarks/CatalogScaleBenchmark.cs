using System.Diagnostics;
using System.Globalization;
using ImageForge.Core.Audit;
using ImageForge.Core.Promotion;
using ImageForge.Storage;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Microsoft.Data.Sqlite;

namespace ImageForge.Benchmarks;

/// <summary>
/// The catalog at 100,000 versions of one image: the queries behind <c>images list</c> and <c>images show</c> (goal:
/// under 100 ms each), the same commands as whole processes, and the bookkeeping a promotion does per step.
/// </summary>
internal sealed class CatalogScaleBenchmark : IBenchmark
{
    private const int Versions = 100_000;
    private const int Rounds = 20;

    public string Name => "catalog-scale";

    public string Description =>
        "images list/show over 100,000 versions; promotion bookkeeping per step";

    public async Task<string> RunAsync()
    {
        using var dir = new TempDirectory("imageforge-bench-catalog");
        var data = dir.Combine("data");
        var time = TimeProvider.System;
        await using (var created = await Catalog.OpenAsync(data, time)) { }
        var fill = Stopwatch.StartNew();
        await FillAsync(Path.Combine(data, Catalog.FileName));
        fill.Stop();

        await using var catalog = await Catalog.OpenAsync(data, time);
        var list = await MeasureAsync(() => catalog.ListImagesAsync());
        var show = await MeasureAsync(async () =>
        {
            var versions = await catalog.ListVersionsAsync("bench", 20);
            await catalog.GetVersionAsync("bench", versions[^1].Version);
        });
        // The tool as users install it (RID-specific, ReadyToRun: see the CLI project) and the JIT-compiled build
        // output beside this benchmark, to show what precompilation buys.
        var installed = await PublishToolAsync(dir.Combine("tool"));
        var jit = BuiltTools.Imageforge;
        string[] listArgs = ["images", "list", "--data-dir", data];
        string[] showArgs = ["images", "show", "bench", "--data-dir", data];
        string[] showJsonArgs = ["images", "show", "bench", "--output", "json", "--data-dir", data];
        var listProcess = await MeasureProcessAsync(installed, listArgs);
        var showProcess = await MeasureProcessAsync(installed, showArgs);
        var showJsonProcess = await MeasureProcessAsync(installed, showJsonArgs);
        var listJit = await MeasureProcessAsync(jit, listArgs);
        var showJit = await MeasureProcessAsync(jit, showArgs);

        var rows = new List<IReadOnlyList<string>>
        {
            Row("images list (catalog query)", list),
            Row("images show (catalog queries)", show),
            Row("imageforge images list (whole process, installed tool)", listProcess),
            Row("imageforge images show bench (whole process, installed tool)", showProcess),
            Row("imageforge images show bench --output json (installed tool)", showJsonProcess),
            Row("imageforge images list (whole process, JIT build output)", listJit),
            Row("imageforge images show bench (whole process, JIT build output)", showJit),
        };
        foreach (var steps in new[] { 1, 10, 50 })
        {
            var (perStep, fixedCost) = await BookkeepingAsync(catalog, steps);
            rows.Add([$"promotion bookkeeping, {steps} step(s): per step", Ms(perStep), "-", "-"]);
            rows.Add([
                $"promotion bookkeeping, {steps} step(s): start + complete",
                Ms(fixedCost),
                "-",
                "-",
            ]);
        }

        var verdict = listProcess.Median < 100 && showProcess.Median < 100 ? "met" : "NOT met";
        return new Report(
            "Catalog at scale",
            "dotnet run -c Release --project benchmarks/ImageForge.Benchmarks -- catalog-scale"
        )
            .Line(
                $"{Versions:N0} versions of one image (one artifact each), filled in {fill.Elapsed.TotalSeconds:0.0} s by direct inserts. {Rounds} rounds each."
            )
            .Line("")
            .Table(["operation", "median ms", "p95 ms", "max ms"], rows)
            .Line(
                $"Goal (imageforge images list and images show under 100 ms each, the whole command as installed): {verdict}. "
                    + "The installed tool is 'dotnet publish' of the CLI as its tool package is built (linux-x64, ReadyToRun); "
                    + "the JIT rows run the plain build output. The catalog-query rows are the reads alone, in this process."
            )
            .ToString();
    }

    private static async Task FillAsync(string path)
    {
        await using var db = new SqliteConnection($"Data Source={path}");
        await db.OpenAsync();
        await using var tx = (SqliteTransaction)await db.BeginTransactionAsync();
        var start = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        using (var image = db.CreateCommand())
        {
            image.CommandText = "INSERT INTO images (image) VALUES ('bench')";
            await image.ExecuteNonQueryAsync();
        }

        await using var build = db.CreateCommand();
        build.CommandText =
            "INSERT INTO builds (id, image, target, \"trigger\", requester, fingerprint, started_at, ended_at, status, version) "
            + "VALUES ($id, 'bench', 'local', 'manual', 'bench', 'fp', $at, $at, 'succeeded', $v)";
        await using var version = db.CreateCommand();
        version.CommandText =
            "INSERT INTO image_versions (image, version, version_day, version_seq, build_id, created_at, status, fingerprint) "
            + "VALUES ('bench', $v, $day, $seq, $id, $at, 'built', 'fp')";
        await using var artifact = db.CreateCommand();
        artifact.CommandText =
            "INSERT INTO artifacts (image, version, position, target, region, kind, location, sha256, size_bytes) "
            + "VALUES ('bench', $v, 0, 'local', 'local', 'disk-raw', $loc, 'ab', 1)";
        foreach (var command in new[] { build, version, artifact })
        {
            command.Transaction = tx;
            foreach (var name in new[] { "$id", "$at", "$v", "$day", "$seq", "$loc" })
            {
                command.Parameters.Add(new SqliteParameter(name, null));
            }
        }

        for (var i = 0; i < Versions; i++)
        {
            var day = start.AddDays(i / 50);
            var seq = i % 50 + 1;
            var text = day.ToString("yyyy.MM.dd", CultureInfo.InvariantCulture);
            var values = new Dictionary<string, object>
            {
                ["$id"] = i + 1,
                ["$at"] = day.AddMinutes(seq)
                    .ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["$v"] = $"{text}.{seq}",
                ["$day"] = text,
                ["$seq"] = seq,
                ["$loc"] = $"/data/artifacts/bench/{i + 1}/disk.raw",
            };
            foreach (var command in new[] { build, version, artifact })
            {
                foreach (SqliteParameter p in command.Parameters)
                {
                    p.Value = values[p.ParameterName];
                }

                await command.ExecuteNonQueryAsync();
            }
        }

        await using (var summary = db.CreateCommand())
        {
            summary.Transaction = tx;
            summary.CommandText =
                "UPDATE images SET version_count = (SELECT COUNT(*) FROM image_versions), (latest_version, latest_created_at) = "
                + "(SELECT version, created_at FROM image_versions ORDER BY version_day DESC, version_seq DESC LIMIT 1)";
            await summary.ExecuteNonQueryAsync();
        }

        await tx.CommitAsync();
    }

    private static async Task<(TimeSpan PerStep, TimeSpan Fixed)> BookkeepingAsync(
        Catalog catalog,
        int steps
    )
    {
        var versions = await catalog.ListVersionsAsync("bench", Rounds);
        var plan = Enumerable
            .Range(0, steps)
            .Select(i => new DistributionStep("local", $"r{i}", []))
            .ToList();
        var stepTime = TimeSpan.Zero;
        var fixedTime = TimeSpan.Zero;
        foreach (var v in versions)
        {
            var audit = new AuditEntry
            {
                Action = "promote",
                Actor = "bench",
                Role = "admin",
                Time = TimeProvider.System.GetUtcNow(),
                Image = "bench",
                Version = v.Version,
                Channel = $"c{steps}",
            };
            var watch = Stopwatch.StartNew();
            var promotion = await catalog.StartPromotionAsync(
                "bench",
                v.Version,
                $"c{steps}",
                "bench",
                null,
                plan,
                audit
            );
            fixedTime += watch.Elapsed;
            watch.Restart();
            for (var i = 0; i < steps; i++)
            {
                await catalog.RecordStepAsync(
                    promotion.Id,
                    i,
                    StepStatus.Succeeded,
                    "ok",
                    TimeProvider.System.GetUtcNow()
                );
            }

            stepTime += watch.Elapsed;
            watch.Restart();
            await catalog.CompletePromotionAsync(promotion.Id, audit);
            fixedTime += watch.Elapsed;
        }

        return (stepTime / (versions.Count * steps), fixedTime / versions.Count);
    }

    private static async Task<Stats> MeasureAsync(Func<Task> operation)
    {
        await operation();
        var samples = new List<double>();
        for (var i = 0; i < Rounds; i++)
        {
            var watch = Stopwatch.StartNew();
            await operation();
            samples.Add(watch.Elapsed.TotalMilliseconds);
        }

        return Stats.Of(samples);
    }

    // The CLI as its tool package ships it (the project sets the runtime and ReadyToRun for packing).
    private static async Task<string> PublishToolAsync(string output)
    {
        var project = Path.Combine(
            RepoPaths.Root,
            "src",
            "ImageForge.Cli",
            "ImageForge.Cli.csproj"
        );
        var log = new List<string>();
        var exit = -1;
        await foreach (
            var e in new ProcessRunner(TimeProvider.System).StreamAsync(
                new ProcessSpec("dotnet")
                    .WithArguments([
                        "publish",
                        project,
                        "-c",
                        "Release",
                        "-r",
                        "linux-x64",
                        "--self-contained",
                        "false",
                        "-o",
                        output,
                    ])
                    .WithTimeout(TimeSpan.FromMinutes(10))
            )
        )
        {
            switch (e)
            {
                case OutputLine line:
                    log.Add(line.Text);
                    break;
                case ErrorLine line:
                    log.Add(line.Text);
                    break;
                case ProcessExited exited:
                    exit = exited.ExitCode;
                    break;
            }
        }

        return exit == 0
            ? Path.Combine(output, "imageforge")
            : throw new InvalidOperationException(
                $"dotnet publish of the CLI failed ({exit}):\n{string.Join('\n', log.TakeLast(20))}"
            );
    }

    private static async Task<Stats> MeasureProcessAsync(string executable, params string[] args)
    {
        var samples = new List<double>();
        // One untimed run (the OS page cache), then the measured ones.
        await foreach (
            var _ in new ProcessRunner(TimeProvider.System).StreamAsync(
                new ProcessSpec(executable).WithArguments(args)
            )
        ) { }

        for (var i = 0; i < 11; i++)
        {
            var watch = Stopwatch.StartNew();
            await foreach (
                var _ in new ProcessRunner(TimeProvider.System).StreamAsync(
                    new ProcessSpec(executable)
                        .WithArguments(args)
                        .WithTimeout(TimeSpan.FromMinutes(1))
                )
            ) { }

            samples.Add(watch.Elapsed.TotalMilliseconds);
        }

        return Stats.Of(samples);
    }

    private static string[] Row(string name, Stats s) =>
        [
            name,
            Report.Number(s.Median, "0.0"),
            Report.Number(s.P95, "0.0"),
            Report.Number(s.Max, "0.0"),
        ];

    private static string Ms(TimeSpan t) => Report.Number(t.TotalMilliseconds, "0.00");

    private sealed record Stats(double Median, double P95, double Max)
    {
        public static Stats Of(List<double> samples)
        {
            samples.Sort();
            return new(
                samples[samples.Count / 2],
                samples[(int)Math.Ceiling(samples.Count * 0.95) - 1],
                samples[^1]
            );
        }
    }
}
