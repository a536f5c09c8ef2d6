using System.Data;
using System.Data.Common;

namespace ImageForge.Storage.Sql;

/// <summary>
/// What differs between the databases the catalog runs on. The catalog's statements are written once in SQL that
/// SQLite and PostgreSQL both accept; a dialect supplies only its schema folder and how it takes locks. Each database
/// also has its own plain schema files under <c>Schema/&lt;folder&gt;/NNNN_name.sql</c>.
/// </summary>
internal abstract class SqlDialect
{
    /// <summary>The folder under <c>Schema/</c> holding this database's migrations.</summary>
    public abstract string SchemaFolder { get; }

    /// <summary>
    /// Appended to the selects that read the row a write depends on (the build, the image) so that a concurrent
    /// writer of the same row waits. Empty when <see cref="BeginWriteTransaction"/> already serialises writers.
    /// </summary>
    public virtual string ForUpdate => "";

    /// <summary>Starts a transaction that will write.</summary>
    public virtual DbTransaction BeginWriteTransaction(DbConnection connection) =>
        connection.BeginTransaction(IsolationLevel.ReadCommitted);

    /// <summary>Starts a transaction that only reads, for a consistent view across several selects.</summary>
    public virtual DbTransaction BeginReadTransaction(DbConnection connection) =>
        connection.BeginTransaction(IsolationLevel.RepeatableRead);
}
