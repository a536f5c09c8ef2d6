using Dapper;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;

namespace ImageForge.Storage.Sql;

/// <summary>The promotion store: lineage, version flags and retention.</summary>
internal sealed partial class SqlPromotionStore
{
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

    public async Task<IReadOnlyList<(string Image, string Version)>> GetChildrenAsync(
        string image,
        string version,
        CancellationToken cancellationToken = default
    )
    {
        await using var connection = await _connect(cancellationToken);
        var rows = await connection.QueryAsync<(string Image, string Version)>(
            Cmd(
                """
                SELECT image, version FROM version_lineage
                WHERE parent_image = @Image AND parent_version = @Version ORDER BY image, version
                """,
                new { Image = image, Version = version },
                null,
                cancellationToken
            )
        );
        return [.. rows];
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
}
