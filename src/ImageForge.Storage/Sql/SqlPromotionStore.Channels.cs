using System.Data.Common;
using Dapper;
using ImageForge.Core.Audit;
using ImageForge.Core.Promotion;

namespace ImageForge.Storage.Sql;

/// <summary>The promotion store: channel pointers, their history, approvals and rejections.</summary>
internal sealed partial class SqlPromotionStore
{
    public async Task<IReadOnlyList<ChannelState>> GetChannelsAsync(
        string image,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        return await ChannelsAsync(
            connection,
            "WHERE p.image = @Image",
            new { Image = image },
            cancellationToken
        );
    }

    public async Task<IReadOnlyList<ChannelState>> GetAllChannelsAsync(
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        return await ChannelsAsync(connection, "", null, cancellationToken);
    }

    // The pointers chosen by a filter over channel_pointers p, each with how it last moved.
    private static async Task<IReadOnlyList<ChannelState>> ChannelsAsync(
        DbConnection connection,
        string filter,
        object? parameters,
        CancellationToken cancellationToken
    )
    {
        var rows = await connection.QueryAsync<(
            string Image,
            string Channel,
            string? Version,
            string At,
            string Action,
            string? PreviousVersion,
            string? Reason
        )>(
            Cmd(
                $"""
                SELECT p.image, p.channel, p.version, a.at, a.action, a.previous_version, a.reason
                FROM channel_pointers p
                JOIN channel_assignments a ON a.id = p.assignment_id
                {filter}
                ORDER BY p.image, p.channel
                """,
                parameters,
                null,
                cancellationToken
            )
        );
        return
        [
            .. rows.Select(r => new ChannelState(r.Image, r.Channel, r.Version, DbText.ToTime(r.At))
            {
                Action = r.Action,
                PreviousVersion = r.PreviousVersion,
                Reason = r.Reason,
            }),
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

    public async Task<Rejection?> GetRejectionAsync(
        string image,
        string version,
        string channel,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(
            string Actor,
            string Role,
            string At,
            string Reason
        )?>(
            Cmd(
                """
                SELECT actor, role, at, reason FROM promotion_rejections
                WHERE image = @Image AND version = @Version AND channel = @Channel
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
        return row is { } r
            ? new Rejection(image, version, channel, r.Actor, r.Role, DbText.ToTime(r.At), r.Reason)
            : null;
    }

    public Task RejectAsync(
        Rejection rejection,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) =>
        UpsertAsync(
            audit,
            """
            INSERT INTO promotion_rejections (image, version, channel, actor, role, at, reason)
            VALUES (@Image, @Version, @Channel, @Actor, @Role, @At, @Reason)
            ON CONFLICT (image, version, channel) DO UPDATE
                SET actor = excluded.actor, role = excluded.role, at = excluded.at, reason = excluded.reason
            """,
            new
            {
                rejection.Image,
                rejection.Version,
                rejection.Channel,
                rejection.Actor,
                rejection.Role,
                At = DbText.FromTime(rejection.At),
                rejection.Reason,
            },
            cancellationToken
        );

    public async Task<IReadOnlyList<AnomalyAcknowledgement>> GetAnomalyAcknowledgementsAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<(
            string Image,
            string Version,
            string AnomalyId,
            string Actor,
            string Role,
            string At,
            string Reason
        )>(
            Cmd(
                """
                SELECT image, version, anomaly_id, actor, role, at, reason FROM anomaly_acks
                WHERE image = @Image AND version = @Version ORDER BY at, anomaly_id
                """,
                new { Image = image, Version = version },
                null,
                cancellationToken
            )
        );
        return
        [
            .. rows.Select(r => new AnomalyAcknowledgement(
                r.Image,
                r.Version,
                r.AnomalyId,
                r.Actor,
                r.Role,
                DbText.ToTime(r.At),
                r.Reason
            )),
        ];
    }

    public Task AcknowledgeAnomalyAsync(
        AnomalyAcknowledgement acknowledgement,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) =>
        UpsertAsync(
            audit,
            """
            INSERT INTO anomaly_acks (image, version, anomaly_id, actor, role, at, reason)
            VALUES (@Image, @Version, @AnomalyId, @Actor, @Role, @At, @Reason)
            ON CONFLICT (image, version, anomaly_id) DO UPDATE
                SET actor = excluded.actor, role = excluded.role, at = excluded.at, reason = excluded.reason
            """,
            new
            {
                acknowledgement.Image,
                acknowledgement.Version,
                acknowledgement.AnomalyId,
                acknowledgement.Actor,
                acknowledgement.Role,
                At = DbText.FromTime(acknowledgement.At),
                acknowledgement.Reason,
            },
            cancellationToken
        );

    public Task AddApprovalAsync(
        Approval approval,
        AuditEntry audit,
        CancellationToken cancellationToken = default
    ) =>
        UpsertAsync(
            audit,
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
            cancellationToken
        );

    // One row written (inserted or replaced) with its audit event, in one transaction.
    private Task<int> UpsertAsync(
        AuditEntry audit,
        string sql,
        object parameters,
        CancellationToken cancellationToken
    ) =>
        WriteAsync(
            audit,
            (c, t) => c.ExecuteAsync(Cmd(sql, parameters, t, cancellationToken)),
            cancellationToken
        );

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
}
