using System.Data.Common;
using Dapper;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;

namespace ImageForge.Storage.Sql;

/// <summary>
/// Channels, promotions, approvals, revocations, lineage, retention and the audit trail over any
/// <see cref="SqlDialect"/>. Every change is one write transaction that also appends its audit event.
/// </summary>
internal sealed class SqlPromotionStore : IPromotionStore, IAuditLog
{
    private const string AssignmentColumns = """
        id AS Id, image AS Image, channel AS Channel, version AS Version, previous_version AS PreviousVersion,
        action AS Action, actor AS Actor, reason AS Reason, at AS At
        """;

    private const string PromotionColumns = """
        id AS Id, image AS Image, version AS Version, channel AS Channel, state AS State, actor AS Actor,
        skip_reason AS SkipReason, started_at AS StartedAt, ended_at AS EndedAt
        """;

    private readonly SqlDialect _dialect;
    private readonly Func<CancellationToken, Task<DbConnection>> _connect;

    public SqlPromotionStore(
        SqlDialect dialect,
        Func<CancellationToken, Task<DbConnection>> connect
    )
    {
        _dialect = dialect;
        _connect = connect;
    }

    public async Task<IReadOnlyList<ChannelState>> GetChannelsAsync(
        string image,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<(string Channel, string? Version, string At)>(
            Cmd(
                """
                SELECT p.channel, p.version, a.at FROM channel_pointers p
                JOIN channel_assignments a ON a.id = p.assignment_id
                WHERE p.image = @Image ORDER BY p.channel
                """,
                new { Image = image },
                null,
                cancellationToken
            )
        );
        return
        [
            .. rows.Select(r => new ChannelState(image, r.Channel, r.Version, DbText.ToTime(r.At))),
        ];
    }

    public async Task<IReadOnlyList<ChannelAssignment>> GetHistoryAsync(
        string image,
        string? channel = null,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        return await HistoryAsync(connection, null, image, channel, cancellationToken);
    }

    public async Task<IReadOnlyList<Approval>> GetApprovalsAsync(
        string image,
        string version,
        string channel,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<(
            string Actor,
            string Role,
            string At,
            string? Reason
        )>(
            Cmd(
                """
                SELECT actor, role, at, reason FROM approvals
                WHERE image = @Image AND version = @Version AND channel = @Channel ORDER BY at, actor
                """,
                new
                {
                    Image = image,
                    Version = version,
                    Channel = channel,
                },
                null,
                cancellationToken
            )
        );
        return
        [
            .. rows.Select(r => new Approval(
                image,
                version,
                channel,
                r.Actor,
                r.Role,
                DbText.ToTime(r.At),
                r.Reason
            )),
        ];
    }

    public Task AddApprovalAsync(
        Approval approval,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) =>
        WriteAsync(
            audit,
            (c, t) =>
                c.ExecuteAsync(
                    Cmd(
                        """
                        INSERT INTO approvals (image, version, channel, actor, role, at, reason)
                        VALUES (@Image, @Version, @Channel, @Actor, @Role, @At, @Reason)
                        ON CONFLICT (image, version, channel, actor) DO UPDATE
                            SET role = excluded.role, at = excluded.at, reason = excluded.reason
                        """,
                        new
                        {
                            approval.Image,
                            approval.Version,
                            approval.Channel,
                            approval.Actor,
                            approval.Role,
                            At = DbText.FromTime(approval.At),
                            approval.Reason,
                        },
                        t,
                        cancellationToken
                    )
                ),
            cancellationToken
        );

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
        await using var transaction = _dialect.BeginWriteTransaction(connection);
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

    public async Task<ChannelAssignment> MovePointerAsync(
        string image,
        string channel,
        string? expectedCurrent,
        string version,
        string action,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    )
    {
        var id = await WriteAsync(
            audit,
            async (c, t) =>
            {
                await ThrowIfRunningAsync(c, t, image, channel, cancellationToken);
                var current = await CurrentAsync(c, t, image, channel, cancellationToken);
                if (current != expectedCurrent)
                {
                    throw new PromotionConflictException(
                        $"{channel} of {image} moved to {current ?? "nothing"} meanwhile; nothing was changed, check 'imageforge channels show {image}' and retry"
                    );
                }

                return await AssignAsync(
                    c,
                    t,
                    image,
                    channel,
                    version,
                    action,
                    audit,
                    cancellationToken
                );
            },
            cancellationToken
        );
        return await AssignmentAsync(id, cancellationToken);
    }

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

