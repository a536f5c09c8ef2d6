using System.Data.Common;

namespace ImageForge.Storage.Sql;

/// <summary>
/// One database the catalog can live in: how to connect to it, how to tell its schema version cheaply, and how its
/// failures read to a user. The statements themselves are the same for every database (<see cref="SqlDialect"/>).
/// </summary>
internal abstract class CatalogDatabase : IDisposable
{
    public abstract SqlDialect Dialect { get; }

    /// <summary>What messages call the catalog: its file, or the PostgreSQL database without any password.</summary>
    public abstract string Name { get; }

    /// <summary>An open connection, borrowed from the provider's pool.</summary>
    public abstract Task<DbConnection> ConnectAsync(CancellationToken cancellationToken);

    /// <summary>The newest applied migration, or 0 when the database has none yet.</summary>
    public abstract Task<long> SchemaVersionAsync(
        DbConnection connection,
        CancellationToken cancellationToken
    );

    /// <summary>Settings the database keeps for itself, made before the first migration runs.</summary>
    public virtual Task PrepareAsync(
        DbConnection connection,
        CancellationToken cancellationToken
    ) => Task.CompletedTask;

    /// <summary>The catalog's error for a failure of this database while opening it.</summary>
    public abstract CatalogException FailedToOpen(DbException e);

    /// <summary>The catalog's error for a failure of this database during an operation.</summary>
    public abstract CatalogException Failed(DbException e);

    /// <summary>Closes the pooled connections.</summary>
    public abstract void Dispose();
}
