using System.Data.Common;
using Dapper;
using ImageForge.Core.Audit;
using ImageForge.Core.Promotion;

namespace ImageForge.Storage.Sql;

/// <summary>The promotion store: revocations, now and scheduled.</summary>
internal sealed partial class SqlPromotionStore
{
    public async Task<RevocationRecord> RevokeAsync(
        string image,
        string version,
        string reason,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    )
    {
        var moves = new List<ChannelMove>();
        var flagged = new List<(string, string)>();
        await WriteAsync(
            audit,
            async (c, t) =>
            {
                await RevokeInAsync(
                    c,
                    t,
                    image,
                    version,
                    reason,
                    audit,
                    moves,
                    flagged,
                    cancellationToken
                );
                return 0;
            },
            cancellationToken,
            a => WithMoves(a, moves, flagged)
        );
        return new RevocationRecord(image, version, reason, audit.Time, moves, flagged);
    }

    /// <summary>
    /// Claims the due scheduled revocation and, when its version is still built or rejected, revokes it, all in one
    /// write transaction (the catalog's writer lock): marked applied, status, channels, flags and the
    /// <paramref name="audit"/> event together. Of several appliers racing (workers, promotion commands), exactly one
    /// claims it; the others get <see cref="ScheduledRevocationClaim.AppliedElsewhere"/> and change nothing.
    /// </summary>
    public async Task<ScheduledRevocationClaim> ClaimScheduledRevocationAsync(
        ScheduledRevocation due,
        DateTimeOffset at,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(due);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var claimed = await connection.ExecuteAsync(
            Cmd(
                "UPDATE revocations SET applied_at = @At WHERE id = @Id AND applied_at IS NULL",
                new { due.Id, At = DbText.FromTime(at) },
                transaction,
                cancellationToken
            )
        );
        if (claimed == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return ScheduledRevocationClaim.AppliedElsewhere;
        }

        var status = await connection.ExecuteScalarAsync<string?>(
            Cmd(
                "SELECT status FROM image_versions WHERE image = @Image AND version = @Version",
                new { due.Image, due.Version },
                transaction,
                cancellationToken
            )
        );
        if (status != VersionStatusText.Built && status != VersionStatusText.Rejected)
        {
            // Revoked meanwhile, deleted, or gone: nothing left to do but mark it applied.
            await transaction.CommitAsync(cancellationToken);
            return ScheduledRevocationClaim.NothingToRevoke;
        }

        var moves = new List<ChannelMove>();
        var flagged = new List<(string, string)>();
        await RevokeInAsync(
            connection,
            transaction,
            due.Image,
            due.Version,
            due.Reason,
            audit,
            moves,
            flagged,
            cancellationToken
        );
        await SqlAudit.AppendAsync(
            connection,
            transaction,
            WithMoves(audit, moves, flagged),
            cancellationToken
        );
        await transaction.CommitAsync(cancellationToken);
        return new ScheduledRevocationClaim(
            true,
            new RevocationRecord(due.Image, due.Version, due.Reason, audit.Time, moves, flagged)
        );
    }

    private static AuditEntry WithMoves(
        AuditEntry a,
        List<ChannelMove> moves,
        List<(string, string)> flagged
    ) =>
        a with
        {
            Details = AuditChain.Details(
                (
                    "channels",
                    moves.Select(m => $"{m.Channel}: {m.From} -> {m.To ?? "(empty)"}").ToArray()
                ),
                ("flagged", flagged.Select(f => $"{f.Item1}@{f.Item2}").ToArray())
            ),
        };

    // The revocation's writes inside the caller's write transaction: status, channel pointers, flags on children.
    private static async Task RevokeInAsync(
        DbConnection c,
        DbTransaction t,
        string image,
        string version,
        string reason,
        AuditEntry audit,
        List<ChannelMove> moves,
        List<(string, string)> flagged,
        CancellationToken cancellationToken
    )
    {
        await c.ExecuteAsync(
            Cmd(
                $"UPDATE image_versions SET status = '{VersionStatusText.Revoked}' WHERE image = @Image AND version = @Version",
                new { Image = image, Version = version },
                t,
                cancellationToken
            )
        );
        var channels = await c.QueryAsync<string>(
            Cmd(
                "SELECT channel FROM channel_pointers WHERE image = @Image AND version = @Version ORDER BY channel",
                new { Image = image, Version = version },
                t,
                cancellationToken
            )
        );
        foreach (var channel in channels)
        {
            // The newest earlier assignment of a version still built, after the revocation above.
            var fallback = await c.ExecuteScalarAsync<string?>(
                Cmd(
                    $"""
                    SELECT a.version FROM channel_assignments a
                    JOIN image_versions v ON v.image = a.image AND v.version = a.version
                    WHERE a.image = @Image AND a.channel = @Channel AND v.status = '{VersionStatusText.Built}'
                    ORDER BY a.id DESC LIMIT 1
                    """,
                    new { Image = image, Channel = channel },
                    t,
                    cancellationToken
                )
            );
            await AssignAsync(
                c,
                t,
                image,
                channel,
                fallback,
                AssignmentActions.Revoke,
                audit with
                {
                    Channel = channel,
                },
                cancellationToken
            );
            moves.Add(new ChannelMove(channel, version, fallback));
        }

        var children = await c.QueryAsync<(string Image, string Version)>(
            Cmd(
                """
                SELECT image, version FROM version_lineage
                WHERE parent_image = @Image AND parent_version = @Version ORDER BY image, version
                """,
                new { Image = image, Version = version },
                t,
                cancellationToken
            )
        );
        foreach (var child in children)
        {
            await c.ExecuteAsync(
                Cmd(
                    """
                    INSERT INTO version_flags (image, version, flag, reason, at)
                    VALUES (@Image, @Version, 'parent-revoked', @Reason, @At)
                    ON CONFLICT (image, version, flag) DO NOTHING
                    """,
                    new
                    {
                        child.Image,
                        child.Version,
                        Reason = $"built on {image}@{version}, revoked: {reason}",
                        At = DbText.FromTime(audit.Time),
                    },
                    t,
                    cancellationToken
                )
            );
            flagged.Add(child);
        }
    }

    public Task ScheduleRevocationAsync(
        ScheduledRevocation revocation,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) =>
        WriteAsync(
            audit,
            (c, t) =>
                c.ExecuteAsync(
                    Cmd(
                        """
                        INSERT INTO revocations (image, version, reason, effective_at, actor, role)
                        VALUES (@Image, @Version, @Reason, @At, @Actor, @Role)
                        """,
                        new
                        {
                            revocation.Image,
                            revocation.Version,
                            revocation.Reason,
                            At = DbText.FromTime(revocation.EffectiveAt),
                            revocation.Actor,
                            revocation.Role,
                        },
                        t,
                        cancellationToken
                    )
                ),
            cancellationToken
        );

    public async Task<IReadOnlyList<ScheduledRevocation>> DueRevocationsAsync(
        DateTimeOffset now,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<(
            long Id,
            string Image,
            string Version,
            string Reason,
            string At,
            string Actor,
            string Role
        )>(
            Cmd(
                """
                SELECT id, image, version, reason, effective_at, actor, role FROM revocations
                WHERE applied_at IS NULL AND effective_at <= @Now ORDER BY effective_at, id
                """,
                new { Now = DbText.FromTime(now) },
                null,
                cancellationToken
            )
        );
        return
        [
            .. rows.Select(r => new ScheduledRevocation(
                r.Id,
                r.Image,
                r.Version,
                r.Reason,
                DbText.ToTime(r.At),
                r.Actor,
                r.Role
            )),
        ];
    }
}
