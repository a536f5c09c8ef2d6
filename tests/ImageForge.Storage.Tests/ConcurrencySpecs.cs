using ImageForge.Core.Builds;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

public abstract class ConcurrencySpecs(CatalogBackend backend) : IDisposable
{
    private static readonly DateTimeOffset Noon = new(2025, 3, 4, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDataDirectory _data = new(backend);

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact(Timeout = 60_000)]
    public async Task Builds_of_one_image_completed_at_once_by_separate_catalogs_never_share_a_version()
    {
        // Arrange: eight catalog instances on one file stand for eight imageforge processes.
        const int Processes = 8;
        const int BuildsEach = 6;
        var catalogs = new List<Catalog>();
        for (var i = 0; i < Processes; i++)
        {
            catalogs.Add(await _data.OpenAsync());
        }

        var builds = new List<(Catalog Catalog, string Id)>();
        foreach (var catalog in catalogs)
        {
            for (var i = 0; i < BuildsEach; i++)
            {
                builds.Add(
                    (catalog, (await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1)).Id)
                );
            }
        }

        using var start = new ManualResetEventSlim();

        // Act
        var completions = builds
            .Select(b =>
                Task.Run(async () =>
                {
                    start.Wait();
                    return await b.Catalog.CompleteBuildAsync(
                        b.Id,
                        [Builds.Tarball("web")],
                        [],
                        VersionStatus.Built,
                        Noon
                    );
                })
            )
            .ToList();
        start.Set();
        var versions = await Task.WhenAll(completions);

        // Assert
        versions
            .Select(v => v.Version)
            .Order(StringComparer.Ordinal)
            .ShouldBe(
                Enumerable
                    .Range(1, Processes * BuildsEach)
                    .Select(n => $"2025.03.04.{n}")
                    .Order(StringComparer.Ordinal)
            );
        var reader = catalogs[0];
        (await reader.ListImagesAsync()).ShouldBe([
            new ImageSummary(
                "web",
                Processes * BuildsEach,
                $"2025.03.04.{Processes * BuildsEach}",
                Noon
            ),
        ]);
        (await reader.ListBuildsAsync("web", limit: 100)).ShouldAllBe(b =>
            b.Status == BuildStatus.Succeeded
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task Readers_in_other_catalogs_keep_working_while_a_build_writes_its_log()
    {
        // Arrange
        var writer = await _data.OpenAsync();
        var reader = await _data.OpenAsync();
        var build = await writer.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        var now = _data.Time.GetUtcNow();

        // Act
        var writing = Task.Run(async () =>
        {
            for (var batch = 0; batch < 50; batch++)
            {
                await writer.AppendLogAsync(
                    build.Id,
                    [
                        .. Enumerable
                            .Range(0, 20)
                            .Select(i => (now, "stdout", $"batch {batch} line {i}")),
                    ]
                );
            }
        });
        var seen = 0L;
        while (!writing.IsCompleted)
        {
            var lines = await reader.ReadLogAsync(build.Id, afterSequence: seen);
            lines
                .Select(l => l.Sequence)
                .ShouldBe(Enumerable.Range((int)seen + 1, lines.Count).Select(n => (long)n));
            seen += lines.Count;
            (await reader.GetBuildAsync(build.Id))!.Status.ShouldBe(BuildStatus.Running);
        }

        await writing;

        // Assert
        (await reader.ReadLogAsync(build.Id)).Count.ShouldBe(1000);
    }
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class ConcurrencySpecsOnSqlite() : ConcurrencySpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class ConcurrencySpecsOnPostgres() : ConcurrencySpecs(CatalogBackend.Postgres);
