using ImageForge.Core.Builds;

namespace ImageForge.Storage.Sql;

/// <summary>
/// <see cref="VersionStatus"/> as <c>image_versions.status</c> holds it: the one mapping (<see cref="DbText"/>), also
/// for the statuses written into SQL text.
/// </summary>
internal static class VersionStatusText
{
    public static readonly string Pending = DbText.FromEnum(VersionStatus.Pending);
    public static readonly string Built = DbText.FromEnum(VersionStatus.Built);
    public static readonly string Rejected = DbText.FromEnum(VersionStatus.Rejected);
    public static readonly string Revoked = DbText.FromEnum(VersionStatus.Revoked);
    public static readonly string Deleted = DbText.FromEnum(VersionStatus.Deleted);
}
