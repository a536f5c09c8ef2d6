using System.Collections.Concurrent;
using System.Data.Common;
using Dapper;
using ImageForge.Core.Builds;
using ImageForge.TestUtils;
using Npgsql;
using Shouldly;

namespace ImageForge.Storage.Tests;

/// <summary>Which database a spec's catalog lives in.</summary>
public enum CatalogBackend
{
    /// <summary>The SQLite file of the data directory (the embedded default).</summary>
    Sqlite,

    /// <summary>A fresh database on this test process's throwaway PostgreSQL cluster.</summary>
    Postgres,
}

/// <summary>
/// A fresh data directory per test, with an empty catalog on the chosen backend, deleted afterwards, and helpers to
/// fill its catalog. A PostgreSQL spec borrows a migrated database (a copy of one template the catalog migrated) and
/// gives it back emptied (TRUNCATE ... RESTART IDENTITY), so a spec pays neither the migrations nor a CREATE DATABASE.
/// </summary>
public sealed class TempDataDirectory : IDisposable
{
    private static readonly Lazy<string> Template = new(MigratedTemplate);
    private static readonly ConcurrentBag<string> Emptied = [];

    private readonly ConcurrentBag<Catalog> _opened = [];
    private readonly string? _database;

    public TempDataDirectory(CatalogBackend backend = CatalogBackend.Sqlite)
    {
        Backend = backend;
        Path = System.IO.Path.Combine(
            System.IO.Path.GetTempPath(),
            "imageforge-storage-tests",
            Guid.NewGuid().ToString("N")
        );
        if (backend == CatalogBackend.Postgres)
        {
            _database = Emptied.TryTake(out var reused)
                ? reused
                : ThrowawayPostgres.Shared.CreateDatabase(Template.Value);
        }
    }

    public CatalogBackend Backend { get; }

    public string Path { get; }

    /// <summary>The SQLite file (SQLite specs only).</summary>
    public string DatabasePath =>
        Backend == CatalogBackend.Sqlite
            ? System.IO.Path.Combine(Path, Catalog.FileName)
            : throw new InvalidOperationException("a PostgreSQL catalog has no file");

    /// <summary>The PostgreSQL connection string, with its password (PostgreSQL specs only).</summary>
    public string ConnectionString =>
        _database is { } name
            ? ThrowawayPostgres.Shared.ConnectionString(name)
            : throw new InvalidOperationException("a SQLite catalog has no connection string");

    public ManualTimeProvider Time { get; } =
        new(new DateTimeOffset(2025, 3, 4, 10, 20, 30, 456, TimeSpan.Zero));

    /// <summary>Opens a catalog on this directory; each call is a separate instance, like another process.</summary>
    public async Task<Catalog> OpenAsync(TimeProvider? time = null, TimeSpan? busyTimeout = null)
    {
        var wait = busyTimeout ?? Catalog.DefaultBusyTimeout;
        var catalog = _database is null
            ? await Catalog.OpenAsync(Path, time ?? Time, wait, CancellationToken.None)
            : await Catalog.OpenPostgresAsync(
                ConnectionString,
                Path,
                time ?? Time,
                wait,
                CancellationToken.None
            );
        _opened.Add(catalog);
        return catalog;
    }

    /// <summary>Opens a catalog on this directory whose artifact store is <paramref name="store"/> (docs/cluster.md).</summary>
    public async Task<Catalog> OpenWithStoreAsync(string store)
    {
        var catalog = await Catalog.OpenAsync(
            new DataPaths(Path, _database is null ? null : ConnectionString, store),
            Time,
            Catalog.DefaultBusyTimeout,
            CancellationToken.None
        );
        _opened.Add(catalog);
        return catalog;
    }

    /// <summary>A connection of its own to the catalog's database, to check what is stored and plant what the code would not write.</summary>
    public Task<DbConnection> RawAsync() =>
        _database is null ? Raw.OpenAsync(DatabasePath) : Raw.OpenPostgresAsync(ConnectionString);

