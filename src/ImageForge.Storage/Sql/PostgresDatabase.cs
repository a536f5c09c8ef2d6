using System.Data.Common;
using System.Globalization;
using Npgsql;

namespace ImageForge.Storage.Sql;

/// <summary>
/// The catalog in a PostgreSQL database, shared by workers on many machines. Connections come from one Npgsql data
/// source per catalog (its pool); every session waits at most the lock timeout for a row another session holds, so a
/// stuck worker shows as an error instead of a hang, and a session that sits idle inside a transaction for
/// <see cref="IdleInTransaction"/> is ended by the server: a write takes milliseconds, so such a session belongs to a
/// process that was paused (SIGSTOP) or cut off in the middle of one, and ending it releases the writer lock it held
/// for everyone else.
/// </summary>
internal sealed class PostgresDatabase : CatalogDatabase
{
    /// <summary>How long a session may sit idle inside a transaction before the server ends it.</summary>
    public static readonly TimeSpan IdleInTransaction = TimeSpan.FromSeconds(10);

    private readonly NpgsqlDataSource _source;
    private readonly TimeSpan _lockTimeout;

    public PostgresDatabase(string connectionString, TimeSpan lockTimeout)
    {
        var builder = Parse(connectionString);
        Name = Describe(builder);
        _lockTimeout = lockTimeout;
        builder.ApplicationName ??= "imageforge";
        WithSessionOptions(builder, lockTimeout);
        _source = NpgsqlDataSource.Create(builder);
    }

    /// <summary>Adds the catalog's session settings to the connection's <c>Options</c>.</summary>
    public static NpgsqlConnectionStringBuilder WithSessionOptions(
        NpgsqlConnectionStringBuilder builder,
        TimeSpan lockTimeout
    )
    {
        var options = SessionOptions(lockTimeout, IdleInTransaction);
        builder.Options = string.IsNullOrEmpty(builder.Options)
            ? options
            : $"{builder.Options} {options}";
        return builder;
    }

    /// <summary>The server settings every catalog session starts with (Npgsql's <c>Options</c>).</summary>
    public static string SessionOptions(TimeSpan lockTimeout, TimeSpan idleInTransaction) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"-c lock_timeout={(long)lockTimeout.TotalMilliseconds} -c idle_in_transaction_session_timeout={(long)idleInTransaction.TotalMilliseconds}"
        );

    public override SqlDialect Dialect => PostgresDialect.Instance;

    public override string Name { get; }

    /// <summary>
    /// The connection string as Npgsql reads it; an <see cref="ArgumentException"/> whose message says what is wrong
    /// (never the password) when it is not one.
    /// </summary>
    public static NpgsqlConnectionStringBuilder Parse(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new ArgumentException(
                "it is not a PostgreSQL connection string ("
                    + e.Message.TrimEnd('.')
                    + "); write it as "
                    + "Host=db.example.com;Port=5432;Username=imageforge;Database=imageforge",
                e
            );
        }

        return string.IsNullOrEmpty(builder.Host)
            ? throw new ArgumentException(
                "it names no Host; write it as Host=db.example.com;Port=5432;Username=imageforge;Database=imageforge"
            )
            : builder;
    }

    /// <summary>postgresql://user@host:port/database, never with the password.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"postgresql://{(string.IsNullOrEmpty(builder.Username) ? "" : builder.Username + "@")}{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}"
        );

    public override async Task<DbConnection> ConnectAsync(CancellationToken cancellationToken) =>
        await _source.OpenConnectionAsync(cancellationToken);

    public override async Task<long> SchemaVersionAsync(
        DbConnection connection,
        CancellationToken cancellationToken
    )
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT to_regclass('schema_migrations') IS NOT NULL";
        if (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
        {
            return 0;
        }

        command.CommandText = "SELECT coalesce(MAX(version), 0) FROM schema_migrations";
        return Convert.ToInt64(
            await command.ExecuteScalarAsync(cancellationToken),
            CultureInfo.InvariantCulture
        );
    }

    public override CatalogException FailedToOpen(DbException e) =>
        new($"Cannot open the catalog {Name}: {Explain(e)}", e);

    public override CatalogException Failed(DbException e) =>
        new($"The catalog {Name} failed: {Explain(e)}", e);

    public override void Dispose() => _source.Dispose();

    private string Explain(DbException e) =>
        e switch
        {
            PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable } =>
                $"a row it needed stayed locked by another session for {_lockTimeout.TotalSeconds:0.#} s. Check for "
                    + "a stuck imageforge worker (imageforge workers), then retry.",
            PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } p =>
                $"{p.MessageText}. Create the database (createdb) or correct the Database in IMAGEFORGE_DATABASE "
                    + "(or worker.yaml's database).",
            PostgresException
            {
                SqlState: PostgresErrorCodes.InvalidPassword
                    or PostgresErrorCodes.InvalidAuthorizationSpecification
            } p =>
                $"{p.MessageText}. Check the user and its password (PGPASSWORD, ~/.pgpass or Password= in "
                    + "IMAGEFORGE_DATABASE) and the server's pg_hba.conf.",
            PostgresException p =>
                $"{p.MessageText} (SQLSTATE {p.SqlState}). Check the database server's log, then retry.",
            _ =>
                $"{e.Message}{(e.InnerException is { } inner ? $" ({inner.Message})" : "")}. Check that "
                    + "PostgreSQL runs there and that the Host and Port in IMAGEFORGE_DATABASE (or worker.yaml's "
                    + "database) are right.",
        };
}
