using System.Diagnostics;
using System.Globalization;
using Dapper;
using ImageForge.Core.Builds;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace ImageForge.Storage.Tests;

public abstract class LargeCatalogSpecs(CatalogBackend backend, ITestOutputHelper output)
    : IDisposable
{
    private const int Versions = 100_000;
    private const int PerDay = 50;
    private const int Runs = 5;
    private static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(100);
    private static readonly DateTime FirstDay = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly TempDataDirectory _data = new(backend);
    private readonly ITestOutputHelper _output = output;

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact(Timeout = 120_000)]
    public async Task Listing_and_showing_stay_fast_with_a_hundred_thousand_versions()
    {
        // Arrange: 100,000 versions of one image, 50 a day, each with an artifact, plus a small second image.
        var catalog = await _data.OpenAsync();
        await catalog.BuildVersionAsync("small", new DateTimeOffset(FirstDay));
        var seeding = Stopwatch.StartNew();
        await SeedAsync("big");
        _output.WriteLine($"seeded {Versions} versions in {seeding.ElapsedMilliseconds} ms");
        var lastDay = FirstDay.AddDays((Versions - 1) / PerDay);
        var latest = $"{lastDay:yyyy.MM.dd}.{PerDay}";
        var middle = $"{FirstDay.AddDays(1000):yyyy.MM.dd}.10";

        // Act
        var images = await TimedAsync("ListImagesAsync", () => catalog.ListImagesAsync());
        var versions = await TimedAsync(
            "ListVersionsAsync(50)",
            () => catalog.ListVersionsAsync("big")
        );
        var shown = await TimedAsync(
            "GetVersionAsync",
            () => catalog.GetVersionAsync("big", middle)
        );
        var builds = await TimedAsync(
            "ListBuildsAsync(big, 50)",
            () => catalog.ListBuildsAsync("big")
        );
        var next = await TimedAsync(
            "Start+CompleteBuildAsync",
            () => catalog.BuildVersionAsync("big", new DateTimeOffset(lastDay.AddHours(23)))
        );

        // Assert
        images.ShouldBe([
            new ImageSummary(
                "big",
                Versions,
                latest,
                new DateTimeOffset(lastDay.AddMinutes(PerDay - 1))
            ),
            new ImageSummary("small", 1, $"{FirstDay:yyyy.MM.dd}.1", new DateTimeOffset(FirstDay)),
        ]);
        versions.Count.ShouldBe(50);
        versions[0].Version.ShouldBe(latest);
        versions[0].Artifacts.Count.ShouldBe(1);
        shown!.Artifacts.Single().Location.ShouldBe($"/data/artifacts/big/{middle}.tar.zst");
        builds.Count.ShouldBe(50);
        next.Version.ShouldBe(
            $"{lastDay:yyyy.MM.dd}.{PerDay + Runs + 1}",
            "one warm-up run and the timed runs"
        );
    }

    private async Task<T> TimedAsync<T>(string what, Func<Task<T>> operation)
    {
        await operation(); // warm: first use of a statement pays for preparing it
        var best = TimeSpan.MaxValue;
        T result = default!;
        for (var run = 0; run < Runs; run++)
        {
            var watch = Stopwatch.StartNew();
            result = await operation();
            best = watch.Elapsed < best ? watch.Elapsed : best;
        }

        _output.WriteLine($"{what}: best of {Runs} {best.TotalMilliseconds:0.00} ms");
        best.ShouldBeLessThan(Budget, what);
        return result;
    }

    // Bulk rows straight into the database in one transaction, shaped exactly as CompleteBuildAsync writes them, a
    // thousand rows a statement; completing 100,000 builds one transaction at a time would take minutes.
    private async Task SeedAsync(string image)
    {
        const int Chunk = 1000;
        await using var db = await _data.RawAsync();
        await using var transaction = await db.BeginTransactionAsync();
        await db.ExecuteAsync(
            "INSERT INTO images (image) VALUES (@image)",
            new { image },
            transaction
        );
        var firstId =
            1
            + await db.ExecuteScalarAsync<long>(
                "SELECT COALESCE(MAX(id), 0) FROM builds",
                null,
                transaction
            );
        for (var start = 0; start < Versions; start += Chunk)
        {
            var builds = new List<string>();
            var versions = new List<string>();
            var artifacts = new List<string>();
            for (var i = start; i < Math.Min(Versions, start + Chunk); i++)
            {
                var day = FirstDay.AddDays(i / PerDay);
                var seq = i % PerDay + 1;
                var version = $"{day:yyyy.MM.dd}.{seq}";
                var at = day.AddMinutes(i % PerDay)
                    .ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
                var id = firstId + i;
                builds.Add(
                    $"({id}, '{image}', 'local', 'schedule', 'scheduler', 'sha256:x', '{at}', '{at}', 'succeeded', '{version}')"
                );
                versions.Add(
                    $"('{image}', '{version}', '{day:yyyy.MM.dd}', {seq}, {id}, '{at}', 'built', 'sha256:x')"
                );
                artifacts.Add(
                    $"('{image}', '{version}', 0, 'local', 'local', 'rootfs-tar-zst', '/data/artifacts/{image}/{version}.tar.zst', 'ab', 1)"
                );
            }

            await db.ExecuteAsync(
                """
                INSERT INTO builds (id, image, target, "trigger", requester, fingerprint, started_at, ended_at, status, version)
                VALUES
                """ + string.Join(",", builds),
                null,
                transaction
            );
            await db.ExecuteAsync(
                """
                INSERT INTO image_versions (image, version, version_day, version_seq, build_id, created_at, status, fingerprint)
                VALUES
                """ + string.Join(",", versions),
                null,
                transaction
            );
            await db.ExecuteAsync(
                """
                INSERT INTO artifacts (image, version, position, target, region, kind, location, sha256, size_bytes)
                VALUES
                """ + string.Join(",", artifacts),
                null,
                transaction
            );
        }

        if (_data.Backend == CatalogBackend.Postgres)
        {
            // Explicit ids do not move PostgreSQL's identity counter (SQLite's AUTOINCREMENT follows them), and fresh
            // statistics give the planner the table's real size.
            await db.ExecuteAsync(
                "SELECT setval(pg_get_serial_sequence('builds', 'id'), (SELECT MAX(id) FROM builds))",
                null,
                transaction
            );
        }

        await db.ExecuteAsync(
            """
            UPDATE images SET version_count = (SELECT COUNT(*) FROM image_versions WHERE image = @image),
                (latest_version, latest_created_at) = (SELECT version, created_at FROM image_versions
                    WHERE image = @image ORDER BY version_day DESC, version_seq DESC LIMIT 1)
            WHERE image = @image
            """,
            new { image },
            transaction
        );
        await transaction.CommitAsync();
        if (_data.Backend == CatalogBackend.Postgres)
        {
            await db.ExecuteAsync("ANALYZE builds, image_versions, artifacts, images");
        }
    }
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class LargeCatalogSpecsOnSqlite(ITestOutputHelper output)
    : LargeCatalogSpecs(CatalogBackend.Sqlite, output);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class LargeCatalogSpecsOnPostgres(ITestOutputHelper output)
    : LargeCatalogSpecs(CatalogBackend.Postgres, output);