    public async Task RecordLineageAsync(
        Lineage lineage,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        await connection.ExecuteAsync(
            Cmd(
                """
                INSERT INTO version_lineage (image, version, base_image, parent_image, parent_version)
                VALUES (@Image, @Version, @BaseImage, @ParentImage, @ParentVersion)
                ON CONFLICT (image, version) DO UPDATE SET base_image = excluded.base_image,
                    parent_image = excluded.parent_image, parent_version = excluded.parent_version
                """,
                lineage,
                null,
                cancellationToken
            )
        );
    }

    public async Task<Lineage?> GetLineageAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(
            string? Base,
            string? ParentImage,
            string? ParentVersion
        )?>(
            Cmd(
                "SELECT base_image, parent_image, parent_version FROM version_lineage WHERE image = @Image AND version = @Version",
                new { Image = image, Version = version },
                null,
                cancellationToken
            )
        );
        return row is { } r
            ? new Lineage(image, version, r.Base, r.ParentImage, r.ParentVersion)
            : null;
    }

    public async Task<IReadOnlyList<VersionFlag>> GetFlagsAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<(string Flag, string Reason, string At)>(
            Cmd(
                "SELECT flag, reason, at FROM version_flags WHERE image = @Image AND version = @Version ORDER BY at, flag",
                new { Image = image, Version = version },
                null,
                cancellationToken
            )
        );
        return
        [
            .. rows.Select(r => new VersionFlag(
                image,
                version,
                r.Flag,
                r.Reason,
                DbText.ToTime(r.At)
            )),
        ];
    }

    public async Task<IReadOnlyList<RetentionCandidate>> ListRetainableAsync(
        string image,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<(string Version, string Status, string CreatedAt)>(
            Cmd(
                $"""
                SELECT version, status, created_at FROM image_versions
                WHERE image = @Image AND status NOT IN ('{VersionStatusText.Pending}', '{VersionStatusText.Deleted}')
                ORDER BY version_day DESC, version_seq DESC
                """,
                new { Image = image },
                null,
                cancellationToken
            )
        );
        return
        [
            .. rows.Select(r => new RetentionCandidate(
                image,
                r.Version,
                DbText.ToEnum<VersionStatus>(r.Status, "image_versions.status"),
                DbText.ToTime(r.CreatedAt)
            )),
        ];
    }

    public Task MarkDeletedAsync(
        IReadOnlyList<(string Image, string Version)> versions,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) =>
        WriteAsync(
            audit,
            (c, t) =>
                c.ExecuteAsync(
                    Cmd(
                        $"UPDATE image_versions SET status = '{VersionStatusText.Deleted}' WHERE image = @Image AND version = @Version",
                        versions.Select(v => new { v.Image, v.Version }),
                        t,
                        cancellationToken
                    )
                ),
            cancellationToken
        );

    public async Task<AuditEvent> AppendAsync(
        AuditEntry entry,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        await using var transaction = _dialect.BeginWriteTransaction(connection);
        var appended = await SqlAudit.AppendAsync(
            connection,
            transaction,
            entry,
            cancellationToken
        );
        await transaction.CommitAsync(cancellationToken);
        return appended;
    }

    public async Task<IReadOnlyList<AuditEvent>> ReadAuditAsync(
        string? image = null,
        long afterSequence = 0,
        int limit = 1000,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        return await SqlAudit.ReadAsync(connection, image, afterSequence, limit, cancellationToken);
    }

    public async Task<AuditVerification> VerifyAuditAsync(
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        await using var transaction = _dialect.BeginReadTransaction(connection);
        return await SqlAudit.VerifyAsync(connection, transaction, cancellationToken);
    }

    // One write transaction: the change, then its audit event (details may be filled from what the change found).
    private async Task<T> WriteAsync<T>(
        AuditEntry audit,
        Func<DbConnection, DbTransaction, Task<T>> change,
        CancellationToken cancellationToken,
        Func<AuditEntry, AuditEntry>? complete = null
    )
    {
        await using var connection = await _connect(cancellationToken);
        await using var transaction = _dialect.BeginWriteTransaction(connection);
        var result = await change(connection, transaction);
        await SqlAudit.AppendAsync(
            connection,
            transaction,
            complete is null ? audit : complete(audit),
            cancellationToken
        );
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private Task<int> WriteAsync(
        AuditEntry audit,
        Func<DbConnection, DbTransaction, Task<int>> change,
        CancellationToken cancellationToken
    ) => WriteAsync<int>(audit, change, cancellationToken);

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

    private static Task<string?> CurrentAsync(
        DbConnection c,
        DbTransaction t,
        string image,
        string channel,
        CancellationToken cancellationToken
    ) =>
        c.ExecuteScalarAsync<string?>(
            Cmd(
                "SELECT version FROM channel_pointers WHERE image = @Image AND channel = @Channel",
                new { Image = image, Channel = channel },
                t,
                cancellationToken
            )
        );

    private static async Task<long> AssignAsync(
        DbConnection c,
        DbTransaction t,
        string image,
        string channel,
        string? version,
        string action,
        AuditEntry audit,
        CancellationToken cancellationToken
    )
    {
        var previous = await CurrentAsync(c, t, image, channel, cancellationToken);
        var id = await c.ExecuteScalarAsync<long>(
            Cmd(
                """
                INSERT INTO channel_assignments (image, channel, version, previous_version, action, actor, reason, at)
                VALUES (@Image, @Channel, @Version, @Previous, @Action, @Actor, @Reason, @At) RETURNING id
                """,
                new
                {
                    Image = image,
                    Channel = channel,
                    Version = version,
                    Previous = previous,
                    Action = action,
                    audit.Actor,
                    audit.Reason,
                    At = DbText.FromTime(audit.Time),
                },
                t,
                cancellationToken
            )
        );
        await c.ExecuteAsync(
            Cmd(
                """
                INSERT INTO channel_pointers (image, channel, version, assignment_id) VALUES (@Image, @Channel, @Version, @Id)
                ON CONFLICT (image, channel) DO UPDATE SET version = excluded.version, assignment_id = excluded.assignment_id
                """,
                new
                {
                    Image = image,
                    Channel = channel,
                    Version = version,
                    Id = id,
                },
                t,
                cancellationToken
            )
        );
        return id;
    }

    private static async Task<IReadOnlyList<ChannelAssignment>> HistoryAsync(
        DbConnection connection,
        DbTransaction? transaction,
        string image,
        string? channel,
        CancellationToken cancellationToken
    )
    {
        var rows = await connection.QueryAsync<AssignmentRow>(
            Cmd(
                $"""
                SELECT {AssignmentColumns} FROM channel_assignments
                WHERE image = @Image AND (@Channel IS NULL OR channel = @Channel) ORDER BY id
                """,
                new { Image = image, Channel = channel },
                transaction,
                cancellationToken
            )
        );
        return [.. rows.Select(r => r.ToAssignment())];
    }

    private async Task<ChannelAssignment> AssignmentAsync(
        long id,
        CancellationToken cancellationToken
    )
    {
        await using var connection = await _connect(cancellationToken);
        var row = await connection.QuerySingleAsync<AssignmentRow>(
            Cmd(
                $"SELECT {AssignmentColumns} FROM channel_assignments WHERE id = @Id",
                new { Id = id },
                null,
                cancellationToken
            )
        );
        return row.ToAssignment();
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

    private static CommandDefinition Cmd(
        string sql,
        object? parameters,
        DbTransaction? transaction,
        CancellationToken cancellationToken
    ) => new(sql, parameters, transaction, cancellationToken: cancellationToken);

    private sealed class AssignmentRow
    {
        public long Id { get; init; }
        public string Image { get; init; } = "";
        public string Channel { get; init; } = "";
        public string? Version { get; init; }
        public string? PreviousVersion { get; init; }
        public string Action { get; init; } = "";
        public string Actor { get; init; } = "";
        public string? Reason { get; init; }
        public string At { get; init; } = "";

        public ChannelAssignment ToAssignment() =>
            new(
                Id,
                Image,
                Channel,
                Version,
                PreviousVersion,
                Action,
                Actor,
                Reason,
                DbText.ToTime(At)
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
