using System.Data.Common;
using System.Globalization;
using Dapper;
using ImageForge.Core.Artifacts;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Facts;

namespace ImageForge.Storage.Sql;

/// <summary>
/// The catalog over any database with a <see cref="SqlDialect"/>: statements in SQL that SQLite and PostgreSQL both
/// accept, one connection per operation (the provider pools them), and every change of several rows in one
/// transaction.
/// </summary>
internal sealed class SqlCatalog : ICatalog
{
    private const string Running = "running";

    // Shared with SqlWorkerStore, so a build row is read one way only.
    internal const string BuildColumns = """
        id AS Id, image AS Image, target AS Target, "trigger" AS TriggerText, requester AS Requester,
        reason AS Reason, fingerprint AS Fingerprint, started_at AS StartedAt, ended_at AS EndedAt,
        status AS StatusText, message AS Message, version AS Version, owner_pid AS OwnerPid,
        owner_host AS OwnerHost, tool_pgid AS ToolProcessGroup, cancel_requested AS CancelRequested, resumable AS Resumable,
        queued_at AS QueuedAt, traceparent AS TraceParent, lease_worker AS LeaseWorker, lease_epoch AS LeaseEpoch,
        lease_expires_at AS LeaseExpiresAt, attempts AS Attempts
        """;

    private const string NewestVersionsFirst = "ORDER BY version_day DESC, version_seq DESC";

    private readonly SqlDialect _dialect;
    private readonly Func<CancellationToken, Task<DbConnection>> _connect;
    private readonly TimeProvider _time;
    private readonly IArtifactStore _data;

    public SqlCatalog(
        SqlDialect dialect,
        Func<CancellationToken, Task<DbConnection>> connect,
        TimeProvider time,
        IArtifactStore data
    )
    {
        _dialect = dialect;
        _connect = connect;
        _time = time;
        _data = data;
    }

