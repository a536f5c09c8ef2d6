using System.Data.Common;
using Dapper;
using ImageForge.Core.Facts;

namespace ImageForge.Storage.Sql;

/// <summary>Versions' facts as rows of <c>version_facts</c> over any <see cref="SqlDialect"/>.</summary>
internal sealed class SqlFactsStore(
    SqlDialect dialect,
    Func<CancellationToken, Task<DbConnection>> connect
) : IFactsStore
{
    // A measurement is a row whose member is empty and whose value is set.
    private const string Measurement = "";

    private sealed record Row(string Version, string Name, string Member, double? Value);

    public async Task RecordFactsAsync(
        string image,
        string target,
        FactSnapshot facts,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(facts);
        await using var connection = await connect(cancellationToken);
        await using var transaction = await dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var key = new
        {
            Image = image,
            facts.Version,
            Target = target,
        };
        await connection.ExecuteAsync(
            new CommandDefinition(
                "DELETE FROM version_facts WHERE image = @Image AND version = @Version AND target = @Target",
                key,
                transaction,
                cancellationToken: cancellationToken
            )
        );
        var (sets, metrics) = facts.Flatten();
        var rows = sets.SelectMany(s =>
                s.Value.Select(m => new
                {
                    Image = image,
                    facts.Version,
                    Target = target,
                    Name = s.Key,
                    Member = m,
                    Value = (double?)null,
                })
            )
            .Concat(
                metrics.Select(m => new
                {
                    Image = image,
                    facts.Version,
                    Target = target,
                    Name = m.Key,
                    Member = Measurement,
                    Value = (double?)m.Value,
                })
            );
        await connection.ExecuteAsync(
            new CommandDefinition(
                """
                INSERT INTO version_facts (image, version, target, name, member, value)
                VALUES (@Image, @Version, @Target, @Name, @Member, @Value)
                """,
                rows,
                transaction,
                cancellationToken: cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<FactSnapshot>> HistoryAsync(
        string image,
        string target,
        string? exceptVersion,
        int limit,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await connect(cancellationToken);
        var rows = await connection.QueryAsync<Row>(
            new CommandDefinition(
                $"""
                SELECT f.version AS Version, f.name AS Name, f.member AS Member, f.value AS Value
                FROM version_facts f
                WHERE f.image = @Image AND f.target = @Target AND f.version IN (
                    SELECT v.version FROM image_versions v
                    WHERE v.image = @Image AND v.version <> coalesce(@Except, '')
                      AND v.status NOT IN ('{VersionStatusText.Pending}', '{VersionStatusText.Rejected}')
                      AND EXISTS (SELECT 1 FROM version_facts x
                                  WHERE x.image = v.image AND x.version = v.version AND x.target = @Target)
                    ORDER BY v.version_day DESC, v.version_seq DESC LIMIT @Limit)
                """,
                new
                {
                    Image = image,
                    Target = target,
                    Except = exceptVersion,
                    Limit = limit,
                },
                cancellationToken: cancellationToken
            )
        );
        return
        [
            .. rows.GroupBy(r => r.Version)
                .Select(Snapshot)
                .OrderBy(s => VersionOrder(s.Version).Day, StringComparer.Ordinal)
                .ThenBy(s => VersionOrder(s.Version).Sequence),
        ];
    }

    public async Task<FactSnapshot?> GetFactsAsync(
        string image,
        string version,
        string target,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await connect(cancellationToken);
        var rows = (
            await connection.QueryAsync<Row>(
                new CommandDefinition(
                    """
                    SELECT version AS Version, name AS Name, member AS Member, value AS Value
                    FROM version_facts WHERE image = @Image AND version = @Version AND target = @Target
                    """,
                    new
                    {
                        Image = image,
                        Version = version,
                        Target = target,
                    },
                    cancellationToken: cancellationToken
                )
            )
        ).ToList();
        return rows.Count == 0 ? null : Snapshot(rows.GroupBy(r => r.Version).Single());
    }

    private static FactSnapshot Snapshot(IGrouping<string, Row> rows)
    {
        var sets = rows.Where(r => r.Value is null)
            .GroupBy(r => r.Name, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g =>
                    (IReadOnlySet<string>)
                        new SortedSet<string>(g.Select(r => r.Member), StringComparer.Ordinal),
                StringComparer.Ordinal
            );
        var metrics = rows.Where(r => r.Value is not null)
            .ToDictionary(r => r.Name, r => r.Value!.Value, StringComparer.Ordinal);
        return FactSnapshot.Unflatten(rows.Key, sets, metrics);
    }

    // YYYY.MM.DD.N: the day as text, then N as a number (so .10 follows .9).
    private static (string Day, int Sequence) VersionOrder(string version)
    {
        var dot = version.LastIndexOf('.');
        return dot > 0 && int.TryParse(version[(dot + 1)..], out var n)
            ? (version[..dot], n)
            : (version, 0);
    }
}
