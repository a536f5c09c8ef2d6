using System.Data.Common;
using Dapper;
using ImageForge.Core.Audit;
using ImageForge.Core.Promotion;

namespace ImageForge.Storage.Sql;

/// <summary>The promotion store: promotions and their steps.</summary>
internal sealed partial class SqlPromotionStore
{
    public async Task<PromotionRecord> StartPromotionAsync(
        string image,
        string version,
        string channel,
        string actor,
        string? skipReason,
        IReadOnlyList<DistributionStep> steps,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    )
    {
        var id = await WriteAsync(
            audit,
            async (c, t) =>
            {
                await ThrowIfRunningAsync(c, t, image, channel, cancellationToken);
                // A failed promotion of another version gives way: this one supersedes it.
                await c.ExecuteAsync(
                    Cmd(
                        """
                        UPDATE promotions SET state = 'abandoned', ended_at = @At
                        WHERE image = @Image AND channel = @Channel AND state = 'failed'
                        """,
                        new
                        {
                            Image = image,
                            Channel = channel,
                            At = DbText.FromTime(audit.Time),
                        },
                        t,
                        cancellationToken
                    )
                );
                var id = await c.ExecuteScalarAsync<long>(
                    Cmd(
                        """
                        INSERT INTO promotions (image, version, channel, state, actor, skip_reason, started_at)
                        VALUES (@Image, @Version, @Channel, 'running', @Actor, @SkipReason, @At) RETURNING id
                        """,
                        new
                        {
                            Image = image,
                            Version = version,
                            Channel = channel,
                            Actor = actor,
                            SkipReason = skipReason,
                            At = DbText.FromTime(audit.Time),
                        },
                        t,
                        cancellationToken
                    )
                );
                await c.ExecuteAsync(
                    Cmd(
                        """
                        INSERT INTO promotion_steps (promotion_id, position, target, region, status, attempts)
                        VALUES (@Id, @Position, @Target, @Region, 'pending', 0)
                        """,
                        steps.Select(
                            (s, i) =>
                                new
                                {
                                    Id = id,
                                    Position = i,
                                    s.Target,
                                    s.Region,
                                }
                        ),
                        t,
                        cancellationToken
                    )
                );
                return id;
            },
            cancellationToken,
            a =>
                a with
                {
                    Details = AuditChain.Details(
                        ("steps", steps.Select(s => s.ToString()).ToArray())
                    ),
                }
        );
        return (await GetPromotionAsync(id, cancellationToken))!;
    }

    public async Task<PromotionRecord?> FindOpenPromotionAsync(
        string image,
        string channel,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var id = await connection.ExecuteScalarAsync<long?>(
            Cmd(
                """
                SELECT id FROM promotions
                WHERE image = @Image AND channel = @Channel AND state IN ('running', 'failed')
                ORDER BY id DESC LIMIT 1
                """,
                new { Image = image, Channel = channel },
                null,
                cancellationToken
            )
        );
        return id is null ? null : await GetPromotionAsync(id.Value, cancellationToken);
    }

    public async Task<PromotionRecord> ResumePromotionAsync(
        long promotionId,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    )
    {
        await WriteAsync(
            audit,
            async (c, t) =>
            {
                var changed = await c.ExecuteAsync(
                    Cmd(
                        "UPDATE promotions SET state = 'running' WHERE id = @Id AND state = 'failed'",
                        new { Id = promotionId },
                        t,
                        cancellationToken
                    )
                );
                if (changed == 0)
                {
                    throw new PromotionConflictException(
                        $"promotion #{promotionId} is not waiting to be resumed: another process is running it or it has ended; "
                            + "check with 'imageforge channels show'"
                    );
                }

                return 0;
            },
            cancellationToken
        );
        return (await GetPromotionAsync(promotionId, cancellationToken))!;
    }

