using System.Data.Common;
using System.Text.Json;
using Dapper;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Worker;

namespace ImageForge.Storage.Sql;

// Leases on claimed builds and the workers that hold them (docs/cluster.md). Lease times are the database's clock.
internal sealed partial class SqlWorkerStore
{
    private string WorkerColumns =>
        $"""
            id AS Id, name AS Name, host AS Host, pid AS Pid, started_at AS StartedAt, heartbeat_at AS HeartbeatAt,
            stopped_at AS StoppedAt, capabilities AS Capabilities, lease_ms AS LeaseMs,
            CASE WHEN heartbeat_at < {_dialect.Clock(
                "(-lease_ms / 1000.0)"
            )} THEN 1 ELSE 0 END AS Silent
            """;

    private static readonly JsonSerializerOptions CapabilitiesJson = new(
        JsonSerializerDefaults.Web
    );

    public Task<bool> RenewLeaseAsync(
        BuildLease held,
        TimeSpan lease,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        return SetLeaseExpiryAsync(held, lease, cancellationToken);
    }

    // Long past: the next reaper takes it over.
    public Task<bool> ExpireLeaseAsync(
        BuildLease held,
        CancellationToken cancellationToken = default
    ) => SetLeaseExpiryAsync(held, TimeSpan.FromDays(-1), cancellationToken);

