using ImageForge.Core.Builds;
using ImageForge.Storage.Sql;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

/// <summary>
/// Locations below the data directory are stored relative to it and resolved against the directory the catalog is
/// opened in, so a data directory restored from a backup or moved still finds its files; paths outside it and
/// provider image ids are kept as given. Catalogs written before (schema 5, absolute paths) are migrated.
/// </summary>
public sealed class MovableDataDirectorySpecs : IDisposable
{
    private static readonly DateTimeOffset Day = new(2025, 3, 4, 9, 0, 0, TimeSpan.Zero);

    private readonly TempDataDirectory _data = new();
    private readonly TempDataDirectory _moved = new();

    public void Dispose()
    {
        _data.Dispose();
        _moved.Dispose();
    }

    internal static Artifact File(string location, string? sha256 = "ab12") =>
        Builds.Tarball("web", sha256!) with
        {
            Location = location,
            Sha256 = sha256,
        };

    internal static EvidenceDocument Evidence(string location) =>
        new()
        {
            Kind = "sbom-cyclonedx",
            Location = location,
            Sha256 = "cd34",
            MediaType = "application/vnd.cyclonedx+json",
        };

    [Fact]
    public async Task Locations_below_the_data_directory_are_stored_relative_and_read_back_absolute()
    {
        var catalog = await _data.OpenAsync();
        var inside = Path.Combine(_data.Path, "artifacts", "web", "1", "disk.raw");
        var sbom = Path.Combine(_data.Path, "artifacts", "web", "1", "evidence", "sbom.json");

        var version = await catalog.BuildVersionAsync(
            "web",
            Day,
            [File(inside), File("/srv/images/outside.raw"), File("ami-0123456789abcdef0", null)]
        );
        await catalog.AddEvidenceAsync("web", version.Version, [Evidence(sbom)], Day);

        var read = await catalog.GetVersionAsync("web", version.Version);
        read!
            .Artifacts.Select(a => a.Location)
            .ShouldBe([inside, "/srv/images/outside.raw", "ami-0123456789abcdef0"]);
        read.Evidence.Single().Location.ShouldBe(sbom);
        await using var db = await Raw.OpenAsync(_data.DatabasePath);
        (await Rows(db, "artifacts")).ShouldBe([
            ("artifacts/web/1/disk.raw", 1L),
            ("/srv/images/outside.raw", 0L),
            ("ami-0123456789abcdef0", 0L),
        ]);
        (await Rows(db, "evidence")).ShouldBe([("artifacts/web/1/evidence/sbom.json", 1L)]);
    }

    [Fact]
    public async Task A_moved_data_directory_resolves_its_locations_where_it_is_now_and_admission_finds_them()
    {
        var inside = Path.Combine(_data.Path, "artifacts", "web", "1", "disk.raw");
        await using (var catalog = await _data.OpenAsync())
        {
            await catalog.BuildVersionAsync("web", Day, [File(inside)]);
        }

        Directory.Move(_data.Path, _moved.Path);
        var moved = await _moved.OpenAsync();

        var version = (await moved.ListVersionsAsync("web")).Single();
        var there = Path.Combine(_moved.Path, "artifacts", "web", "1", "disk.raw");
        version.Artifacts.Single().Location.ShouldBe(there);
        (await moved.FindArtifactOwnersAsync("local", there, null, null)).ShouldBe([
            ("web", version.Version),
        ]);
        (await moved.FindArtifactOwnersAsync("local", inside, null, null)).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_catalog_of_schema_5_is_migrated_to_relative_locations_below_its_data_directory_only()
    {
        // A catalog as ImageForge wrote it before: absolute locations, inside and outside the data directory.
        Directory.CreateDirectory(_data.Path);
        var known = SchemaMigrator.Load(SqliteDialect.Instance);
        var inside = Path.Combine(_data.Path, "artifacts", "web", "1", "disk.raw");
        // A sibling whose name starts like the data directory is not inside it.
        var sibling = _data.Path + "-old/artifacts/web/1/disk.raw";
        await using (var db = await Raw.OpenAsync(_data.DatabasePath))
        {
            await new SchemaMigrator(
                SqliteDialect.Instance,
                _data.Time,
                [.. known.Take(5)]
            ).ApplyAsync(db, _data.DatabasePath);
            await Raw.ExecuteAsync(
                db,
                """
                INSERT INTO images (image) VALUES ('web');
                INSERT INTO builds (image, target, "trigger", requester, fingerprint, started_at, status, owner_pid)
                VALUES ('web', 'local', 'manual', 'alice', 'sha256:a', '2025-03-01T00:00:00.000Z', 'succeeded', NULL);
                INSERT INTO image_versions (image, version, version_day, version_seq, build_id, created_at, status,
                                            fingerprint)
                VALUES ('web', '2025.03.01.1', '2025.03.01', 1, 1, '2025-03-01T00:00:00.000Z', 'built', 'sha256:a');
                INSERT INTO artifacts (image, version, position, target, region, kind, location, sha256)
                VALUES ('web', '2025.03.01.1', 0, 'local', 'local', 'disk-raw-ext4', @Inside, 'ab'),
                       ('web', '2025.03.01.1', 1, 'local', 'local', 'disk-raw-ext4', @Sibling, 'cd'),
                       ('web', '2025.03.01.1', 2, 'aws', 'eu-west-1', 'ami', 'ami-0123456789abcdef0', NULL);
                INSERT INTO evidence (image, version, kind, location, sha256, media_type, recorded_at)
                VALUES ('web', '2025.03.01.1', 'sbom-cyclonedx', @Sbom, 'ef', 'application/json',
                        '2025-03-01T00:00:00.000Z');
                """,
                new
                {
                    Inside = inside,
                    Sibling = sibling,
                    Sbom = Path.Combine(_data.Path, "artifacts", "web", "1", "sbom.json"),
                }
            );
        }

        var catalog = await _data.OpenAsync();

        await using (var db = await Raw.OpenAsync(_data.DatabasePath))
        {
            (await Raw.MigrationsAsync(db))
                .Select(m => m.Version)
                .ShouldBe(Enumerable.Range(1, known.Count).Select(v => (long)v));
            (await Rows(db, "artifacts")).ShouldBe([
                ("artifacts/web/1/disk.raw", 1L),
                (sibling, 0L),
                ("ami-0123456789abcdef0", 0L),
            ]);
            (await Rows(db, "evidence")).ShouldBe([("artifacts/web/1/sbom.json", 1L)]);
        }

        var version = await catalog.GetVersionAsync("web", "2025.03.01.1");
        version!
            .Artifacts.Select(a => a.Location)
            .ShouldBe([inside, sibling, "ami-0123456789abcdef0"]);
    }

    private static async Task<List<(string, long)>> Rows(
        System.Data.Common.DbConnection db,
        string table
    ) =>
        [
            .. await Dapper.SqlMapper.QueryAsync<(string, long)>(
                db,
                table == "artifacts"
                    ? "SELECT location, in_data_dir FROM artifacts ORDER BY position"
                    : "SELECT location, in_data_dir FROM evidence ORDER BY id"
            ),
        ];
}
