using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using ImageForge.Core.Artifacts;

namespace ImageForge.Storage.Sql;

/// <summary>One embedded schema file: <c>Schema/&lt;dialect&gt;/NNNN_name.sql</c>.</summary>
internal sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// Brings a database to the newest schema this build knows. Each migration runs in its own write transaction and is
/// recorded in <c>schema_migrations</c> in that same transaction, so a crash leaves either all of a migration or none,
/// and two processes opening a new catalog at once apply each migration exactly once.
/// </summary>
internal sealed partial class SchemaMigrator
{
    private const string CreateMigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    BIGINT  NOT NULL PRIMARY KEY,
            applied_at TEXT    NOT NULL
        )
        """;

    private readonly SqlDialect _dialect;
    private readonly TimeProvider _time;

    public SchemaMigrator(SqlDialect dialect, TimeProvider time)
        : this(dialect, time, Load(dialect)) { }

    public SchemaMigrator(
        SqlDialect dialect,
        TimeProvider time,
        IReadOnlyList<Migration> migrations
    )
    {
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException(
                    $"Schema files for {dialect.SchemaFolder} must be numbered 1, 2, 3, ... without gaps; found "
                        + $"{string.Join(", ", migrations.Select(m => m.Version))}."
                );
            }
        }

        _dialect = dialect;
        _time = time;
        Migrations = migrations;
    }

    public IReadOnlyList<Migration> Migrations { get; }

    public int LatestVersion => Migrations.Count;

    /// <summary>How many schema files of the dialect are embedded (the newest version), without reading them.</summary>
    public static int CountEmbedded(SqlDialect dialect)
    {
        var prefix = ResourcePrefix(dialect);
        return typeof(SchemaMigrator)
            .Assembly.GetManifestResourceNames()
            .Count(r => r.StartsWith(prefix, StringComparison.Ordinal));
    }

    // The SDK names embedded files <root namespace>.<folders>.<file>.
    private static string ResourcePrefix(SqlDialect dialect) =>
        $"ImageForge.Storage.Schema.{dialect.SchemaFolder}.";

    /// <summary>The dialect's schema files embedded in this assembly, in version order.</summary>
    public static IReadOnlyList<Migration> Load(SqlDialect dialect)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var prefix = ResourcePrefix(dialect);
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var match = FileName().Match(resource[prefix.Length..]);
            if (!match.Success)
            {
                throw new InvalidOperationException(
                    $"Embedded schema file '{resource}' is not named NNNN_name.sql; rename it."
                );
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(
                new Migration(
                    int.Parse(match.Groups["version"].Value, CultureInfo.InvariantCulture),
                    match.Groups["name"].Value,
                    reader.ReadToEnd()
                )
            );
        }

        return [.. migrations.OrderBy(m => m.Version)];
    }

    /// <summary>
    /// Applies every migration newer than the database's. Refuses, before changing anything, a database that a newer
    /// ImageForge has migrated past what this one knows.
    /// </summary>
    /// <param name="connection">An open connection to the database.</param>
    /// <param name="database">The database's name in errors (its file).</param>
    /// <param name="dataDirectory">
    /// The data directory the catalog is in: migrations that store locations relative to it read it as
    /// <c>@DataDir</c> (with a trailing '/'); null leaves such rows as they are.
    /// </param>
    /// <param name="cancellationToken">Cancels between statements.</param>
    /// <returns>The versions applied now (empty when the database was already current).</returns>
    public async Task<IReadOnlyList<int>> ApplyAsync(
        DbConnection connection,
        string database,
        string? dataDirectory = null,
        CancellationToken cancellationToken = default
    )
    {
        var parameters = new
        {
            DataDir = dataDirectory is null ? null : FileSystemArtifactStore.Prefix(dataDirectory),
        };
        await using var schemaLock = await _dialect.LockSchemaAsync(connection, cancellationToken);
        await connection.ExecuteAsync(
            new CommandDefinition(CreateMigrationsTable, cancellationToken: cancellationToken)
        );
        var current = await CurrentVersionAsync(connection, null, cancellationToken);
        if (current > LatestVersion)
        {
            throw new CatalogTooNewException(database, current, LatestVersion);
        }

        var applied = new List<int>();
        foreach (var migration in Migrations.Where(m => m.Version > current))
        {
            await using var transaction = await _dialect.BeginWriteTransactionAsync(
                connection,
                cancellationToken
            );

            // Another process may have applied it while this one waited for the write lock.
            var now = await CurrentVersionAsync(connection, transaction, cancellationToken);
            if (now >= migration.Version)
            {
                continue;
            }

            await connection.ExecuteAsync(
                new CommandDefinition(
                    migration.Sql,
                    parameters,
                    transaction,
                    cancellationToken: cancellationToken
                )
            );
            await connection.ExecuteAsync(
                new CommandDefinition(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (@Version, @AppliedAt)",
                    new { migration.Version, AppliedAt = DbText.FromTime(_time.GetUtcNow()) },
                    transaction,
                    cancellationToken: cancellationToken
                )
            );
            await transaction.CommitAsync(cancellationToken);
            applied.Add(migration.Version);
        }

        return applied;
    }

    private static async Task<int> CurrentVersionAsync(
        DbConnection connection,
        DbTransaction? transaction,
        CancellationToken cancellationToken
    ) =>
        (int)(
            await connection.ExecuteScalarAsync<long?>(
                new CommandDefinition(
                    "SELECT MAX(version) FROM schema_migrations",
                    transaction: transaction,
                    cancellationToken: cancellationToken
                )
            ) ?? 0
        );

    [GeneratedRegex(
        @"^(?<version>[0-9]{4})_(?<name>[a-z0-9_]+)\.sql$",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex FileName();
}
