using System.Data.Common;
using Dapper;
using ImageForge.Core.Audit;

namespace ImageForge.Storage.Sql;

/// <summary>
/// Appends to and reads the audit trail. Appending runs inside the caller's write transaction, so an action and its
/// event are committed together or not at all, and the write lock orders the chain.
/// </summary>
internal static class SqlAudit
{
    private const string Columns = """
        seq AS Seq, time AS Time, action AS Action, actor AS Actor, role AS Role, image AS Image, version AS Version,
        channel AS Channel, reason AS Reason, details AS Details, prev_hash AS PrevHash, hash AS Hash
        """;

    public static async Task<AuditEvent> AppendAsync(
        DbConnection connection,
        DbTransaction transaction,
        AuditEntry entry,
        CancellationToken cancellationToken
    )
    {
        // The head, not MAX(seq) of the events: a row deleted from the end must not let the chain quietly continue.
        var head = await connection.QuerySingleOrDefaultAsync<HeadRow>(
            new CommandDefinition(
                "SELECT seq AS Seq, hash AS Hash FROM audit_head WHERE id = 1",
                transaction: transaction,
                cancellationToken: cancellationToken
            )
        );
        var seq = (head?.Seq ?? 0) + 1;
        var previous = head?.Hash ?? AuditChain.Genesis;
        var stored = entry with { Time = DbText.ToTime(DbText.FromTime(entry.Time)) };
        var hash = AuditChain.Hash(seq, stored, previous);
        await connection.ExecuteAsync(
            new CommandDefinition(
                """
                INSERT INTO audit_events (seq, time, action, actor, role, image, version, channel, reason, details,
                                          prev_hash, hash)
                VALUES (@Seq, @Time, @Action, @Actor, @Role, @Image, @Version, @Channel, @Reason, @Details, @Prev,
                        @Hash);
                INSERT INTO audit_head (id, seq, hash) VALUES (1, @Seq, @Hash)
                    ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
                """,
                new
                {
                    Seq = seq,
                    Time = DbText.FromTime(stored.Time),
                    stored.Action,
                    stored.Actor,
                    stored.Role,
                    stored.Image,
                    stored.Version,
                    stored.Channel,
                    stored.Reason,
                    stored.Details,
                    Prev = previous,
                    Hash = hash,
                },
                transaction,
                cancellationToken: cancellationToken
            )
        );
        return new AuditEvent(seq, stored, previous, hash);
    }

    public static async Task<IReadOnlyList<AuditEvent>> ReadAsync(
        DbConnection connection,
        string? image,
        long afterSequence,
        int limit,
        CancellationToken cancellationToken
    )
    {
        var rows = await connection.QueryAsync<EventRow>(
            new CommandDefinition(
                $"""
                SELECT {Columns} FROM audit_events
                WHERE seq > @After AND (@Image IS NULL OR image = @Image)
                ORDER BY seq LIMIT @Limit
                """,
                new
                {
                    After = afterSequence,
                    Image = image,
                    Limit = limit,
                },
                cancellationToken: cancellationToken
            )
        );
        return [.. rows.Select(r => r.ToEvent())];
    }

    public static async Task<AuditVerification> VerifyAsync(
        DbConnection connection,
        DbTransaction transaction,
        CancellationToken cancellationToken
    )
    {
        var head = await connection.QuerySingleOrDefaultAsync<HeadRow>(
            new CommandDefinition(
                "SELECT seq AS Seq, hash AS Hash FROM audit_head WHERE id = 1",
                transaction: transaction,
                cancellationToken: cancellationToken
            )
        );
        var rows = await connection.QueryAsync<EventRow>(
            new CommandDefinition(
                $"SELECT {Columns} FROM audit_events ORDER BY seq",
                transaction: transaction,
                cancellationToken: cancellationToken
            )
        );
        return AuditChain.Verify(rows.Select(r => r.ToEvent()), head?.Seq);
    }

    private sealed class HeadRow
    {
        public long Seq { get; init; }
        public string Hash { get; init; } = "";
    }

    private sealed class EventRow
    {
        public long Seq { get; init; }
        public string Time { get; init; } = "";
        public string Action { get; init; } = "";
        public string Actor { get; init; } = "";
        public string Role { get; init; } = "";
        public string? Image { get; init; }
        public string? Version { get; init; }
        public string? Channel { get; init; }
        public string? Reason { get; init; }
        public string? Details { get; init; }
        public string PrevHash { get; init; } = "";
        public string Hash { get; init; } = "";

        public AuditEvent ToEvent() =>
            new(
                Seq,
                new AuditEntry
                {
                    Action = Action,
                    Actor = Actor,
                    Role = Role,
                    Time = DbText.ToTime(Time),
                    Image = Image,
                    Version = Version,
                    Channel = Channel,
                    Reason = Reason,
                    Details = Details,
                },
                PrevHash,
                Hash
            );
    }
}