    /// <summary>Makes every insert into <paramref name="table"/> fail until <see cref="AllowInsertsAsync"/>.</summary>
    public async Task RefuseInsertsAsync(string table)
    {
        await using var db = await RawAsync();
        if (Backend == CatalogBackend.Sqlite)
        {
            await Raw.ExecuteAsync(
                db,
                $"CREATE TRIGGER refuse BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'refused'); END"
            );
            return;
        }

        await Raw.ExecuteAsync(
            db,
            "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'refused'; END$$"
        );
        await Raw.ExecuteAsync(
            db,
            $"CREATE TRIGGER refuse BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse()"
        );
    }

    /// <summary>Undoes <see cref="RefuseInsertsAsync"/>.</summary>
    public async Task AllowInsertsAsync(string table)
    {
        await using var db = await RawAsync();
        await Raw.ExecuteAsync(
            db,
            Backend == CatalogBackend.Sqlite
                ? "DROP TRIGGER refuse"
                : $"DROP TRIGGER refuse ON {table}"
        );
    }

    public void Dispose()
    {
        foreach (var catalog in _opened)
        {
            catalog.Dispose();
        }

        if (_database is not null)
        {
            Empty(_database);
            Emptied.Add(_database);
        }

        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }

    // Every table of the catalog (not schema_migrations), emptied in one statement with its identity counters reset;
    // a trigger a spec planted goes with its function.
    private static void Empty(string database)
    {
        using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(ThrowawayPostgres.Shared.ConnectionString(database))
            {
                Pooling = false,
            }.ToString()
        );
        connection.Open();
        var tables = connection.Query<string>(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
        );
        connection.Execute(
            $"TRUNCATE {string.Join(", ", tables)} RESTART IDENTITY CASCADE; DROP FUNCTION IF EXISTS refuse() CASCADE"
        );
    }

    // One database brought to the newest schema by the catalog itself; every spec's database is a copy of it.
    private static string MigratedTemplate()
    {
        var server = ThrowawayPostgres.Shared;
        var name = server.CreateDatabase();
        var directory = Directory.CreateTempSubdirectory("imageforge-storage-template").FullName;
        try
        {
            using var catalog = Catalog
                .OpenPostgresAsync(
                    server.ConnectionString(name),
                    directory,
                    TimeProvider.System,
                    Catalog.DefaultBusyTimeout,
                    CancellationToken.None
                )
                .GetAwaiter()
                .GetResult();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        return name;
    }
}

internal static class Builds
{
    public static NewBuild For(string image, string target = "local") =>
        new(image, target, BuildTrigger.Manual, "alice", "testing", $"sha256:{image}");

    public static Artifact Tarball(string image, string sha256 = "ab12") =>
        new()
        {
            Target = "local",
            Region = "local",
            Kind = "rootfs-tar-zst",
            Location = $"/data/artifacts/{image}/rootfs.tar.zst",
            Sha256 = sha256,
            SizeBytes = 123_456_789_012,
        };

    /// <summary>Starts and completes one build of <paramref name="image"/>, returning its version.</summary>
    public static async Task<ImageVersion> BuildVersionAsync(
        this ICatalog catalog,
        string image,
        DateTimeOffset at,
        IReadOnlyList<Artifact>? artifacts = null
    )
    {
        var build = await catalog.StartBuildAsync(For(image), ownerPid: 4242);
        return await catalog.CompleteBuildAsync(
            build.Id,
            artifacts ?? [Tarball(image)],
            [],
            VersionStatus.Built,
            at
        );
    }

    /// <summary>Versions are records holding a list, which records compare by reference; compare the list by items.</summary>
    public static void ShouldBeVersion(this ImageVersion? actual, ImageVersion expected)
    {
        actual.ShouldNotBeNull();
        (actual with { Artifacts = NoArtifacts, Evidence = NoEvidence }).ShouldBe(
            expected with
            {
                Artifacts = NoArtifacts,
                Evidence = NoEvidence,
            }
        );
        actual.Artifacts.ShouldBe(expected.Artifacts);
        actual.Evidence.ShouldBe(expected.Evidence);
    }

    private static readonly Artifact[] NoArtifacts = [];
    private static readonly EvidenceDocument[] NoEvidence = [];
}
