using ImageForge.Storage.Sql;
using Microsoft.Data.Sqlite;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

public sealed class MigrationSpecs : IDisposable
{
    private readonly TempDataDirectory _data = new();

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task Opening_a_new_data_directory_creates_the_catalog_in_WAL_mode_with_every_migration_applied_once()
    {
        // Arrange
        var latest = SchemaMigrator.Load(SqliteDialect.Instance).Count;

        // Act
        var catalog = await _data.OpenAsync();

        // Assert
        catalog.Location.ShouldBe(_data.DatabasePath);
        File.Exists(_data.DatabasePath).ShouldBeTrue();
        await using var db = await Raw.OpenAsync(_data.DatabasePath);
        (await Raw.ScalarAsync<string>(db, "PRAGMA journal_mode")).ShouldBe("wal");
        var applied = await Raw.MigrationsAsync(db);
        applied.Select(m => m.Version).ShouldBe(Enumerable.Range(1, latest).Select(v => (long)v));
        applied.ShouldAllBe(m => m.AppliedAt == "2025-03-04T10:20:30.456Z");
    }

    [Fact]
    public async Task Reopening_a_current_catalog_applies_nothing_again_and_keeps_its_data()
    {
        // Arrange
        var first = await _data.OpenAsync();
        var build = await first.StartBuildAsync(Builds.For("web"), ownerPid: 10);
        await first.DisposeAsync();
        _data.Time.Advance(TimeSpan.FromDays(1));

        // Act
        var second = await _data.OpenAsync();

        // Assert
        (await second.GetBuildAsync(build.Id)).ShouldBe(build);
        await using var db = await Raw.OpenAsync(_data.DatabasePath);
        var applied = await Raw.MigrationsAsync(db);
        applied.Count.ShouldBe(SchemaMigrator.Load(SqliteDialect.Instance).Count);
        applied.ShouldAllBe(m => m.AppliedAt == "2025-03-04T10:20:30.456Z");
    }

    [Fact]
    public async Task A_catalog_migrated_by_a_newer_ImageForge_is_refused_with_a_message_that_says_so()
    {
        // Arrange
        await (await _data.OpenAsync()).DisposeAsync();
        await using (var db = await Raw.OpenAsync(_data.DatabasePath))
        {
            await Raw.ExecuteAsync(
                db,
                "INSERT INTO schema_migrations (version, applied_at) VALUES (99, '2030-01-01T00:00:00.000Z')"
            );
        }

        // Act
        var refused = await Should.ThrowAsync<CatalogTooNewException>(() => _data.OpenAsync());

        // Assert
        refused.Message.ShouldContain("written by a newer ImageForge");
        refused.Message.ShouldContain(_data.DatabasePath);
        refused.Message.ShouldContain("schema version 99");
        refused.DatabaseVersion.ShouldBe(99);
        refused.SupportedVersion.ShouldBe(SchemaMigrator.Load(SqliteDialect.Instance).Count);
        refused.ExitCode.ShouldBe(3);
    }

    [Fact]
    public async Task Several_processes_opening_a_new_catalog_at_once_apply_each_migration_exactly_once()
    {
        // Arrange
        var opens = Enumerable.Range(0, 8).Select(_ => Task.Run(() => _data.OpenAsync()));

        // Act
        await Task.WhenAll(opens);

        // Assert
        await using var db = await Raw.OpenAsync(_data.DatabasePath);
        (await Raw.MigrationsAsync(db)).Count.ShouldBe(
            SchemaMigrator.Load(SqliteDialect.Instance).Count
        );
    }

    [Fact]
    public async Task Only_migrations_newer_than_the_database_are_applied_in_order()
    {
        // Arrange
        await (await _data.OpenAsync()).DisposeAsync();
        var known = SchemaMigrator.Load(SqliteDialect.Instance);
        var migrator = new SchemaMigrator(
            SqliteDialect.Instance,
            _data.Time,
            [
                .. known,
                new Migration(known.Count + 1, "second", "CREATE TABLE second (x INTEGER)"),
                new Migration(known.Count + 2, "third", "INSERT INTO second (x) VALUES (3)"),
            ]
        );
        await using var db = await Raw.OpenAsync(_data.DatabasePath);

        // Act
        var applied = await migrator.ApplyAsync(db, _data.DatabasePath);

        // Assert
        applied.ShouldBe([known.Count + 1, known.Count + 2]);
        (await Raw.ScalarAsync<long>(db, "SELECT x FROM second")).ShouldBe(3);
    }

