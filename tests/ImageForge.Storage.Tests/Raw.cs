using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ImageForge.Storage.Tests;

/// <summary>Direct access to a catalog file, to check what is stored and to plant what the code would not write.</summary>
internal static class Raw
{
    public static async Task<DbConnection> OpenPostgresAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ToString()
        );
        await connection.OpenAsync();
        return connection;
    }

    public static async Task<DbConnection> OpenAsync(string path)
    {
        // Unpooled, so the file is released when the test's connection is disposed.
        var connection = new SqliteConnection(
            new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()
        );
        await connection.OpenAsync();
        return connection;
    }

    public static Task<T?> ScalarAsync<T>(DbConnection db, string sql, object? parameters = null) =>
        db.ExecuteScalarAsync<T>(sql, parameters);

    public static Task<int> ExecuteAsync(DbConnection db, string sql, object? parameters = null) =>
        db.ExecuteAsync(sql, parameters);

    public static async Task<IReadOnlyList<AppliedMigration>> MigrationsAsync(DbConnection db) =>
        [
            .. await db.QueryAsync<AppliedMigration>(
                "SELECT version AS Version, applied_at AS AppliedAt FROM schema_migrations ORDER BY version"
            ),
        ];

    internal sealed record AppliedMigration(long Version, string AppliedAt);
}