    public async Task<BuildRecord> StartBuildAsync(
        NewBuild build,
        int ownerPid,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ownerPid);
        var startedAt = DbText.FromTime(_time.GetUtcNow());

        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        // The image is listed from its first build on, with no versions until one succeeds.
        await connection.ExecuteAsync(
            Command(
                "INSERT INTO images (image) VALUES (@Image) ON CONFLICT (image) DO NOTHING",
                new { build.Image },
                transaction,
                cancellationToken
            )
        );
        var id = await connection.ExecuteScalarAsync<long>(
            Command(
                """
                INSERT INTO builds (image, target, "trigger", requester, reason, fingerprint, started_at, status,
                                    owner_pid, owner_host, cancel_requested)
                VALUES (@Image, @Target, @Trigger, @Requester, @Reason, @Fingerprint, @StartedAt, @Status,
                        @OwnerPid, @OwnerHost, 0)
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
                    StartedAt = startedAt,
                    Status = Running,
                    OwnerPid = ownerPid,
                    OwnerHost = HostIdentity.Current,
                },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);

        return new BuildRecord
        {
            Id = DbText.FromId(id),
            Image = build.Image,
            Target = build.Target,
            Trigger = build.Trigger,
            Requester = build.Requester,
            Reason = build.Reason,
            Fingerprint = build.Fingerprint,
            StartedAt = DbText.ToTime(startedAt),
            Status = BuildStatus.Running,
            OwnerPid = ownerPid,
            OwnerHost = HostIdentity.Current,
        };
    }

    public async Task SetToolProcessGroupAsync(
        string buildId,
        int? processGroup,
        CancellationToken cancellationToken = default
    )
    {
        const string Attempt = "record the tool process group of";
        var id = ParseOrRefuse(buildId, Attempt);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        // Recording a process group is for running builds only; clearing it is harmless at any time.
        var changed = await connection.ExecuteAsync(
            Command(
                processGroup is null
                    ? "UPDATE builds SET tool_pgid = NULL WHERE id = @Id"
                    : "UPDATE builds SET tool_pgid = @ProcessGroup WHERE id = @Id AND status = 'running'",
                new { Id = id, ProcessGroup = processGroup },
                transaction,
                cancellationToken
            )
        );
        if (changed == 0)
        {
            throw await NotRunningAsync(connection, transaction, id, Attempt, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task AppendLogAsync(
        string buildId,
        IReadOnlyList<(DateTimeOffset Time, string Stream, string Text)> lines,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(lines);
        const string Attempt = "append log lines to";
        var id = ParseOrRefuse(buildId, Attempt);
        if (lines.Count == 0)
        {
            return;
        }

        for (var i = 0; i < lines.Count; i++)
        {
            if (lines[i].Stream is null || lines[i].Text is null)
            {
                throw new ArgumentException(
                    $"Log line {i} has no stream or no text.",
                    nameof(lines)
                );
            }
        }

        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        // Lines may follow the end of a build (a cleaner explaining an interruption), so any existing build will do.
        var exists = await connection.ExecuteScalarAsync<long?>(
            Command(
                $"SELECT id FROM builds WHERE id = @Id",
                new { Id = id },
                transaction,
                cancellationToken
            )
        );
        if (exists is null)
        {
            throw new BuildNotRunningException(buildId, null, Attempt);
        }

        var last = await connection.ExecuteScalarAsync<long>(
            Command(
                "SELECT COALESCE(MAX(seq), 0) FROM build_logs WHERE build_id = @Id",
                new { Id = id },
                transaction,
                cancellationToken
            )
        );
        var rows = new LogRow[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            var (time, stream, text) = lines[i];
            rows[i] = new LogRow(id, last + 1 + i, DbText.FromTime(time), stream, text);
        }

        // Dapper runs the one prepared insert once per row.
        await connection.ExecuteAsync(
            Command(
                "INSERT INTO build_logs (build_id, seq, time, stream, text) VALUES (@BuildId, @Seq, @Time, @Stream, @Text)",
                rows,
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<LogLine>> ReadLogAsync(
        string buildId,
        long afterSequence = 0,
        int limit = 10_000,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        if (!DbText.TryParseId(buildId, out var id))
        {
            return [];
        }

        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<LogLineRow>(
            Command(
                """
                SELECT seq AS Seq, time AS Time, stream AS Stream, text AS Text
                FROM build_logs WHERE build_id = @Id AND seq > @After ORDER BY seq LIMIT @Limit
                """,
                new
                {
                    Id = id,
                    After = afterSequence,
                    Limit = limit,
                },
                null,
                cancellationToken
            )
        );
        return [.. rows.Select(r => new LogLine(r.Seq, DbText.ToTime(r.Time), r.Stream, r.Text))];
    }

    public async Task<string> ReserveVersionAsync(
        string buildId,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    )
    {
        const string Attempt = "reserve a version for";
        var id = ParseOrRefuse(buildId, Attempt);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var build = await RunningBuildAsync(
            connection,
            transaction,
            buildId,
            id,
            Attempt,
            cancellationToken
        );
        var version =
            build.Version
            ?? await ReserveAsync(connection, transaction, build, at, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return version;
    }

    public async Task<ImageVersion> CompleteBuildAsync(
        string buildId,
        IReadOnlyList<Artifact> artifacts,
        IReadOnlyList<EvidenceDocument> evidence,
        VersionStatus status,
        DateTimeOffset at,
        Func<string, IReadOnlyList<AuditEntry>>? audit = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        ArgumentNullException.ThrowIfNull(evidence);
        if (status is not (VersionStatus.Built or VersionStatus.Rejected))
        {
            throw new ArgumentOutOfRangeException(
                nameof(status),
                status,
                "a completed version is built or rejected"
            );
        }
        const string Attempt = "complete";
        var id = ParseOrRefuse(buildId, Attempt);
        var endedAt = DbText.FromTime(at);

        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var build = await RunningBuildAsync(
            connection,
            transaction,
            buildId,
            id,
            Attempt,
            cancellationToken
        );
        var version =
            build.Version
            ?? await ReserveAsync(connection, transaction, build, at, cancellationToken);

        await connection.ExecuteAsync(
            Command(
                "UPDATE image_versions SET status = @Status WHERE image = @Image AND version = @Version",
                new
                {
                    build.Image,
                    Version = version,
                    Status = DbText.FromEnum(status),
                },
                transaction,
                cancellationToken
            )
        );
        if (artifacts.Count > 0)
        {
            await connection.ExecuteAsync(
                Command(
                    """
                    INSERT INTO artifacts (image, version, position, target, region, kind, location, in_data_dir,
                                           in_store, sha256, size_bytes, source_sha256, details)
                    VALUES (@Image, @Version, @Position, @Target, @Region, @Kind, @Location, @InDataDir, @InStore,
                            @Sha256, @SizeBytes, @SourceSha256, @Details)
                    """,
                    artifacts.Select(
                        (a, i) =>
                        {
                            var stored = _data.Store(a.Location);
                            return new
                            {
                                build.Image,
                                Version = version,
                                Position = i,
                                a.Target,
                                a.Region,
                                a.Kind,
                                stored.Location,
                                InDataDir = InDataDir(stored),
                                InStore = InStore(stored),
                                a.Sha256,
                                a.SizeBytes,
                                a.SourceSha256,
                                Details = ArtifactDetails.ToText(a.Details),
                            };
                        }
                    ),
                    transaction,
                    cancellationToken
                )
            );
        }

        await InsertEvidenceAsync(
            connection,
            transaction,
            build.Image,
            version,
            evidence,
            endedAt,
            cancellationToken
        );

        // The count and the newest by number, not simply this one: a clock behind another writer's may date it
        // earlier.
        await connection.ExecuteAsync(
            Command(
                $"""
                INSERT INTO images (image, version_count) VALUES (@Image, 0) ON CONFLICT (image) DO NOTHING;
                UPDATE images SET version_count = version_count + 1 WHERE image = @Image;
                UPDATE images SET (latest_version, latest_created_at) =
                    (SELECT version, created_at FROM image_versions
                     WHERE image = @Image AND status <> '{VersionStatusText.Pending}' {NewestVersionsFirst} LIMIT 1)
                WHERE image = @Image
                """,
                new { build.Image },
                transaction,
                cancellationToken
            )
        );
        await connection.ExecuteAsync(
            Command(
                """
                UPDATE builds
                SET status = 'succeeded', ended_at = @EndedAt, owner_pid = NULL, owner_host = NULL, tool_pgid = NULL
                WHERE id = @Id AND status = 'running'
                """,
                new { Id = id, EndedAt = endedAt },
                transaction,
                cancellationToken
            )
        );
        var created = await connection.ExecuteScalarAsync<string>(
            Command(
                "SELECT created_at FROM image_versions WHERE image = @Image AND version = @Version",
                new { build.Image, Version = version },
                transaction,
                cancellationToken
            )
        );
        foreach (var entry in audit?.Invoke(version) ?? [])
        {
            await SqlAudit.AppendAsync(connection, transaction, entry, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);

        return new ImageVersion
        {
            Image = build.Image,
            Version = version,
            BuildId = buildId,
            CreatedAt = DbText.ToTime(created!),
            Status = status,
            Fingerprint = build.Fingerprint,
            Artifacts = [.. artifacts],
            Evidence = [.. evidence.Select(e => e with { RecordedAt = DbText.ToTime(endedAt) })],
        };
    }

    public async Task AddEvidenceAsync(
        string image,
        string version,
        IReadOnlyList<EvidenceDocument> evidence,
        DateTimeOffset at,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(evidence);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var exists = await connection.ExecuteScalarAsync<long>(
            Command(
                $"SELECT COUNT(*) FROM image_versions WHERE image = @Image AND version = @Version AND status <> '{VersionStatusText.Pending}'",
                new { Image = image, Version = version },
                transaction,
                cancellationToken
            )
        );
        if (exists == 0)
        {
            throw new CatalogException(
                $"{image}@{version} is not in the catalog; evidence can only be added to a recorded version."
            );
        }

        await InsertEvidenceAsync(
            connection,
            transaction,
            image,
            version,
            evidence,
            DbText.FromTime(at),
            cancellationToken
        );
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task<BuildRow> RunningBuildAsync(
        DbConnection connection,
        DbTransaction transaction,
        string buildId,
        long id,
        string attempt,
        CancellationToken cancellationToken
    )
    {
        var build = await connection.QuerySingleOrDefaultAsync<BuildRow>(
            Command(
                $"SELECT {BuildColumns} FROM builds WHERE id = @Id",
                new { Id = id },
                transaction,
                cancellationToken
            )
        );
        return build?.StatusText == Running
            ? build
            : throw new BuildNotRunningException(buildId, build?.Status, attempt);
    }

    // Allocates YYYY.MM.DD.N as a pending version of the build; pending numbers count, so two builds never share one.
    private static async Task<string> ReserveAsync(
        DbConnection connection,
        DbTransaction transaction,
        BuildRow build,
        DateTimeOffset at,
        CancellationToken cancellationToken
    )
    {
        var day = at.UtcDateTime.ToString("yyyy.MM.dd", CultureInfo.InvariantCulture);
        var sequence =
            1
            + await connection.ExecuteScalarAsync<long>(
                Command(
                    "SELECT COALESCE(MAX(version_seq), 0) FROM image_versions WHERE image = @Image AND version_day = @Day",
                    new { build.Image, Day = day },
                    transaction,
                    cancellationToken
                )
            );
        var version = $"{day}.{sequence.ToString(CultureInfo.InvariantCulture)}";
        await connection.ExecuteAsync(
            Command(
                $"""
                INSERT INTO image_versions (image, version, version_day, version_seq, build_id, created_at, status,
                                            fingerprint)
                VALUES (@Image, @Version, @Day, @Sequence, @BuildId, @CreatedAt, '{VersionStatusText.Pending}', @Fingerprint);
                UPDATE builds SET version = @Version WHERE id = @BuildId;
                """,
                new
                {
                    build.Image,
                    Version = version,
                    Day = day,
                    Sequence = sequence,
                    BuildId = build.Id,
                    CreatedAt = DbText.FromTime(at),
                    build.Fingerprint,
                },
                transaction,
                cancellationToken
            )
        );
        return version;
    }

    private async Task InsertEvidenceAsync(
        DbConnection connection,
        DbTransaction transaction,
        string image,
        string version,
        IReadOnlyList<EvidenceDocument> evidence,
        string recordedAt,
        CancellationToken cancellationToken
    )
    {
        if (evidence.Count == 0)
        {
            return;
        }

        await connection.ExecuteAsync(
            Command(
                """
                INSERT INTO evidence (image, version, kind, location, in_data_dir, in_store, sha256, size_bytes,
                                      media_type, recorded_at)
                VALUES (@Image, @Version, @Kind, @Location, @InDataDir, @InStore, @Sha256, @SizeBytes, @MediaType,
                        @RecordedAt)
                """,
                evidence.Select(e =>
                {
                    var stored = _data.Store(e.Location);
                    return new
                    {
                        Image = image,
                        Version = version,
                        e.Kind,
                        stored.Location,
                        InDataDir = InDataDir(stored),
                        InStore = InStore(stored),
                        e.Sha256,
                        e.SizeBytes,
                        e.MediaType,
                        RecordedAt = recordedAt,
                    };
                }),
                transaction,
                cancellationToken
            )
        );
    }

    public async Task EndBuildAsync(
        string buildId,
        BuildStatus status,
        string message,
        DateTimeOffset at,
        AuditEntry? audit = null,
        CancellationToken cancellationToken = default
    )
    {
        if (status is not (BuildStatus.Failed or BuildStatus.Cancelled or BuildStatus.Interrupted))
        {
            throw new ArgumentOutOfRangeException(
                nameof(status),
                status,
                "A build ends as Failed, Cancelled or Interrupted; success goes through CompleteBuildAsync."
            );
        }

        ArgumentNullException.ThrowIfNull(message);
        var attempt = $"mark as {DbText.FromEnum(status)}";
        var id = ParseOrRefuse(buildId, attempt);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var changed = await connection.ExecuteAsync(
            Command(
                $"""
                DELETE FROM image_versions WHERE build_id = @Id AND status = '{VersionStatusText.Pending}'
                    AND EXISTS (SELECT 1 FROM builds WHERE id = @Id AND status = 'running' AND resumable = 0);
                UPDATE builds
                SET status = @Status, message = @Message, ended_at = @EndedAt, owner_pid = NULL, owner_host = NULL, tool_pgid = NULL,
                    version = CASE WHEN resumable = 1 THEN version ELSE NULL END
                WHERE id = @Id AND status = 'running'
                """,
                new
                {
                    Id = id,
                    Status = DbText.FromEnum(status),
                    Message = message,
                    EndedAt = DbText.FromTime(at),
                },
                transaction,
                cancellationToken
            )
        );
        if (changed == 0)
        {
            throw await NotRunningAsync(connection, transaction, id, attempt, cancellationToken);
        }

        if (audit is not null)
        {
            await SqlAudit.AppendAsync(connection, transaction, audit, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task MarkResumableAsync(
        string buildId,
        CancellationToken cancellationToken = default
    )
    {
        const string Attempt = "mark as resumable";
        var id = ParseOrRefuse(buildId, Attempt);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var changed = await connection.ExecuteAsync(
            Command(
                $"UPDATE builds SET resumable = 1 WHERE id = @Id AND status = '{Running}' AND version IS NOT NULL",
                new { Id = id },
                transaction,
                cancellationToken
            )
        );
        if (changed == 0)
        {
            throw await NotRunningAsync(connection, transaction, id, Attempt, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<BuildRecord> ResumeBuildAsync(
        string buildId,
        int ownerPid,
        CancellationToken cancellationToken = default
    )
    {
        const string Attempt = "resume";
        var id = ParseOrRefuse(buildId, Attempt);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        var changed = await connection.ExecuteAsync(
            Command(
                $"""
                UPDATE builds SET status = '{Running}', ended_at = NULL, message = NULL, owner_pid = @Owner,
                    owner_host = @OwnerHost, tool_pgid = NULL, cancel_requested = 0, lease_worker = NULL,
                    lease_expires_at = NULL, lease_epoch = lease_epoch + 1
                WHERE id = @Id AND resumable = 1 AND status IN ('failed', 'interrupted', 'cancelled')
                """,
                new
                {
                    Id = id,
                    Owner = ownerPid,
                    OwnerHost = HostIdentity.Current,
                },
                transaction,
                cancellationToken
            )
        );
        var build = await connection.QuerySingleOrDefaultAsync<BuildRow>(
            Command(
                $"SELECT {BuildColumns} FROM builds WHERE id = @Id",
                new { Id = id },
                transaction,
                cancellationToken
            )
        );
        if (changed == 0 || build is null)
        {
            throw new InvalidInputException(
                build is null ? $"there is no build {buildId}; see 'imageforge builds list'"
                : build.Status is BuildStatus.Running or BuildStatus.Queued
                    ? $"build {buildId} is {build.StatusText}; there is nothing to resume yet"
                : build.Status == BuildStatus.Succeeded
                    ? $"build {buildId} succeeded (version {build.Version}); there is nothing to resume"
                : $"build {buildId} ended ({build.StatusText}) before it began importing, so it has nothing to "
                    + $"resume; run 'imageforge build {build.Image}' again"
            );
        }

        await transaction.CommitAsync(cancellationToken);
        return build.ToRecord();
    }

    public async Task<IReadOnlyList<ImportStepRecord>> GetImportStepsAsync(
        string buildId,
        CancellationToken cancellationToken = default
    )
    {
        if (!DbText.TryParseId(buildId, out var id))
        {
            return [];
        }

        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<(string, string, string, string, string?)>(
            Command(
                """
                SELECT target, region, step, state, data FROM build_steps WHERE build_id = @Id
                ORDER BY target, region, step
                """,
                new { Id = id },
                null,
                cancellationToken
            )
        );
        return
        [
            .. rows.Select(r => new ImportStepRecord(
                r.Item1,
                new ImportStep(
                    r.Item2,
                    r.Item3,
                    DbText.ToEnum<ImportStepState>(r.Item4, "build_steps.state"),
                    r.Item5
                )
            )),
        ];
    }

    public async Task RecordImportStepAsync(
        string buildId,
        string target,
        ImportStep entry,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(entry);
        const string Attempt = "record an import step of";
        var id = ParseOrRefuse(buildId, Attempt);
        await using var connection = await _connect(cancellationToken);
        await using var transaction = await _dialect.BeginWriteTransactionAsync(
            connection,
            cancellationToken
        );
        await RunningBuildAsync(connection, transaction, buildId, id, Attempt, cancellationToken);
        await connection.ExecuteAsync(
            Command(
                """
                INSERT INTO build_steps (build_id, target, region, step, state, data, updated_at)
                VALUES (@Id, @Target, @Region, @Step, @State, @Data, @At)
                ON CONFLICT (build_id, target, region, step)
                DO UPDATE SET state = excluded.state, data = excluded.data, updated_at = excluded.updated_at
                """,
                new
                {
                    Id = id,
                    Target = target,
                    entry.Region,
                    entry.Step,
                    State = DbText.FromEnum(entry.State),
                    entry.Data,
                    At = DbText.FromTime(_time.GetUtcNow()),
                },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<bool> RequestCancelAsync(
        string buildId,
        CancellationToken cancellationToken = default
    )
    {
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
                "UPDATE builds SET cancel_requested = 1 WHERE id = @Id AND status = 'running'",
                new { Id = id },
                transaction,
                cancellationToken
            )
        );
        await transaction.CommitAsync(cancellationToken);
        return changed > 0;
    }

    public async Task<BuildRecord?> GetBuildAsync(
        string buildId,
        CancellationToken cancellationToken = default
    )
    {
        if (!DbText.TryParseId(buildId, out var id))
        {
            return null;
        }

        await using var connection = await _connect(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<BuildRow>(
            Command(
                $"SELECT {BuildColumns} FROM builds WHERE id = @Id",
                new { Id = id },
                null,
                cancellationToken
            )
        );
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<BuildRecord>> ListBuildsAsync(
        string? image = null,
        int limit = 50,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<BuildRow>(
            Command(
                $"""
                SELECT {BuildColumns} FROM builds
                {(image is null ? "" : "WHERE image = @Image")}
                ORDER BY started_at DESC, id DESC LIMIT @Limit
                """,
                new { Image = image, Limit = limit },
                null,
                cancellationToken
            )
        );
        return [.. rows.Select(r => r.ToRecord())];
    }

    /// <summary>Builds still marked running, oldest first, whether or not their owner is alive.</summary>
    public async Task<IReadOnlyList<BuildRecord>> ListRunningBuildsAsync(
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<BuildRow>(
            Command(
                $"SELECT {BuildColumns} FROM builds WHERE status = 'running' ORDER BY id",
                null,
                null,
                cancellationToken
            )
        );
        return [.. rows.Select(r => r.ToRecord())];
    }

    public async Task<IReadOnlyList<ImageSummary>> ListImagesAsync(
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        return await ReadAsync(
            connection,
            null,
            "SELECT image, version_count, latest_version, latest_created_at FROM images ORDER BY image",
            [],
            r => new ImageSummary(
                r.GetString(0),
                checked((int)r.GetInt64(1)),
                NullableString(r, 2),
                DbText.ToTimeOrNull(NullableString(r, 3))
            ),
            cancellationToken
        );
    }

    public Task<IReadOnlyList<ImageVersion>> ListVersionsAsync(
        string image,
        int limit = 50,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadVersionsAsync(
            $"WHERE image = @Image AND status <> '{VersionStatusText.Pending}' {NewestVersionsFirst} LIMIT @Limit",
            [("@Image", image), ("@Limit", limit)],
            cancellationToken
        );
    }

    public async Task<ImageVersion?> GetVersionAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(version);
        var found = await ReadVersionsAsync(
            $"WHERE image = @Image AND version = @Version AND status <> '{VersionStatusText.Pending}'",
            [("@Image", image), ("@Version", version)],
            cancellationToken
        );
        return found.Count == 0 ? null : found[0];
    }

    // Versions of one image chosen by a filter over image_versions (with its order and limit; it names @Image),
    // newest first, each with its artifacts and evidence: three queries in one read transaction, so a version is never
    // seen without the files recorded with it. The versions are read by the filter itself, which walks the
    // (image, day, seq) index newest first and stops at the limit; joining the chosen few back to image_versions let
    // SQLite scan every other version of the image after the last row it returned. Plain data readers: this is what
    // 'images show' does on every call, and Dapper's first use per row type (emitting its mappers) cost more than the
    // queries (benchmarks/results/catalog-scale.md).
    private async Task<IReadOnlyList<ImageVersion>> ReadVersionsAsync(
        string chosen,
        IReadOnlyList<(string Name, object Value)> parameters,
        CancellationToken cancellationToken
    )
    {
        var chosenVersions = $"SELECT version FROM image_versions {chosen}";
        await using var connection = await _connect(cancellationToken);
        await using var transaction = _dialect.BeginReadTransaction(connection);
        var versions = await ReadAsync(
            connection,
            transaction,
            $"SELECT image, version, build_id, created_at, status, fingerprint FROM image_versions {chosen}",
            parameters,
            VersionRow,
            cancellationToken
        );
        var artifacts = await ReadAsync(
            connection,
            transaction,
            $"""
            SELECT a.image, a.version, a.target, a.region, a.kind, a.location, a.sha256, a.size_bytes,
                   a.source_sha256, a.details, a.in_data_dir, a.in_store
            FROM artifacts a
            WHERE a.image = @Image AND a.version IN ({chosenVersions})
            ORDER BY a.version, a.position
            """,
            parameters,
            ArtifactRow,
            cancellationToken
        );
        var evidence = await ReadAsync(
            connection,
            transaction,
            $"""
            SELECT e.image, e.version, e.kind, e.location, e.sha256, e.size_bytes, e.media_type, e.recorded_at,
                   e.in_data_dir, e.in_store
            FROM evidence e
            WHERE e.image = @Image AND e.version IN ({chosenVersions})
            ORDER BY e.version, e.id
            """,
            parameters,
            EvidenceRow,
            cancellationToken
        );
        await transaction.CommitAsync(cancellationToken);
        return Assemble(versions, artifacts, evidence);
    }

    /// <summary>
    /// The newest <paramref name="perImage"/> versions of every image (pending ones left out), newest first, with their
    /// artifacts and the evidence of <paramref name="evidenceKinds"/> (null: all of it; empty: none): three queries,
    /// whatever the number of images (the overview's read).
    /// </summary>
    public async Task<
        IReadOnlyDictionary<string, IReadOnlyList<ImageVersion>>
    > ListNewestVersionsAsync(
        int perImage,
        IReadOnlyCollection<string>? evidenceKinds = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perImage);
        // Per image, the (day, seq) of its Nth newest version is found by the (image, day, seq) index, and the rows from
        // there on are a range of the same index: a few rows an image. (ROW_NUMBER over every version sorted all of
        // them: 1.2 s at 100,000 versions, benchmarks/results/dashboard-scale.md.) An image with fewer versions has no
        // Nth: its cut is the lowest (day, seq), so all of them are read. CROSS JOIN keeps images the outer loop in
        // SQLite: with JOIN it scanned every version and took 210 ms, with images outside 5 ms (100,000 versions).
        var cut = $"""
            FROM image_versions w WHERE w.image = i.image AND w.status <> '{VersionStatusText.Pending}'
            ORDER BY w.version_day DESC, w.version_seq DESC LIMIT 1 OFFSET @Skip
            """;
        var found = await ReadVersionsByKeyAsync(
            $"""
            SELECT v.image, v.version, v.build_id, v.created_at, v.status, v.fingerprint
            FROM images i CROSS JOIN image_versions v
            WHERE v.image = i.image AND v.status <> '{VersionStatusText.Pending}'
              AND (v.version_day, v.version_seq) >= (
                  COALESCE((SELECT w.version_day {cut}), ''),
                  COALESCE((SELECT w.version_seq {cut}), 0))
            ORDER BY v.image, v.version_day DESC, v.version_seq DESC
            """,
            [("@Skip", perImage - 1)],
            evidenceKinds,
            cancellationToken
        );
        return found
            .GroupBy(v => v.Image, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => (IReadOnlyList<ImageVersion>)[.. g],
                StringComparer.Ordinal
            );
    }

    /// <summary>
    /// The versions named by (image, version), with their artifacts and the evidence of <paramref name="evidenceKinds"/>
    /// (null: all of it; empty: none); unknown or pending ones are left out.
    /// </summary>
    public async Task<IReadOnlyList<ImageVersion>> GetVersionsAsync(
        IReadOnlyCollection<(string Image, string Version)> keys,
        IReadOnlyCollection<string>? evidenceKinds = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new List<ImageVersion>();
        // A few hundred keys a statement keeps every database's parameter limit far away.
        foreach (var chunk in keys.Distinct().Chunk(250))
        {
            var (wanted, parameters) = Wanted(chunk);
            found.AddRange(
                await ReadVersionsByKeyAsync(
                    $"""
                    {wanted}
                    SELECT v.image, v.version, v.build_id, v.created_at, v.status, v.fingerprint
                    FROM image_versions v JOIN wanted w ON v.image = w.image AND v.version = w.version
                    WHERE v.status <> '{VersionStatusText.Pending}'
                    ORDER BY v.image, v.version_day DESC, v.version_seq DESC
                    """,
                    parameters,
                    evidenceKinds,
                    cancellationToken
                )
            );
        }

        return found;
    }

    /// <summary>
    /// What each version named by (image, version) was built from: its lineage's base image and parent, and its base
    /// facts' key and digest (<see cref="VersionBase"/>); a version with none of them recorded has all four null.
    /// </summary>
    public async Task<
        IReadOnlyDictionary<(string Image, string Version), VersionBase>
    > GetVersionBasesAsync(
        IReadOnlyCollection<(string Image, string Version)> keys,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new Dictionary<(string, string), VersionBase>();
        await using var connection = await _connect(cancellationToken);
        foreach (var chunk in keys.Distinct().Chunk(250))
        {
            var (wanted, parameters) = Wanted(chunk);
            // The one member of a base fact set of the version (any target: only the disk's collects them).
            static string Fact(string parameter) =>
                "(SELECT MIN(f.member) FROM version_facts f "
                + $"WHERE f.image = w.image AND f.version = w.version AND f.name = {parameter})";
            var rows = await ReadAsync(
                connection,
                null,
                $"""
                {wanted}
                SELECT w.image, w.version, l.base_image, l.parent_image, l.parent_version,
                       {Fact("@BaseKey")}, {Fact("@BaseDigest")}
                FROM wanted w LEFT JOIN version_lineage l ON l.image = w.image AND l.version = w.version
                """,
                [
                    .. parameters,
                    ("@BaseKey", FactNames.BaseKey),
                    ("@BaseDigest", FactNames.BaseDigest),
                ],
                r =>
                    (
                        Key: (r.GetString(0), r.GetString(1)),
                        Base: new VersionBase(
                            r.GetString(1),
                            NullableString(r, 2),
                            NullableString(r, 3) is { } parent
                                ? $"{parent}@{NullableString(r, 4)}"
                                : null,
                            NullableString(r, 5),
                            NullableString(r, 6)
                        )
                    ),
                cancellationToken
            );
            foreach (var (key, value) in rows)
            {
                found[key] = value;
            }
        }
        return found;
    }

    /// <summary>
    /// The version of <paramref name="image"/> just before <paramref name="version"/> in the catalog's order (day, then
    /// number), pending ones left out; null when it is the first or unknown. One row by the (image, day, seq) index.
    /// </summary>
    public async Task<string?> GetPreviousVersionAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(version);
        await using var connection = await _connect(cancellationToken);
        var rows = await ReadAsync(
            connection,
            null,
            $"""
            SELECT p.version FROM image_versions p
            JOIN image_versions v ON v.image = p.image AND v.version = @Version
            WHERE p.image = @Image AND p.status <> '{VersionStatusText.Pending}'
              AND (p.version_day < v.version_day OR (p.version_day = v.version_day AND p.version_seq < v.version_seq))
            ORDER BY p.version_day DESC, p.version_seq DESC
            LIMIT 1
            """,
            [("@Image", image), ("@Version", version)],
            r => r.GetString(0),
            cancellationToken
        );
        return rows.Count == 0 ? null : rows[0];
    }

    // Versions of any images chosen by a query of their six columns, then their artifacts and the evidence of the kinds
    // asked for (null: all) by the (image, version) keys found, in one read transaction.
    private async Task<IReadOnlyList<ImageVersion>> ReadVersionsByKeyAsync(
        string versionsSql,
        IReadOnlyList<(string Name, object Value)> parameters,
        IReadOnlyCollection<string>? evidenceKinds,
        CancellationToken cancellationToken
    )
    {
        var kinds = evidenceKinds?.Distinct(StringComparer.Ordinal).ToList();
        var kindFilter = kinds is null
            ? ""
            : $"WHERE e.kind IN ({string.Join(", ", kinds.Select((_, i) => $"@K{i}"))})";
        await using var connection = await _connect(cancellationToken);
        await using var transaction = _dialect.BeginReadTransaction(connection);
        var versions = await ReadAsync(
            connection,
            transaction,
            versionsSql,
            parameters,
            VersionRow,
            cancellationToken
        );
        var artifacts = new List<(string Image, string Version, Artifact Artifact)>();
        var evidence = new List<(string Image, string Version, EvidenceDocument Document)>();
        foreach (var chunk in versions.Chunk(250))
        {
            var (wanted, keys) = Wanted([.. chunk.Select(v => (v.Image, v.Version))]);
            artifacts.AddRange(
                await ReadAsync(
                    connection,
                    transaction,
                    $"""
                    {wanted}
                    SELECT a.image, a.version, a.target, a.region, a.kind, a.location, a.sha256, a.size_bytes,
                           a.source_sha256, a.details, a.in_data_dir, a.in_store
                    FROM artifacts a JOIN wanted w ON a.image = w.image AND a.version = w.version
                    ORDER BY a.image, a.version, a.position
                    """,
                    keys,
                    ArtifactRow,
                    cancellationToken
                )
            );
            if (kinds is { Count: 0 })
            {
                continue;
            }
            evidence.AddRange(
                await ReadAsync(
                    connection,
                    transaction,
                    $"""
                    {wanted}
                    SELECT e.image, e.version, e.kind, e.location, e.sha256, e.size_bytes, e.media_type, e.recorded_at,
                           e.in_data_dir, e.in_store
                    FROM evidence e JOIN wanted w ON e.image = w.image AND e.version = w.version
                    {kindFilter}
                    ORDER BY e.image, e.version, e.id
                    """,
                    [.. keys, .. (kinds ?? []).Select((k, i) => ($"@K{i}", (object)k))],
                    EvidenceRow,
                    cancellationToken
                )
            );
        }

        await transaction.CommitAsync(cancellationToken);
        return Assemble(versions, artifacts, evidence);
    }

    // The CTE "wanted (image, version)" of the given keys, and its parameters.
    private static (string Sql, List<(string Name, object Value)> Parameters) Wanted(
        IReadOnlyList<(string Image, string Version)> keys
    ) =>
        (
            $"WITH wanted (image, version) AS (VALUES {string.Join(", ", keys.Select((_, i) => $"(@I{i}, @V{i})"))})",
            [
                .. keys.SelectMany(
                    (k, i) => new[] { ($"@I{i}", (object)k.Image), ($"@V{i}", k.Version) }
                ),
            ]
        );

    private static (
        string Image,
        string Version,
        string BuildId,
        DateTimeOffset CreatedAt,
        string Status,
        string Fingerprint
    ) VersionRow(DbDataReader r) =>
        (
            r.GetString(0),
            r.GetString(1),
            DbText.FromId(r.GetInt64(2)),
            DbText.ToTime(r.GetString(3)),
            r.GetString(4),
            r.GetString(5)
        );

    private (string Image, string Version, Artifact Artifact) ArtifactRow(DbDataReader r) =>
        (
            r.GetString(0),
            r.GetString(1),
            new Artifact
            {
                Target = r.GetString(2),
                Region = r.GetString(3),
                Kind = r.GetString(4),
                Location = _data.Resolve(Stored(r.GetString(5), r.GetInt64(10), r.GetInt64(11))),
                Sha256 = NullableString(r, 6),
                SizeBytes = r.IsDBNull(7) ? null : r.GetInt64(7),
                SourceSha256 = NullableString(r, 8),
                Details = ArtifactDetails.FromText(NullableString(r, 9)),
            }
        );

    private (string Image, string Version, EvidenceDocument Document) EvidenceRow(DbDataReader r) =>
        (
            r.GetString(0),
            r.GetString(1),
            new EvidenceDocument
            {
                Kind = r.GetString(2),
                Location = _data.Resolve(Stored(r.GetString(3), r.GetInt64(8), r.GetInt64(9))),
                Sha256 = r.GetString(4),
                SizeBytes = r.IsDBNull(5) ? null : r.GetInt64(5),
                MediaType = r.GetString(6),
                RecordedAt = DbText.ToTime(r.GetString(7)),
            }
        );

    private static List<ImageVersion> Assemble(
        IEnumerable<(
            string Image,
            string Version,
            string BuildId,
            DateTimeOffset CreatedAt,
            string Status,
            string Fingerprint
        )> versions,
        IEnumerable<(string Image, string Version, Artifact Artifact)> artifacts,
        IEnumerable<(string Image, string Version, EvidenceDocument Document)> evidence
    )
    {
        var byVersion = artifacts.ToLookup(a => (a.Image, a.Version), a => a.Artifact);
        var evidenceByVersion = evidence.ToLookup(e => (e.Image, e.Version), e => e.Document);
        return
        [
            .. versions.Select(v => new ImageVersion
            {
                Image = v.Image,
                Version = v.Version,
                BuildId = v.BuildId,
                CreatedAt = v.CreatedAt,
                Status = DbText.ToEnum<VersionStatus>(v.Status, "image_versions.status"),
                Fingerprint = v.Fingerprint,
                Artifacts = [.. byVersion[(v.Image, v.Version)]],
                Evidence = [.. evidenceByVersion[(v.Image, v.Version)]],
            }),
        ];
    }

    private static async Task<List<T>> ReadAsync<T>(
        DbConnection connection,
        DbTransaction? transaction,
        string sql,
        IReadOnlyList<(string Name, object Value)> parameters,
        Func<DbDataReader, T> map,
        CancellationToken cancellationToken
    )
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    private static string? NullableString(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>
    /// The versions (image, version) holding an artifact of this target with this location (a provider image id or a
    /// file path) or this sha256; pending versions are left out.
    /// </summary>
    public async Task<IReadOnlyList<(string Image, string Version)>> FindArtifactOwnersAsync(
        string target,
        string? location,
        string? sha256,
        string? region,
        CancellationToken cancellationToken = default
    )
    {
        // Looked up in its stored form: relative when it is below the store or the data directory.
        StoredLocation? stored = location is null ? null : _data.Store(location);
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<(string Image, string Version)>(
            Command(
                $"""
                SELECT DISTINCT a.image, a.version
                FROM artifacts a JOIN image_versions v ON v.image = a.image AND v.version = a.version
                WHERE a.target = @Target AND v.status <> '{VersionStatusText.Pending}'
                  AND ((a.location = @Location AND a.in_data_dir = @InDataDir AND a.in_store = @InStore)
                       OR a.sha256 = @Sha256)
                  AND (@Region IS NULL OR a.region = @Region)
                ORDER BY a.image, a.version
                """,
                new
                {
                    Target = target,
                    stored?.Location,
                    InDataDir = stored is { } inData ? InDataDir(inData) : 0,
                    InStore = stored is { } inStore ? InStore(inStore) : 0,
                    Sha256 = sha256,
                    Region = region,
                },
                null,
                cancellationToken
            )
        );
        return [.. rows];
    }

    // A stored location's root as the two flags of its row (both 0: kept as given).
    private static int InDataDir(StoredLocation stored) =>
        stored.Root == LocationRoot.DataDirectory ? 1 : 0;

    private static int InStore(StoredLocation stored) => stored.Root == LocationRoot.Store ? 1 : 0;

    private static StoredLocation Stored(string location, long inDataDir, long inStore) =>
        new(
            location,
            inStore == 1 ? LocationRoot.Store
                : inDataDir == 1 ? LocationRoot.DataDirectory
                : LocationRoot.AsGiven
        );

    private static CommandDefinition Command(
        string sql,
        object? parameters,
        DbTransaction? transaction,
        CancellationToken cancellationToken
    ) => new(sql, parameters, transaction, cancellationToken: cancellationToken);

    private static long ParseOrRefuse(string buildId, string attempt)
    {
        ArgumentNullException.ThrowIfNull(buildId);
        return DbText.TryParseId(buildId, out var id)
            ? id
            : throw new BuildNotRunningException(buildId, null, attempt);
    }

    private static async Task<BuildNotRunningException> NotRunningAsync(
        DbConnection connection,
        DbTransaction transaction,
        long id,
        string attempt,
        CancellationToken cancellationToken
    )
    {
        var status = await connection.ExecuteScalarAsync<string?>(
            Command(
                "SELECT status FROM builds WHERE id = @Id",
                new { Id = id },
                transaction,
                cancellationToken
            )
        );
        return new BuildNotRunningException(
            DbText.FromId(id),
            status is null ? null : DbText.ToEnum<BuildStatus>(status, "builds.status"),
            attempt
        );
    }

    private sealed record LogRow(long BuildId, long Seq, string Time, string Stream, string Text);

    // Rows as Dapper fills them: column types as the database returns them, converted to the model in one place.
    private sealed class LogLineRow
    {
        public long Seq { get; init; }
        public string Time { get; init; } = "";
        public string Stream { get; init; } = "";
        public string Text { get; init; } = "";
    }

    internal sealed class BuildRow
    {
        public long Id { get; init; }
        public string Image { get; init; } = "";
        public string Target { get; init; } = "";
        public string TriggerText { get; init; } = "";
        public string Requester { get; init; } = "";
        public string? Reason { get; init; }
        public string Fingerprint { get; init; } = "";
        public string StartedAt { get; init; } = "";
        public string? EndedAt { get; init; }
        public string StatusText { get; init; } = "";
        public string? Message { get; init; }
        public string? Version { get; init; }
        public long? OwnerPid { get; init; }
        public string? OwnerHost { get; init; }
        public long? ToolProcessGroup { get; init; }
        public long CancelRequested { get; init; }
        public long Resumable { get; init; }
        public string? QueuedAt { get; init; }
        public string? TraceParent { get; init; }
        public string? LeaseWorker { get; init; }
        public long LeaseEpoch { get; init; }
        public string? LeaseExpiresAt { get; init; }
        public long Attempts { get; init; }

        public BuildStatus Status => DbText.ToEnum<BuildStatus>(StatusText, "builds.status");

        public BuildRecord ToRecord() =>
            new()
            {
                Id = DbText.FromId(Id),
                Image = Image,
                Target = Target,
                Trigger = DbText.ToEnum<BuildTrigger>(TriggerText, "builds.trigger"),
                Requester = Requester,
                Reason = Reason,
                Fingerprint = Fingerprint,
                StartedAt = DbText.ToTime(StartedAt),
                EndedAt = DbText.ToTimeOrNull(EndedAt),
                Status = Status,
                Message = Message,
                Version = Version,
                OwnerPid = checked((int?)OwnerPid),
                OwnerHost = OwnerHost,
                ToolProcessGroup = checked((int?)ToolProcessGroup),
                CancelRequested = CancelRequested != 0,
                Resumable = Resumable != 0,
                QueuedAt = DbText.ToTimeOrNull(QueuedAt),
                TraceParent = TraceParent,
                LeaseWorker = LeaseWorker,
                LeaseEpoch = LeaseEpoch,
                LeaseExpiresAt = DbText.ToTimeOrNull(LeaseExpiresAt),
                Attempts = checked((int)Attempts),
            };
    }
}
