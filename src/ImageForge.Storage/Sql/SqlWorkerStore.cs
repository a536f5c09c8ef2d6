using System.Data.Common;
using Dapper;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;
using ImageForge.Core.Worker;

namespace ImageForge.Storage.Sql;

/// <summary>
/// The worker's queue, schedule firings, CVE rebuilds, API tokens and webhook deliveries over any
/// <see cref="SqlDialect"/>. Queued builds are build rows in status 'queued'; every change is one write transaction.
/// Statuses are written as literals in the statements so that the partial indexes over them apply.
/// </summary>
internal sealed partial class SqlWorkerStore
    : IBuildQueueStore,
        IWorkerRegistry,
        IScheduleLedger,
        ICveRebuildLedger,
        ITokenStore,
        IWebhookLog
{
    private const string FiringColumns = """
        image AS Image, target AS Target, scheduled_for AS ScheduledFor, fired_at AS FiredAt, outcome AS Outcome,
        build_id AS BuildId, reason AS Reason
        """;

    private const string TokenColumns = """
        id AS Id, actor AS Actor, role AS Role, created_at AS CreatedAt, revoked_at AS RevokedAt
        """;

    private const string DeliveryColumns = """
        id AS Id, event_id AS EventId, event_type AS EventType, url AS Url, payload AS Payload, state AS State,
        attempts AS Attempts, last_status_code AS LastStatusCode, last_error AS LastError, created_at AS CreatedAt,
        next_attempt_at AS NextAttemptAt, delivered_at AS DeliveredAt, traceparent AS TraceParent,
        claim_epoch AS ClaimEpoch, claimed_by AS ClaimedBy
        """;

    private readonly SqlDialect _dialect;
    private readonly Func<CancellationToken, Task<DbConnection>> _connect;

    public SqlWorkerStore(SqlDialect dialect, Func<CancellationToken, Task<DbConnection>> connect)
    {
        _dialect = dialect;
        _connect = connect;
    }

    public async Task<QueuedBuild> EnqueueAsync(
        BuildRequest request,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Build);
        if (request.IdempotencyKey is { } k && string.IsNullOrWhiteSpace(k))
        {
            throw new ArgumentException(
                "An idempotency key, when given, must not be blank.",
                nameof(request)
            );
        }

        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var queued = await EnqueueInAsync(connection, transaction, request, at, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return queued;
    }

    /// <summary>
    /// Records a scheduled firing and queues its build (by its idempotency key, coalescing) in one write
    /// transaction, the firing naming the build; null, with nothing written, when the instant was already recorded.
    /// </summary>
    public async Task<QueuedBuild?> RecordFiringAndEnqueueAsync(
        ScheduleFiring firing,
        BuildRequest request,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(firing);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Build);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        if (!await InsertFiringAsync(connection, transaction, firing, null, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }

        var queued = await EnqueueInAsync(connection, transaction, request, at, cancellationToken);
        await connection.ExecuteAsync(
            Command(
                """
                UPDATE schedule_firings SET build_id = @BuildId
                WHERE image = @Image AND target = @Target AND scheduled_for = @ScheduledFor
                """,
                new
                {
                    firing.Image,
                    firing.Target,
                    ScheduledFor = DbText.FromTime(firing.ScheduledFor),
                    BuildId = DbText.TryParseId(queued.Build.Id, out var id) ? id : 0,
                },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
        return queued;
    }

    private static async Task<QueuedBuild> EnqueueInAsync(
        DbConnection connection,
        DbTransaction transaction,
        BuildRequest request,
        DateTimeOffset at,
        CancellationToken cancellationToken
    )
    {
        await ListImageAsync(connection, transaction, request.Build.Image, cancellationToken);

        var joined = request.IdempotencyKey is { } key
            ? await FindBuildAsync(
                connection,
                transaction,
                "id = (SELECT build_id FROM build_request_keys WHERE idempotency_key = @Key)",
                new { Key = key },
                cancellationToken
            )
            : null;
        if (joined is not null)
        {
            return new QueuedBuild(joined.ToRecord(), Joined: true);
        }

        if (joined is null && request.Coalesce)
        {
            // Only a build that has not started: one already running may be past the change the caller wants.
            joined = await FindBuildAsync(
                connection,
                transaction,
                "image = @Image AND target = @Target AND status = 'queued' ORDER BY id LIMIT 1",
                new { request.Build.Image, request.Build.Target },
                cancellationToken
            );
        }

        var id = joined is not null
            ? joined.Id
            : await InsertQueuedAsync(
                connection,
                transaction,
                request.Build,
                at,
                cancellationToken
            );
        if (request.IdempotencyKey is { } newKey)
        {
            await connection.ExecuteAsync(
                Command(
                    "INSERT INTO build_request_keys (idempotency_key, build_id, created_at) VALUES (@Key, @Id, @At)",
                    new
                    {
                        Key = newKey,
                        Id = id,
                        At = DbText.FromTime(at),
                    },
                    transaction,
                    cancellationToken
                )
            );
        }

        var queued = await GetBuildAsync(connection, transaction, id, cancellationToken);
        return new QueuedBuild(queued, Joined: joined is not null);
    }

    // A build's targets as its row records them ("local,aws,gcp"): the first is the provider that builds, whose
    // queue limit the build counts against (the imports have their own slots, ImportSlots).
    private static string BuilderOf(string targets)
    {
        var comma = targets.IndexOf(',', StringComparison.Ordinal);
        return comma < 0 ? targets : targets[..comma];
    }

    public async Task<BuildRecord?> ClaimNextAsync(
        IReadOnlyDictionary<string, int> limits,
        Claimant claimant,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(claimant);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(claimant.Pid);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(claimant.Lease, TimeSpan.Zero);

        await using var connection = await _connect(cancellationToken);
        // An idle worker looks often (every quarter of its lease): when nothing it could take is queued, a read
        // answers without the writer lock, so looking costs the other writers nothing (readers never wait).
        if (
            !await connection.ExecuteScalarAsync<bool>(
                Command(
                    """
                    SELECT EXISTS (SELECT 1 FROM builds
                                   WHERE status = 'queued' AND (requires_kvm = 0 OR @Kvm = 1))
                    """,
                    new { Kvm = claimant.Kvm ? 1 : 0 },
                    null,
                    cancellationToken
                )
            )
        )
        {
            return null;
        }

        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        // Every running build counts, whoever started it (the worker's runner or a CLI build on the same catalog).
        var running = (
            await connection.QueryAsync<(string Target, long Count)>(
                Command(
                    "SELECT target, COUNT(*) FROM builds WHERE status = 'running' GROUP BY target",
                    null,
                    transaction,
                    cancellationToken
                )
            )
        )
            .GroupBy(r => BuilderOf(r.Target), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(r => r.Count), StringComparer.Ordinal);
        // The oldest queued build of each target that the claimant can run: the one a free slot of that target goes to.
        // A claimant without KVM passes over builds that require it (they wait for one with it).
        var heads = await connection.QueryAsync<(string Target, long Id)>(
            Command(
                """
                SELECT target, MIN(id) FROM builds
                WHERE status = 'queued' AND (requires_kvm = 0 OR @Kvm = 1)
                GROUP BY target
                """,
                new { Kvm = claimant.Kvm ? 1 : 0 },
                transaction,
                cancellationToken
            )
        );
        var next = heads
            .Where(h =>
                claimant.Providers is not { } takes || h.Target.Split(',').All(takes.Contains)
            )
            .Where(h =>
                running.GetValueOrDefault(BuilderOf(h.Target))
                < limits.GetValueOrDefault(BuilderOf(h.Target), 1)
            )
            .OrderBy(h => h.Id)
            .Select(h => (long?)h.Id)
            .FirstOrDefault();
        if (next is not { } id)
        {
            return null;
        }

        // The status condition keeps a claim single even where write transactions do not exclude each other.
        var claimed = await connection.ExecuteAsync(
            Command(
                $"""
                UPDATE builds SET status = 'running', owner_pid = @OwnerPid, owner_host = @OwnerHost,
                    started_at = @StartedAt, lease_worker = @Worker, lease_epoch = lease_epoch + 1,
                    lease_expires_at = {_dialect.Clock("@Lease")}, attempts = attempts + 1
                WHERE id = @Id AND status = 'queued'
                """,
                new
                {
                    Id = id,
                    OwnerPid = claimant.Pid,
                    claimant.Worker,
                    Lease = claimant.Lease.TotalSeconds,
                    OwnerHost = HostIdentity.Current,
                    StartedAt = DbText.FromTime(at),
                },
                transaction,
                cancellationToken
            )
        );
        if (claimed == 0)
        {
            return null;
        }

        var build = await GetBuildAsync(connection, transaction, id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return build;
    }

    public async Task<IReadOnlyList<BuildRecord>> ListQueuedAsync(
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<SqlCatalog.BuildRow>(
            Command(
                $"SELECT {SqlCatalog.BuildColumns} FROM builds WHERE status = 'queued' ORDER BY id",
                null,
                null,
                cancellationToken
            )
        );
        return [.. rows.Select(r => r.ToRecord())];
    }

    public async Task<bool> CancelQueuedAsync(
        string buildId,
        string message,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!DbText.TryParseId(buildId, out var id))
        {
            return false;
        }

        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var changed = await connection.ExecuteAsync(
            Command(
                """
                UPDATE builds SET status = 'cancelled', message = @Message, ended_at = @EndedAt
                WHERE id = @Id AND status = 'queued'
                """,
                new
                {
                    Id = id,
                    Message = message,
                    EndedAt = DbText.FromTime(at),
                },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
        return changed > 0;
    }

    public async Task<BuildRecord> RecordSkippedAsync(
        NewBuild build,
        string reason,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(reason);
        var time = DbText.FromTime(at);

        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        await ListImageAsync(connection, transaction, build.Image, cancellationToken);
        var id = await connection.ExecuteScalarAsync<long>(
            Command(
                """
                INSERT INTO builds (image, target, "trigger", requester, reason, fingerprint, started_at, ended_at,
                                    status, message, cancel_requested)
                VALUES (@Image, @Target, @Trigger, @Requester, @Reason, @Fingerprint, @At, @At, 'skipped',
                        @Message, 0)
                RETURNING id
                """,
                new
                {
                    build.Image,
                    build.Target,
                    Trigger = DbText.FromEnum(build.Trigger),
                    build.Requester,
                    build.Reason,
                    build.Fingerprint,
                    At = time,
                    Message = reason,
                },
                transaction,
                cancellationToken
            )
        );
        var skipped = await GetBuildAsync(connection, transaction, id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return skipped;
    }

    public async Task<BuildRecord?> LastSucceededAsync(
        string image,
        string target,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(target);
        await using var connection = await _connect(cancellationToken);
        var row = await FindBuildAsync(
            connection,
            null,
            """
            image = @Image AND target = @Target AND status = 'succeeded'
            ORDER BY ended_at DESC, id DESC LIMIT 1
            """,
            new { Image = image, Target = target },
            cancellationToken
        );
        return row?.ToRecord();
    }

    public async Task<bool> TryRecordFiringAsync(
        ScheduleFiring firing,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(firing);
        long? buildId = null;
        if (firing.BuildId is { } text)
        {
            buildId = DbText.TryParseId(text, out var id)
                ? id
                : throw new ArgumentException(
                    $"'{text}' is not a build id; a firing names the build it queued or skipped, or none.",
                    nameof(firing)
                );
        }

        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var inserted = await InsertFiringAsync(
            connection,
            transaction,
            firing,
            buildId,
            cancellationToken
        );
        await transaction.CommitAsync(cancellationToken);
        return inserted;
    }

    private static async Task<bool> InsertFiringAsync(
        DbConnection connection,
        DbTransaction transaction,
        ScheduleFiring firing,
        long? buildId,
        CancellationToken cancellationToken
    )
    {
        var inserted = await connection.ExecuteAsync(
            Command(
                """
                INSERT INTO schedule_firings (image, target, scheduled_for, fired_at, outcome, build_id, reason)
                VALUES (@Image, @Target, @ScheduledFor, @FiredAt, @Outcome, @BuildId, @Reason)
                ON CONFLICT (image, target, scheduled_for) DO NOTHING
                """,
                new
                {
                    firing.Image,
                    firing.Target,
                    ScheduledFor = DbText.FromTime(firing.ScheduledFor),
                    FiredAt = DbText.FromTime(firing.FiredAt),
                    firing.Outcome,
                    BuildId = buildId,
                    firing.Reason,
                },
                transaction,
                cancellationToken
            )
        );
        return inserted > 0;
    }

    public async Task AttachFiringBuildAsync(
        string image,
        string target,
        DateTimeOffset scheduledFor,
        string buildId,
        CancellationToken cancellationToken = default
    )
    {
        if (!DbText.TryParseId(buildId, out var id))
        {
            throw new ArgumentException($"'{buildId}' is not a build id.", nameof(buildId));
        }

        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        await connection.ExecuteAsync(
            Command(
                """
                UPDATE schedule_firings SET build_id = @BuildId
                WHERE image = @Image AND target = @Target AND scheduled_for = @ScheduledFor
                """,
                new
                {
                    Image = image,
                    Target = target,
                    ScheduledFor = DbText.FromTime(scheduledFor),
                    BuildId = id,
                },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<ScheduleFiring?> LastFiringAsync(
        string image,
        string target,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(target);
        await using var connection = await _connect(cancellationToken);
        var row = await connection.QueryFirstOrDefaultAsync<FiringRow>(
            Command(
                $"""
                SELECT {FiringColumns} FROM schedule_firings
                WHERE image = @Image AND target = @Target ORDER BY scheduled_for DESC LIMIT 1
                """,
                new { Image = image, Target = target },
                null,
                cancellationToken
            )
        );
        return row?.ToFiring();
    }

    public async Task<BuildRecord?> EnqueueOnceAsync(
        NewBuild build,
        IReadOnlyList<string> advisories,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(advisories);
        // The set, not the caller's list: the same advisories in another order or repeated are the same set.
        var set = advisories
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (set.Count == 0 || set.Exists(a => string.IsNullOrWhiteSpace(a) || a.Contains(',')))
        {
            throw new ArgumentException(
                "An advisory set holds at least one id, none blank and none with a comma.",
                nameof(advisories)
            );
        }

        var key = string.Join(',', set);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        await ListImageAsync(connection, transaction, build.Image, cancellationToken);
        var seen = await connection.ExecuteScalarAsync<long>(
            Command(
                """
                SELECT COUNT(*) FROM cve_rebuilds
                WHERE image = @Image AND target = @Target AND advisories = @Advisories
                """,
                new
                {
                    build.Image,
                    build.Target,
                    Advisories = key,
                },
                transaction,
                cancellationToken
            )
        );
        if (seen > 0)
        {
            return null;
        }

        var id = await InsertQueuedAsync(connection, transaction, build, at, cancellationToken);
        await connection.ExecuteAsync(
            Command(
                """
                INSERT INTO cve_rebuilds (image, target, advisories, build_id, queued_at)
                VALUES (@Image, @Target, @Advisories, @BuildId, @QueuedAt)
                """,
                new
                {
                    build.Image,
                    build.Target,
                    Advisories = key,
                    BuildId = id,
                    QueuedAt = DbText.FromTime(at),
                },
                transaction,
                cancellationToken
            )
        );
        var queued = await GetBuildAsync(connection, transaction, id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return queued;
    }

    public async Task<ApiToken> CreateTokenAsync(
        string actor,
        string role,
        string secretSha256,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        ArgumentNullException.ThrowIfNull(role);
        ArgumentNullException.ThrowIfNull(secretSha256);
        if (RoleNames.Parse(role) is null)
        {
            throw new ArgumentException(
                $"'{role}' is not a role; use viewer, builder, release-manager or admin.",
                nameof(role)
            );
        }

        // Guards against storing the secret itself by mistake.
        if (!IsSha256Hex(secretSha256))
        {
            throw new ArgumentException(
                "A token is stored by the sha256 of its secret: 64 lower-case hex digits.",
                nameof(secretSha256)
            );
        }

        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var id = await connection.ExecuteScalarAsync<long>(
            Command(
                """
                INSERT INTO api_tokens (secret_sha256, actor, role, created_at)
                VALUES (@Secret, @Actor, @Role, @CreatedAt) RETURNING id
                """,
                new
                {
                    Secret = secretSha256,
                    Actor = actor,
                    Role = role,
                    CreatedAt = DbText.FromTime(at),
                },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
        return new ApiToken(
            DbText.FromId(id),
            actor,
            role,
            DbText.ToTime(DbText.FromTime(at)),
            null
        );
    }

    public async Task<ApiToken?> FindActiveTokenAsync(
        string secretSha256,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(secretSha256);
        await using var connection = await _connect(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<TokenRow>(
            Command(
                $"SELECT {TokenColumns} FROM api_tokens WHERE secret_sha256 = @Secret AND revoked_at IS NULL",
                new { Secret = secretSha256 },
                null,
                cancellationToken
            )
        );
        return row?.ToToken();
    }

    public async Task<IReadOnlyList<ApiToken>> ListTokensAsync(
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<TokenRow>(
            Command(
                $"SELECT {TokenColumns} FROM api_tokens ORDER BY id",
                null,
                null,
                cancellationToken
            )
        );
        return [.. rows.Select(r => r.ToToken())];
    }

    public async Task<bool> RevokeTokenAsync(
        string id,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    )
    {
        if (!DbText.TryParseId(id, out var tokenId))
        {
            return false;
        }

        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var changed = await connection.ExecuteAsync(
            Command(
                "UPDATE api_tokens SET revoked_at = @At WHERE id = @Id AND revoked_at IS NULL",
                new { Id = tokenId, At = DbText.FromTime(at) },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
        return changed > 0;
    }

    // An event added again for a URL keeps (and returns) its existing delivery.
    public async Task<IReadOnlyList<WebhookDelivery>> AddAsync(
        string eventId,
        string eventType,
        string payload,
        IReadOnlyList<string> urls,
        DateTimeOffset at,
        string? traceParent = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventId);
        ArgumentException.ThrowIfNullOrWhiteSpace(eventType);
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(urls);
        var distinct = urls.Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count == 0)
        {
            return [];
        }

        var time = DbText.FromTime(at);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        await connection.ExecuteAsync(
            Command(
                """
                INSERT INTO webhook_deliveries (event_id, event_type, url, payload, state, attempts, created_at,
                                                next_attempt_at, traceparent)
                VALUES (@EventId, @EventType, @Url, @Payload, 'pending', 0, @At, @At, @TraceParent)
                ON CONFLICT (event_id, url) DO NOTHING
                """,
                distinct.Select(url => new
                {
                    EventId = eventId,
                    EventType = eventType,
                    Url = url,
                    Payload = payload,
                    At = time,
                    TraceParent = traceParent,
                }),
                transaction,
                cancellationToken
            )
        );
        var rows = await connection.QueryAsync<DeliveryRow>(
            Command(
                $"SELECT {DeliveryColumns} FROM webhook_deliveries WHERE event_id = @EventId ORDER BY id",
                new { EventId = eventId },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
        var wanted = distinct.ToHashSet(StringComparer.Ordinal);
        return [.. rows.Where(r => wanted.Contains(r.Url)).Select(r => r.ToDelivery())];
    }

    public async Task<IReadOnlyList<WebhookDelivery>> DueAsync(
        DateTimeOffset now,
        int limit,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<DeliveryRow>(
            Command(
                $"""
                SELECT {DeliveryColumns} FROM webhook_deliveries
                WHERE state = 'pending' AND next_attempt_at <= @Now ORDER BY id LIMIT @Limit
                """,
                new { Now = DbText.FromTime(now), Limit = limit },
                null,
                cancellationToken
            )
        );
        return [.. rows.Select(r => r.ToDelivery())];
    }

    // Under the writer lock, so two dispatchers never claim one delivery both. A claim still running (its expiry by the
    // database's clock ahead) keeps the delivery from every other dispatcher; one that ran out makes it due again.
    public async Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(
        DateTimeOffset now,
        int limit,
        string worker,
        TimeSpan claimFor,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(claimFor, TimeSpan.Zero);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var due = (
            await connection.QueryAsync<DeliveryRow>(
                Command(
                    $"""
                    SELECT {DeliveryColumns} FROM webhook_deliveries
                    WHERE state = 'pending' AND next_attempt_at <= @Now
                        AND (claim_expires_at IS NULL OR claim_expires_at < {_dialect.Clock()})
                    ORDER BY id LIMIT @Limit
                    """,
                    new { Now = DbText.FromTime(now), Limit = limit },
                    transaction,
                    cancellationToken
                )
            )
        ).ToList();
        if (due.Count == 0)
        {
            return [];
        }

        await connection.ExecuteAsync(
            Command(
                $"""
                UPDATE webhook_deliveries
                SET claimed_by = @Worker, claim_epoch = claim_epoch + 1,
                    claim_expires_at = {_dialect.Clock("@ClaimFor")}
                WHERE id = @Id
                """,
                due.Select(row => new
                {
                    row.Id,
                    Worker = worker,
                    ClaimFor = claimFor.TotalSeconds,
                }),
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
        // The writer lock held from the read to the update: each epoch is the one read plus one.
        return
        [
            .. due.Select(r =>
                r.ToDelivery() with
                {
                    Claim = new WebhookClaim(DbText.FromId(r.Id), r.ClaimEpoch + 1),
                    ClaimedBy = worker,
                }
            ),
        ];
    }

    public async Task<int> ReleaseClaimsAsync(
        string worker,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var released = await connection.ExecuteAsync(
            Command(
                """
                UPDATE webhook_deliveries SET claim_expires_at = NULL
                WHERE claimed_by = @Worker AND state = 'pending' AND claim_expires_at IS NOT NULL
                """,
                new { Worker = worker },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
        return released;
    }

    public async Task RecordAttemptAsync(
        WebhookClaim claim,
        bool delivered,
        int? statusCode,
        string? failure,
        DateTimeOffset at,
        DateTimeOffset? nextAttemptAt,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(claim);
        var deliveryId = claim.DeliveryId;
        if (delivered && nextAttemptAt is not null)
        {
            throw new ArgumentException(
                "A delivered event is not tried again; pass no next attempt.",
                nameof(nextAttemptAt)
            );
        }

        var state =
            delivered ? "delivered"
            : nextAttemptAt is null ? "failed"
            : "pending";
        if (!DbText.TryParseId(deliveryId, out var id))
        {
            throw NotPending(deliveryId);
        }

        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var changed = await connection.ExecuteAsync(
            Command(
                """
                UPDATE webhook_deliveries
                SET state = @State, attempts = attempts + 1, last_status_code = @StatusCode, last_error = @Failure,
                    next_attempt_at = @NextAttemptAt, delivered_at = @DeliveredAt, claim_expires_at = NULL
                WHERE id = @Id AND state = 'pending' AND claim_epoch = @Epoch
                """,
                new
                {
                    Id = id,
                    claim.Epoch,
                    State = state,
                    StatusCode = statusCode,
                    Failure = failure,
                    NextAttemptAt = DbText.FromTime(nextAttemptAt),
                    DeliveredAt = delivered ? DbText.FromTime(at) : null,
                },
                transaction,
                cancellationToken
            )
        );
        if (changed == 0)
        {
            var epoch = await connection.ExecuteScalarAsync<long?>(
                Command(
                    "SELECT claim_epoch FROM webhook_deliveries WHERE id = @Id AND state = 'pending'",
                    new { Id = id },
                    transaction,
                    cancellationToken
                )
            );
            throw epoch is { } current ? ClaimLost(claim, current) : NotPending(deliveryId);
        }

        await connection.ExecuteAsync(
            Command(
                """
                INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error)
                SELECT id, attempts, @At, @StatusCode, @Failure FROM webhook_deliveries WHERE id = @Id
                """,
                new
                {
                    Id = id,
                    At = DbText.FromTime(at),
                    StatusCode = statusCode,
                    Failure = failure,
                },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<WebhookDelivery>> ListAsync(
        int limit,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = _dialect.BeginReadTransaction(connection);
        var rows = await connection.QueryAsync<DeliveryRow>(
            Command(
                $"SELECT {DeliveryColumns} FROM webhook_deliveries ORDER BY id DESC LIMIT @Limit",
                new { Limit = limit },
                transaction,
                cancellationToken
            )
        );
        var attempts = (
            await connection.QueryAsync<AttemptRow>(
                Command(
                    """
                    SELECT delivery_id AS DeliveryId, attempt AS Attempt, at AS At, status_code AS StatusCode,
                           error AS Error
                    FROM webhook_attempts
                    WHERE delivery_id IN (SELECT id FROM webhook_deliveries ORDER BY id DESC LIMIT @Limit)
                    ORDER BY delivery_id, attempt
                    """,
                    new { Limit = limit },
                    transaction,
                    cancellationToken
                )
            )
        ).ToLookup(a => a.DeliveryId);
        await transaction.CommitAsync(cancellationToken);
        return
        [
            .. rows.Select(r =>
                r.ToDelivery() with
                {
                    History = [.. attempts[r.Id].Select(a => a.ToAttempt())],
                }
            ),
        ];
    }

    private static CatalogException NotPending(string deliveryId) =>
        new(
            $"Webhook delivery {deliveryId} is not pending (delivered, given up, or unknown); the attempt was not "
                + "recorded. See GET /api/webhooks/deliveries."
        );

    private static WebhookClaimLostException ClaimLost(WebhookClaim claim, long current) =>
        new(
            $"Webhook delivery {claim.DeliveryId} is no longer this dispatcher's: its claim ran out and another "
                + $"dispatcher claimed it (claim {current}, this one holds {claim.Epoch}); the attempt was not recorded."
        );

    private static bool IsSha256Hex(string text) =>
        text.Length == 64 && text.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    // Lists the image from its first build on, as starting a build does.
    private static async Task ListImageAsync(
        DbConnection connection,
        DbTransaction transaction,
        string image,
        CancellationToken cancellationToken
    )
    {
        await connection.ExecuteAsync(
            Command(
                "INSERT INTO images (image) VALUES (@Image) ON CONFLICT (image) DO NOTHING",
                new { Image = image },
                transaction,
                cancellationToken
            )
        );
    }

    private static Task<long> InsertQueuedAsync(
        DbConnection connection,
        DbTransaction transaction,
        NewBuild build,
        DateTimeOffset at,
        CancellationToken cancellationToken
    ) =>
        // started_at holds when it was queued until the runner claims it.
        connection.ExecuteScalarAsync<long>(
            Command(
                """
                INSERT INTO builds (image, target, "trigger", requester, reason, fingerprint, started_at, status,
                                    cancel_requested, queued_at, traceparent, requires_kvm)
                VALUES (@Image, @Target, @Trigger, @Requester, @Reason, @Fingerprint, @At, 'queued', 0, @At,
                        @TraceParent, @RequiresKvm)
                RETURNING id
                """,
                new
                {
                    build.Image,
                    build.Target,
                    Trigger = DbText.FromEnum(build.Trigger),
                    build.Requester,
                    build.Reason,
                    build.Fingerprint,
                    At = DbText.FromTime(at),
                    build.TraceParent,
                    RequiresKvm = build.RequiresKvm ? 1 : 0,
                },
                transaction,
                cancellationToken
            )
        );

    private static async Task<BuildRecord> GetBuildAsync(
        DbConnection connection,
        DbTransaction transaction,
        long id,
        CancellationToken cancellationToken
    ) =>
        (
            await FindBuildAsync(
                connection,
                transaction,
                "id = @Id",
                new { Id = id },
                cancellationToken
            )
        )!.ToRecord();

    // The first build matching a condition (which may end in ORDER BY ... LIMIT 1).
    private static Task<SqlCatalog.BuildRow?> FindBuildAsync(
        DbConnection connection,
        DbTransaction? transaction,
        string condition,
        object parameters,
        CancellationToken cancellationToken
    ) =>
        connection.QueryFirstOrDefaultAsync<SqlCatalog.BuildRow?>(
            Command(
                $"SELECT {SqlCatalog.BuildColumns} FROM builds WHERE {condition}",
                parameters,
                transaction,
                cancellationToken
            )
        );

    private static CommandDefinition Command(
        string sql,
        object? parameters,
        DbTransaction? transaction,
        CancellationToken cancellationToken
    ) => new(sql, parameters, transaction, cancellationToken: cancellationToken);

    // Rows as Dapper fills them, converted to the model in one place.
    private sealed class FiringRow
    {
        public string Image { get; init; } = "";
        public string Target { get; init; } = "";
        public string ScheduledFor { get; init; } = "";
        public string FiredAt { get; init; } = "";
        public string Outcome { get; init; } = "";
        public long? BuildId { get; init; }
        public string Reason { get; init; } = "";

        public ScheduleFiring ToFiring() =>
            new(
                Image,
                Target,
                DbText.ToTime(ScheduledFor),
                DbText.ToTime(FiredAt),
                Outcome,
                BuildId is { } id ? DbText.FromId(id) : null,
                Reason
            );
    }

    private sealed class TokenRow
    {
        public long Id { get; init; }
        public string Actor { get; init; } = "";
        public string Role { get; init; } = "";
        public string CreatedAt { get; init; } = "";
        public string? RevokedAt { get; init; }

        public ApiToken ToToken() =>
            new(
                DbText.FromId(Id),
                Actor,
                Role,
                DbText.ToTime(CreatedAt),
                DbText.ToTimeOrNull(RevokedAt)
            );
    }

    private sealed class AttemptRow
    {
        public long DeliveryId { get; init; }
        public long Attempt { get; init; }
        public string At { get; init; } = "";
        public long? StatusCode { get; init; }
        public string? Error { get; init; }

        public WebhookAttempt ToAttempt() =>
            new(checked((int)Attempt), DbText.ToTime(At), checked((int?)StatusCode), Error);
    }

    private sealed class DeliveryRow
    {
        public long Id { get; init; }
        public string EventId { get; init; } = "";
        public string EventType { get; init; } = "";
        public string Url { get; init; } = "";
        public string Payload { get; init; } = "";
        public string State { get; init; } = "";
        public long Attempts { get; init; }
        public long? LastStatusCode { get; init; }
        public string? LastError { get; init; }
        public string CreatedAt { get; init; } = "";
        public string? NextAttemptAt { get; init; }
        public string? DeliveredAt { get; init; }
        public string? TraceParent { get; init; }
        public long ClaimEpoch { get; init; }
        public string? ClaimedBy { get; init; }

        public WebhookDelivery ToDelivery() =>
            new()
            {
                Id = DbText.FromId(Id),
                EventId = EventId,
                EventType = EventType,
                Url = Url,
                Payload = Payload,
                State = State,
                Attempts = checked((int)Attempts),
                LastStatusCode = checked((int?)LastStatusCode),
                LastError = LastError,
                CreatedAt = DbText.ToTime(CreatedAt),
                NextAttemptAt = DbText.ToTimeOrNull(NextAttemptAt),
                DeliveredAt = DbText.ToTimeOrNull(DeliveredAt),
                TraceParent = TraceParent,
                ClaimedBy = ClaimedBy,
            };
    }
}
