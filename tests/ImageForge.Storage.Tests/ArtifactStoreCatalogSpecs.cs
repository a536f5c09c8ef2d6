using Dapper;
using ImageForge.Core.Artifacts;
using ImageForge.Core.Builds;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

/// <summary>
/// The catalog keeps a location below the shared artifact store relative to the store (in_store = 1) and resolves it
/// through the store it is opened with, so a worker with another data directory, or the store mounted at another
/// path, finds the same file; rows written before the store keep meaning the data directory; a row leading outside
/// its root is refused.
/// </summary>
public abstract class ArtifactStoreCatalogSpecs(CatalogBackend backend) : IDisposable
{
    private static readonly DateTimeOffset Day = new(2025, 3, 4, 9, 0, 0, TimeSpan.Zero);

    private readonly TempDataDirectory _data = new(backend);

    private readonly string _mounts = Path.Combine(
        Path.GetTempPath(),
        "imageforge-store-mounts",
        Guid.NewGuid().ToString("N")
    );

    public void Dispose()
    {
        _data.Dispose();
        if (Directory.Exists(_mounts))
        {
            Directory.Delete(_mounts, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    private static Artifact Disk(string location) => MovableDataDirectorySpecs.File(location);

    private static EvidenceDocument Sbom(string location) =>
        MovableDataDirectorySpecs.Evidence(location);

    [Fact]
    public async Task Locations_below_the_store_are_stored_relative_to_it_and_resolve_where_the_store_is_mounted()
    {
        var first = Path.Combine(_mounts, "a");
        var catalog = await _data.OpenWithStoreAsync(first);
        var disk = Path.Combine(first, "artifacts", "web", "1", "disk.raw");
        var sbom = Path.Combine(first, "artifacts", "web", "1", "evidence", "sbom.json");
        var version = await catalog.BuildVersionAsync("web", Day, [Disk(disk)]);
        await catalog.AddEvidenceAsync("web", version.Version, [Sbom(sbom)], Day);

        await using (var db = await _data.RawAsync())
        {
            (
                await db.QueryAsync<(string, long, long)>(
                    "SELECT location, in_data_dir, in_store FROM artifacts UNION ALL "
                        + "SELECT location, in_data_dir, in_store FROM evidence"
                )
            ).ShouldBe([
                ("artifacts/web/1/disk.raw", 0L, 1L),
                ("artifacts/web/1/evidence/sbom.json", 0L, 1L),
            ]);
        }

        var second = Path.Combine(_mounts, "b");
        var elsewhere = await _data.OpenWithStoreAsync(second);
        var read = (await elsewhere.GetVersionAsync("web", version.Version))!;
        read.Artifacts.Single().Location.ShouldBe(Path.Combine(second, "artifacts/web/1/disk.raw"));
        read.Evidence.Single()
            .Location.ShouldBe(Path.Combine(second, "artifacts/web/1/evidence/sbom.json"));
        elsewhere.Artifacts.Root.ShouldBe(second);
        (
            await elsewhere.FindArtifactOwnersAsync(
                "local",
                Path.Combine(second, "artifacts/web/1/disk.raw"),
                null,
                null
            )
        ).ShouldBe([("web", version.Version)]);
    }

    [Fact]
    public async Task Rows_written_before_the_store_keep_meaning_the_data_directory()
    {
        var inData = Path.Combine(_data.Path, "artifacts", "web", "1", "disk.raw");
        await using (var before = await _data.OpenAsync())
        {
            await before.BuildVersionAsync("web", Day, [Disk(inData)]);
        }

        var withStore = await _data.OpenWithStoreAsync(Path.Combine(_mounts, "a"));

        (await withStore.ListVersionsAsync("web"))
            .Single()
            .Artifacts.Single()
            .Location.ShouldBe(inData);
    }

    [Fact]
    public async Task A_row_whose_location_leads_outside_the_store_is_refused_on_read()
    {
        var store = Path.Combine(_mounts, "a");
        var catalog = await _data.OpenWithStoreAsync(store);
        var version = await catalog.BuildVersionAsync(
            "web",
            Day,
            [Disk(Path.Combine(store, "artifacts", "web", "1", "disk.raw"))]
        );
        await using (var db = await _data.RawAsync())
        {
            await db.ExecuteAsync("UPDATE artifacts SET location = '../../../etc/passwd'");
        }

        var refused = await Should.ThrowAsync<ArtifactLocationException>(() =>
            catalog.GetVersionAsync("web", version.Version)
        );

        refused.Message.ShouldContain("'../../../etc/passwd' leads outside the artifact store");
    }
}

/// <inheritdoc />
public sealed class ArtifactStoreCatalogSpecsOnSqlite()
    : ArtifactStoreCatalogSpecs(CatalogBackend.Sqlite);

/// <inheritdoc />
public sealed class ArtifactStoreCatalogSpecsOnPostgres()
    : ArtifactStoreCatalogSpecs(CatalogBackend.Postgres);
