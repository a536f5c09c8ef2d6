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

                return 0;
            },
            cancellationToken,
            a =>
                a with
                {
                    Details = AuditChain.Details(
                        (
                            "channels",
                            moves
                                .Select(m => $"{m.Channel}: {m.From} -> {m.To ?? "(empty)"}")
                                .ToArray()
                        ),
                        ("flagged", flagged.Select(f => $"{f.Item1}@{f.Item2}").ToArray())
                    ),
                }
        );
        return new RevocationRecord(image, version, reason, audit.Time, moves, flagged);
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

    public async Task MarkRevocationAppliedAsync(
        long id,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        await connection.ExecuteAsync(
            Cmd(
                "UPDATE revocations SET applied_at = @At WHERE id = @Id AND applied_at IS NULL",
                new { Id = id, At = DbText.FromTime(at) },
                null,
                cancellationToken
            )
        );
    }
}
