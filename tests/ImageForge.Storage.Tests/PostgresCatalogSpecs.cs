using System.Net;
using System.Net.Sockets;
using Dapper;
using ImageForge.Storage.Sql;
using ImageForge.TestUtils;
using Npgsql;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

/// <summary>What only the PostgreSQL catalog has: a server to reach, a login, many sessions migrating and writing.</summary>
public sealed class PostgresCatalogSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-pg-specs");
    private readonly List<Catalog> _opened = [];

    public void Dispose()
    {
        foreach (var catalog in _opened)
        {
            catalog.Dispose();
        }

        _dir.Dispose();
    }

    [Fact(Timeout = 60_000)]
    public async Task Four_processes_opening_a_new_database_at_once_apply_each_migration_exactly_once()
    {
        var server = ThrowawayPostgres.Shared;
        var connectionString = server.ConnectionString(server.CreateDatabase());

        var catalogs = await Task.WhenAll(
            Enumerable.Range(0, 4).Select(_ => Task.Run(() => OpenAsync(connectionString)))
        );

        await using var db = await Raw.OpenPostgresAsync(connectionString);
        (await Raw.MigrationsAsync(db))
            .Select(m => m.Version)
            .ShouldBe(
                Enumerable
                    .Range(1, SchemaMigrator.CountEmbedded(PostgresDialect.Instance))
                    .Select(v => (long)v)
            );
        catalogs.ShouldAllBe(c => c.Location.StartsWith("postgresql://imageforge@127.0.0.1:"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_database_migrated_by_a_newer_imageforge_is_refused_before_anything_changes()
    {
        var server = ThrowawayPostgres.Shared;
        var connectionString = server.ConnectionString(server.CreateDatabase());
        (await OpenAsync(connectionString)).Dispose();
        await using (var db = await Raw.OpenPostgresAsync(connectionString))
        {
            await Raw.ExecuteAsync(
                db,
                "INSERT INTO schema_migrations (version, applied_at) VALUES (99, 'later')"
            );
        }

        var refused = await Should.ThrowAsync<CatalogTooNewException>(() =>
            OpenAsync(connectionString)
        );

        refused.Message.ShouldContain("postgresql://imageforge@127.0.0.1:");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_server_that_does_not_answer_fails_naming_the_catalog_and_the_fix_but_never_the_password()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var failed = await Should.ThrowAsync<CatalogException>(() =>
            OpenAsync(
                $"Host=127.0.0.1;Port={port};Username=ci;Password=Pa55-never-shown;Database=catalog;Timeout=3"
            )
        );

        failed.Message.ShouldContain($"postgresql://ci@127.0.0.1:{port}/catalog");
        failed.Message.ShouldContain("Check that PostgreSQL runs there");
        failed.Message.ShouldNotContain("Pa55-never-shown");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_wrong_password_is_refused_naming_the_user_and_where_the_password_comes_from()
    {
        var builder = new NpgsqlConnectionStringBuilder(
            ThrowawayPostgres.Shared.ConnectionString("postgres")
        )
        {
            Password = "wrong-Pa55-never-shown",
        };

        var failed = await Should.ThrowAsync<CatalogException>(() => OpenAsync(builder.ToString()));

        failed.Message.ShouldContain("password authentication failed for user \"imageforge\"");
        failed.Message.ShouldContain("PGPASSWORD, ~/.pgpass or Password=");
        failed.Message.ShouldNotContain("wrong-Pa55-never-shown");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_database_that_does_not_exist_is_named_with_how_to_create_it()
    {
        var failed = await Should.ThrowAsync<CatalogException>(() =>
            OpenAsync(ThrowawayPostgres.Shared.ConnectionString("no_such_catalog"))
        );

        failed.Message.ShouldContain("database \"no_such_catalog\" does not exist");
        failed.Message.ShouldContain("createdb");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_write_kept_waiting_past_the_lock_timeout_fails_naming_the_catalog_while_reads_go_on()
    {
        // Arrange: another session holds the writers' lock, as a stuck worker in the middle of a write would.
        using var data = new TempDataDirectory(CatalogBackend.Postgres);
        var catalog = await data.OpenAsync(busyTimeout: TimeSpan.FromSeconds(1));
        await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 7);
        await using var other = await data.RawAsync();
        await using var held = await other.BeginTransactionAsync();
        await other.ExecuteAsync(
            "SELECT pg_advisory_xact_lock(@Key)",
            new { Key = PostgresDialect.WriterLock },
            held
        );

        // Act
        var listed = await catalog.ListBuildsAsync();
        var failed = await Should.ThrowAsync<CatalogException>(() =>
            catalog.StartBuildAsync(Builds.For("web"), ownerPid: 7)
        );

        // Assert
        listed.Count.ShouldBe(1);
        failed.Message.ShouldContain(catalog.Location);
        failed.Message.ShouldContain("stayed locked by another session for 1 s");
        await held.RollbackAsync();
        (await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 7)).Id.ShouldBe("2");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_session_paused_inside_a_write_is_ended_by_the_server_so_the_writer_lock_comes_back()
    {
        // Arrange: a session with the catalog's own settings (idle timeout shortened to 1 s) takes the writers' lock
        // and then sits idle, as a worker stopped with SIGSTOP in the middle of a write would.
        using var data = new TempDataDirectory(CatalogBackend.Postgres);
        var catalog = await data.OpenAsync();
        await using var paused = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(data.ConnectionString)
            {
                Pooling = false,
                Options = PostgresDatabase.SessionOptions(
                    Catalog.DefaultBusyTimeout,
                    TimeSpan.FromSeconds(1)
                ),
            }.ToString()
        );
        await paused.OpenAsync();
        var held = await paused.BeginTransactionAsync();
        await paused.ExecuteAsync(
            "SELECT pg_advisory_xact_lock(@Key)",
            new { Key = PostgresDialect.WriterLock },
            held
        );

        // Act: a write of another session waits for the lock, well short of its 30 s lock timeout.
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 7);

        // Assert: the server ended the idle session; its transaction is gone with it.
        build.Id.ShouldBe("1");
        await Should.ThrowAsync<NpgsqlException>(() => paused.ExecuteAsync("SELECT 1", null, held));
        PostgresDatabase
            .SessionOptions(TimeSpan.FromSeconds(30), PostgresDatabase.IdleInTransaction)
            .ShouldBe("-c lock_timeout=30000 -c idle_in_transaction_session_timeout=10000");
    }

    [Theory]
    [InlineData("Hots=db", "not a PostgreSQL connection string")]
    [InlineData("Username=imageforge;Database=catalog", "names no Host")]
    public void A_connection_string_Npgsql_cannot_use_is_explained(string value, string problem) =>
        Catalog.ConnectionStringProblem(value).ShouldNotBeNull().ShouldContain(problem);

    private async Task<Catalog> OpenAsync(string connectionString)
    {
        var catalog = await Catalog.OpenPostgresAsync(
            connectionString,
            _dir.Path,
            TimeProvider.System,
            Catalog.DefaultBusyTimeout,
            CancellationToken.None
        );
        lock (_opened)
        {
            _opened.Add(catalog);
        }

        return catalog;
    }
}