    public async Task RecordStepAsync(
        long promotionId,
        int position,
        StepStatus status,
        string detail,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        await connection.ExecuteAsync(
            Cmd(
                """
                UPDATE promotion_steps SET status = @Status, detail = @Detail, updated_at = @At, attempts = attempts + 1
                WHERE promotion_id = @Id AND position = @Position
                """,
                new
                {
                    Id = promotionId,
                    Position = position,
                    Status = DbText.FromEnum(status),
                    Detail = detail,
                    At = DbText.FromTime(at),
                },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
    }

    public Task FailPromotionAsync(
        long promotionId,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) =>
        WriteAsync(
            audit,
            (c, t) =>
                c.ExecuteAsync(
                    Cmd(
                        "UPDATE promotions SET state = 'failed', ended_at = @At WHERE id = @Id AND state = 'running'",
                        new { Id = promotionId, At = DbText.FromTime(audit.Time) },
                        t,
                        cancellationToken
                    )
                ),
            cancellationToken
        );

    public async Task<ChannelAssignment> CompletePromotionAsync(
        long promotionId,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    )
    {
        var id = await WriteAsync(
            audit,
            async (c, t) =>
            {
                var p = await c.QuerySingleAsync<PromotionRow>(
                    Cmd(
                        $"SELECT {PromotionColumns} FROM promotions WHERE id = @Id",
                        new { Id = promotionId },
                        t,
                        cancellationToken
                    )
                );
                var unfinished = await c.ExecuteScalarAsync<long>(
                    Cmd(
                        "SELECT COUNT(*) FROM promotion_steps WHERE promotion_id = @Id AND status <> 'succeeded'",
                        new { Id = promotionId },
                        t,
                        cancellationToken
                    )
                );
                if (p.State != "running" || unfinished > 0)
                {
                    throw new PromotionConflictException(
                        $"promotion #{promotionId} cannot complete: it is {p.State} with {unfinished} unfinished step(s)"
                    );
                }

                await c.ExecuteAsync(
                    Cmd(
                        "UPDATE promotions SET state = 'completed', ended_at = @At WHERE id = @Id",
                        new { Id = promotionId, At = DbText.FromTime(audit.Time) },
                        t,
                        cancellationToken
                    )
                );
                return await AssignAsync(
                    c,
                    t,
                    p.Image,
                    p.Channel,
                    p.Version,
                    AssignmentActions.Promote,
                    audit,
                    cancellationToken
                );
            },
            cancellationToken
        );
        return await AssignmentAsync(id, cancellationToken);
    }

    private static async Task ThrowIfRunningAsync(
        DbConnection c,
        DbTransaction t,
        string image,
        string channel,
        CancellationToken cancellationToken
    )
    {
        var running = await c.QuerySingleOrDefaultAsync<PromotionRow>(
            Cmd(
                $"SELECT {PromotionColumns} FROM promotions WHERE image = @Image AND channel = @Channel AND state = 'running'",
                new { Image = image, Channel = channel },
                t,
                cancellationToken
            )
        );
        if (running is not null)
        {
            throw new PromotionConflictException(
                $"conflict: promotion #{running.Id} of {image}@{running.Version} to {channel} by {running.Actor} is running "
                    + $"(started {running.StartedAt}); nothing was changed. Wait for it to finish, then retry"
            );
        }
    }

    private async Task<PromotionRecord?> GetPromotionAsync(
        long id,
        CancellationToken cancellationToken
    )
    {
        await using var connection = await _connect(cancellationToken);
        var p = await connection.QuerySingleOrDefaultAsync<PromotionRow>(
            Cmd(
                $"SELECT {PromotionColumns} FROM promotions WHERE id = @Id",
                new { Id = id },
                null,
                cancellationToken
            )
        );
        if (p is null)
        {
            return null;
        }

        var steps = await connection.QueryAsync<StepRow>(
            Cmd(
                """
                SELECT position AS Position, target AS Target, region AS Region, status AS Status, attempts AS Attempts,
                       detail AS Detail, updated_at AS UpdatedAt
                FROM promotion_steps WHERE promotion_id = @Id ORDER BY position
                """,
                new { Id = id },
                null,
                cancellationToken
            )
        );
        return new PromotionRecord(
            p.Id,
            p.Image,
            p.Version,
            p.Channel,
            DbText.ToEnum<PromotionState>(p.State, "promotions.state"),
            p.Actor,
            p.SkipReason,
            DbText.ToTime(p.StartedAt),
            DbText.ToTimeOrNull(p.EndedAt),
            [
                .. steps.Select(s => new PromotionStep(
                    (int)s.Position,
                    s.Target,
                    s.Region,
                    DbText.ToEnum<StepStatus>(s.Status, "promotion_steps.status"),
                    (int)s.Attempts,
                    s.Detail,
                    DbText.ToTimeOrNull(s.UpdatedAt)
                )),
            ]
        );
    }

    private sealed class PromotionRow
    {
        public long Id { get; init; }
        public string Image { get; init; } = "";
        public string Version { get; init; } = "";
        public string Channel { get; init; } = "";
        public string State { get; init; } = "";
        public string Actor { get; init; } = "";
        public string? SkipReason { get; init; }
        public string StartedAt { get; init; } = "";
        public string? EndedAt { get; init; }
    }

    private sealed class StepRow
    {
        public long Position { get; init; }
        public string Target { get; init; } = "";
        public string Region { get; init; } = "";
        public string Status { get; init; } = "";
        public long Attempts { get; init; }
        public string? Detail { get; init; }
        public string? UpdatedAt { get; init; }
    }
}