    [Fact]
    public async Task A_migration_that_fails_leaves_no_trace_of_itself()
    {
        // Arrange
        await (await _data.OpenAsync()).DisposeAsync();
        var known = SchemaMigrator.Load(SqliteDialect.Instance);
        var migrator = new SchemaMigrator(
            SqliteDialect.Instance,
            _data.Time,
            [
                .. known,
                new Migration(
                    known.Count + 1,
                    "broken",
                    "CREATE TABLE half (x INTEGER); THIS IS NOT SQL;"
                ),
            ]
        );
        await using var db = await Raw.OpenAsync(_data.DatabasePath);

        // Act
        await Should.ThrowAsync<SqliteException>(() => migrator.ApplyAsync(db, _data.DatabasePath));

        // Assert
        (
            await Raw.ScalarAsync<long>(
                db,
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'"
            )
        ).ShouldBe(0);
        (await Raw.MigrationsAsync(db)).Count.ShouldBe(known.Count);
    }

    [Fact]
    public void The_embedded_schema_files_are_numbered_from_one_without_gaps()
    {
        // Act
        var migrations = SchemaMigrator.Load(SqliteDialect.Instance);

        // Assert
        migrations.ShouldNotBeEmpty();
        migrations.Select(m => m.Version).ShouldBe(Enumerable.Range(1, migrations.Count));
        migrations[0].Name.ShouldBe("initial");
        // Each changes the schema: new tables, or new columns (0007 only adds columns).
        migrations.ShouldAllBe(m =>
            m.Sql.Contains("CREATE", StringComparison.Ordinal)
            || m.Sql.Contains("ALTER TABLE", StringComparison.Ordinal)
        );
    }

    [Fact]
    public void Schema_files_out_of_sequence_are_a_programming_error()
    {
        // Act
        var refused = Should.Throw<InvalidOperationException>(() =>
            new SchemaMigrator(
                SqliteDialect.Instance,
                TimeProvider.System,
                [new Migration(2, "two", "")]
            )
        );

        // Assert
        refused.Message.ShouldContain("without gaps");
    }

    [Fact]
    public async Task A_file_that_is_not_a_database_is_refused_with_its_path()
    {
        // Arrange
        Directory.CreateDirectory(_data.Path);
        await File.WriteAllTextAsync(_data.DatabasePath, new string('x', 4096));

        // Act
        var refused = await Should.ThrowAsync<CatalogException>(() => _data.OpenAsync());

        // Assert
        refused.Message.ShouldContain(_data.DatabasePath);
        refused.Message.ShouldContain("--data-dir");
        refused.ExitCode.ShouldBe(3);
    }

    [Fact]
    public async Task A_catalog_at_schema_version_3_is_migrated_to_the_worker_schema_and_keeps_its_builds()
    {
        // Arrange: a catalog as ImageForge wrote it before the worker, with a running and a finished build.
        Directory.CreateDirectory(_data.Path);
        var known = SchemaMigrator.Load(SqliteDialect.Instance);
        await using (var db = await Raw.OpenAsync(_data.DatabasePath))
        {
            await new SchemaMigrator(
                SqliteDialect.Instance,
                _data.Time,
                [.. known.Take(3)]
            ).ApplyAsync(db, _data.DatabasePath);
            await Raw.ExecuteAsync(
                db,
                """
                INSERT INTO builds (image, target, "trigger", requester, fingerprint, started_at, status, owner_pid)
                VALUES ('web', 'local', 'manual', 'alice', 'sha256:a', '2025-03-01T00:00:00.000Z', 'running', 7),
                       ('web', 'local', 'manual', 'alice', 'sha256:b', '2025-03-02T00:00:00.000Z', 'failed', NULL)
                """
            );
        }

        // Act
        var catalog = await _data.OpenAsync();

        // Assert
        await using (var db = await Raw.OpenAsync(_data.DatabasePath))
        {
            (await Raw.MigrationsAsync(db))
                .Select(m => m.Version)
                .ShouldBe([1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L]);
        }

        (await catalog.ListBuildsAsync())
            .Select(b => b.Status)
            .ShouldBe([Core.Builds.BuildStatus.Failed, Core.Builds.BuildStatus.Running]);
        var queued = await catalog.EnqueueAsync(
            new Core.Worker.BuildRequest(Builds.For("web"), "key-1", Coalesce: true),
            _data.Time.GetUtcNow()
        );
        queued.Build.Status.ShouldBe(Core.Builds.BuildStatus.Queued);
        (await catalog.ListRunningBuildsAsync()).Select(b => b.Id).ShouldBe(["1"]);
    }
}