    private async Task<bool> SetLeaseExpiryAsync(
        BuildLease held,
        TimeSpan lease,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(held);
        if (!DbText.TryParseId(held.BuildId, out var id))
        {
            return false;
        }

        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var renewed = await connection.ExecuteAsync(
            Command(
                $"""
                UPDATE builds SET lease_expires_at = {_dialect.Clock("@Lease")}
                WHERE id = @Id AND lease_epoch = @Epoch AND status = 'running'
                """,
                new
                {
                    Id = id,
                    held.Epoch,
                    Lease = lease.TotalSeconds,
                },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
        return renewed == 1;
    }

    public async Task<IReadOnlyList<ReapedLease>> ReapExpiredLeasesAsync(
        int maxAttempts,
        DateTimeOffset at,
        Func<BuildRecord, AuditEntry>? ended = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxAttempts);
        await using var connection = await _connect(cancellationToken);
        // The writer lock makes reapers take turns: a lease is taken over once.
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var expired = (
            await connection.QueryAsync<SqlCatalog.BuildRow>(
                Command(
                    $"""
                    SELECT {SqlCatalog.BuildColumns} FROM builds
                    WHERE status = 'running' AND lease_expires_at IS NOT NULL AND lease_expires_at < {_dialect.Clock()}
                    ORDER BY id
                    """,
                    null,
                    transaction,
                    cancellationToken
                )
            )
        ).ToList();
        if (expired.Count == 0)
        {
            return [];
        }

        var reaped = new List<ReapedLease>(expired.Count);
        foreach (var row in expired)
        {
            var build = row.ToRecord();
            var owner = await OwnerTextAsync(connection, transaction, build, cancellationToken);
            var (became, message) = build switch
            {
                { CancelRequested: true } => (
                    BuildStatus.Cancelled,
                    $"cancelled on request (builds cancel); {owner} stopped renewing its lease"
                ),
                { Resumable: true } => (
                    BuildStatus.Interrupted,
                    $"{owner} stopped renewing its lease during the imports; resume it with "
                        + $"'imageforge build --resume {build.Id}'"
                ),
                _ when build.Attempts >= maxAttempts => (
                    BuildStatus.Failed,
                    $"its lease expired {build.Attempts} time(s), the most allowed (queue.max_attempts: "
                        + $"{maxAttempts}); last held by {owner}"
                ),
                _ => (
                    BuildStatus.Queued,
                    $"{owner} stopped renewing its lease; queued again (attempt {build.Attempts + 1} of "
                        + $"{maxAttempts})"
                ),
            };
            await TakeOverAsync(
                connection,
                transaction,
                row.Id,
                became,
                message,
                at,
                cancellationToken
            );
            if (became != BuildStatus.Queued && ended is not null)
            {
                await SqlAudit.AppendAsync(
                    connection,
                    transaction,
                    ended(build with { Status = became, Message = message }),
                    cancellationToken
                );
            }

            reaped.Add(new ReapedLease(build, became, message));
        }

        await transaction.CommitAsync(cancellationToken);
        return reaped;
    }

    // Raises the epoch (the old owner's writes are refused from now on), releases a reserved version of a build that
    // is not resumable, and queues the build again or ends it; the log says why.
    private static async Task TakeOverAsync(
        DbConnection connection,
        DbTransaction transaction,
        long id,
        BuildStatus became,
        string message,
        DateTimeOffset at,
        CancellationToken cancellationToken
    )
    {
        var ended = became != BuildStatus.Queued;
        await connection.ExecuteAsync(
            Command(
                $"""
                DELETE FROM image_versions WHERE build_id = @Id AND status = '{VersionStatusText.Pending}'
                    AND EXISTS (SELECT 1 FROM builds WHERE id = @Id AND resumable = 0);
                UPDATE builds
                SET status = @Status, message = @Message, ended_at = @EndedAt, owner_pid = NULL, owner_host = NULL,
                    tool_pgid = NULL, version = CASE WHEN resumable = 1 THEN version ELSE NULL END,
                    lease_epoch = lease_epoch + 1, lease_expires_at = NULL
                WHERE id = @Id;
                INSERT INTO build_logs (build_id, seq, time, stream, text)
                SELECT @Id, COALESCE(MAX(seq), 0) + 1, @At, 'worker', @Line FROM build_logs WHERE build_id = @Id
                """,
                new
                {
                    Id = id,
                    Status = DbText.FromEnum(became),
                    Message = ended ? message : null,
                    EndedAt = ended ? DbText.FromTime(at) : null,
                    At = DbText.FromTime(at),
                    Line = message,
                },
                transaction,
                cancellationToken
            )
        );
    }

    private static async Task<string> OwnerTextAsync(
        DbConnection connection,
        DbTransaction transaction,
        BuildRecord build,
        CancellationToken cancellationToken
    )
    {
        var host = await connection.ExecuteScalarAsync<string?>(
            Command(
                "SELECT host FROM workers WHERE id = @Id",
                new { Id = build.LeaseWorker },
                transaction,
                cancellationToken
            )
        );
        return host is null
            ? $"worker {build.LeaseWorker}"
            : $"worker {build.LeaseWorker} on {HostIdentity.HostOf(host)}";
    }

    public async Task<WorkerInfo> RegisterWorkerAsync(
        string id,
        string name,
        int pid,
        WorkerCapabilities capabilities,
        TimeSpan lease,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(capabilities);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        await connection.ExecuteAsync(
            Command(
                $"""
                INSERT INTO workers (id, name, host, pid, started_at, heartbeat_at, lease_ms, capabilities)
                VALUES (@Id, @Name, @Host, @Pid, {_dialect.Clock()}, {_dialect.Clock()}, @LeaseMs, @Capabilities)
                """,
                new
                {
                    Id = id,
                    Name = name,
                    Host = HostIdentity.Current,
                    Pid = pid,
                    LeaseMs = (long)lease.TotalMilliseconds,
                    Capabilities = JsonSerializer.Serialize(capabilities, CapabilitiesJson),
                },
                transaction,
                cancellationToken
            )
        );
        var row = await connection.QuerySingleAsync<WorkerRow>(
            Command(
                $"SELECT {WorkerColumns} FROM workers WHERE id = @Id",
                new { Id = id },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
        return row.ToInfo([]);
    }

    public Task UpdateCapabilitiesAsync(
        string workerId,
        WorkerCapabilities capabilities,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        return UpdateWorkerAsync(
            "UPDATE workers SET capabilities = @Capabilities WHERE id = @Id",
            workerId,
            cancellationToken,
            JsonSerializer.Serialize(capabilities, CapabilitiesJson)
        );
    }

    public Task HeartbeatAsync(string workerId, CancellationToken cancellationToken = default) =>
        UpdateWorkerAsync(
            $"UPDATE workers SET heartbeat_at = {_dialect.Clock()} WHERE id = @Id",
            workerId,
            cancellationToken
        );

    public Task WorkerStoppedAsync(
        string workerId,
        CancellationToken cancellationToken = default
    ) =>
        UpdateWorkerAsync(
            $"UPDATE workers SET heartbeat_at = {_dialect.Clock()}, stopped_at = {_dialect.Clock()} WHERE id = @Id",
            workerId,
            cancellationToken
        );

    private async Task UpdateWorkerAsync(
        string statement,
        string workerId,
        CancellationToken cancellationToken,
        string? capabilities = null
    )
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workerId);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        await connection.ExecuteAsync(
            Command(
                statement,
                capabilities is null
                    ? (object)new { Id = workerId }
                    : new { Id = workerId, Capabilities = capabilities },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(
        TimeSpan recent,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        await using var transaction = _dialect.BeginReadTransaction(connection);
        var workers = await connection.QueryAsync<WorkerRow>(
            Command(
                $"""
                SELECT {WorkerColumns} FROM workers WHERE heartbeat_at >= {_dialect.Clock("@Back")}
                ORDER BY started_at DESC, id
                """,
                new { Back = -recent.TotalSeconds },
                transaction,
                cancellationToken
            )
        );
        var builds = (
            await connection.QueryAsync<(string Worker, long Id)>(
                Command(
                    "SELECT lease_worker, id FROM builds WHERE status = 'running' AND lease_worker IS NOT NULL ORDER BY id",
                    null,
                    transaction,
                    cancellationToken
                )
            )
        ).ToLookup(b => b.Worker, b => DbText.FromId(b.Id), StringComparer.Ordinal);
        return [.. workers.Select(w => w.ToInfo([.. builds[w.Id]]))];
    }

    private sealed class WorkerRow
    {
        public string Id { get; init; } = "";
        public string Name { get; init; } = "";
        public string Host { get; init; } = "";
        public long Pid { get; init; }
        public string StartedAt { get; init; } = "";
        public string HeartbeatAt { get; init; } = "";
        public string? StoppedAt { get; init; }
        public string Capabilities { get; init; } = "";
        public long LeaseMs { get; init; }
        public long Silent { get; init; }

        public WorkerInfo ToInfo(IReadOnlyList<string> builds) =>
            new(
                Id,
                Name,
                Host,
                checked((int)Pid),
                DbText.ToTime(StartedAt),
                DbText.ToTime(HeartbeatAt),
                DbText.ToTimeOrNull(StoppedAt),
                JsonSerializer.Deserialize<WorkerCapabilities>(Capabilities, CapabilitiesJson)
                    ?? new WorkerCapabilities([], false),
                TimeSpan.FromMilliseconds(LeaseMs)
            )
            {
                Builds = builds,
                Silent = Silent != 0,
            };
    }
}
