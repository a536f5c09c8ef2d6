using System.Globalization;

namespace ImageForge.Core.Facts;

/// <summary>The names of the fact sets and measurements a snapshot holds (catalog rows use the same names).</summary>
public static class FactNames
{
    /// <summary>apt source lines.</summary>
    public const string AptSource = "apt_source";

    /// <summary>apt keyrings, "path sha256".</summary>
    public const string AptKey = "apt_key";

    /// <summary>CA certificates by sha256.</summary>
    public const string CaCertificate = "ca_certificate";

    /// <summary>setuid/setgid files, "path sha256".</summary>
    public const string SetuidFile = "setuid_file";

    /// <summary>World-writable paths.</summary>
    public const string WorldWritable = "world_writable";

    /// <summary>Enabled systemd units.</summary>
    public const string EnabledUnit = "enabled_unit";

    /// <summary>Enabled systemd timers.</summary>
    public const string Timer = "timer";

    /// <summary>Cron entries.</summary>
    public const string Cron = "cron";

    /// <summary>Accounts, "name uid=U gid=G shell=S".</summary>
    public const string User = "user";

    /// <summary>Sudoers lines.</summary>
    public const string Sudoers = "sudoers";

    /// <summary>sshd settings, "key value".</summary>
    public const string Sshd = "sshd";

    /// <summary>authorized_keys files, "path sha256".</summary>
    public const string AuthorizedKeys = "authorized_keys";

    /// <summary>sysctl settings, "key = value".</summary>
    public const string Sysctl = "sysctl";

    /// <summary>Blacklisted kernel modules.</summary>
    public const string ModuleBlacklist = "module_blacklist";

    /// <summary>Compliance rules failing after hardening.</summary>
    public const string FailedRule = "failed_rule";

    /// <summary>Unsuppressed critical findings, "advisory package".</summary>
    public const string CriticalFinding = "critical_finding";

    /// <summary>Measurement: size in bytes of the root filesystem's files.</summary>
    public const string RootfsBytes = "size.rootfs_bytes";

    /// <summary>Measurement: size in bytes of the raw disk.</summary>
    public const string DiskBytes = "size.disk_bytes";

    /// <summary>Measurement: seconds of the whole build.</summary>
    public const string BuildSeconds = "duration.total";

    /// <summary>Prefix of the measurement of one stage's seconds.</summary>
    public const string StagePrefix = "duration.";

    /// <summary>Measurement: the compliance score after hardening.</summary>
    public const string ComplianceScore = "compliance.score";

    /// <summary>Prefix of the measurement of the count of findings of one severity.</summary>
    public const string FindingsPrefix = "findings.";

    /// <summary>Prefix of the base's sets and measurements among a version's catalog rows (base:setuid_file).</summary>
    public const string BasePrefix = "base:";

    /// <summary>The catalog row set holding the base's key (<see cref="FactSnapshot.BaseKey"/>).</summary>
    public const string BaseKey = "base:key";

    /// <summary>
    /// The catalog row set holding the digest of the base's facts (<see cref="FactSnapshot.Digest"/>), so the base of
    /// two versions is compared by one row each.
    /// </summary>
    public const string BaseDigest = "base:digest";
}

/// <summary>
/// One version's facts flattened into named sets of members and named measurements: what detectors compare and
/// what the catalog stores as rows (one row per member or measurement).
/// </summary>
/// <param name="Version">The version the facts belong to.</param>
/// <param name="Sets">Members per set name (<see cref="FactNames"/>).</param>
/// <param name="Metrics">Measurements per name.</param>
public sealed record FactSnapshot(
    string Version,
    IReadOnlyDictionary<string, IReadOnlySet<string>> Sets,
    IReadOnlyDictionary<string, double> Metrics
)
{
    /// <summary>The key of the inputs that made the version's base (<see cref="BaseFacts.Key"/>); null without one.</summary>
    public string? BaseKey { get; init; }

    /// <summary>The facts of the version's base (its sets and sizes); null when the target collects none.</summary>
    public FactSnapshot? Base { get; init; }

    /// <summary>
    /// sha256 (hex) of the sets and measurements, in a canonical order: equal exactly when both snapshots hold the
    /// same members and values (the version itself is not part of it).
    /// </summary>
    public string Digest()
    {
        var text = new System.Text.StringBuilder();
        foreach (var (name, members) in Sets.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            foreach (var member in members.Order(StringComparer.Ordinal))
            {
                text.Append("set\t").Append(name).Append('\t').Append(member).Append('\n');
            }
        }
        foreach (var (name, value) in Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            text.Append("metric\t")
                .Append(name)
                .Append('\t')
                .Append(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture))
                .Append('\n');
        }
        return Convert.ToHexStringLower(
            System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(text.ToString())
            )
        );
    }

    /// <summary>The members of a set; empty when the version has none.</summary>
    public IReadOnlySet<string> Set(string name) =>
        Sets.TryGetValue(name, out var members) ? members : EmptySet;

    private static readonly IReadOnlySet<string> EmptySet = new HashSet<string>();

    /// <summary>
    /// The snapshot as the catalog keeps it, one flat list of sets and measurements: the base's under
    /// <see cref="FactNames.BasePrefix"/>, its key as the one member of <see cref="FactNames.BaseKey"/> and its
    /// <see cref="Digest"/> as the one member of <see cref="FactNames.BaseDigest"/>.
    /// </summary>
    public (
        IReadOnlyDictionary<string, IReadOnlySet<string>> Sets,
        IReadOnlyDictionary<string, double> Metrics
    ) Flatten()
    {
        if (Base is null || BaseKey is null)
        {
            return (Sets, Metrics);
        }
        var sets = new Dictionary<string, IReadOnlySet<string>>(Sets, StringComparer.Ordinal)
        {
            [FactNames.BaseKey] = Of([BaseKey]),
            [FactNames.BaseDigest] = Of([Base.Digest()]),
        };
        foreach (var (name, members) in Base.Sets)
        {
            sets[FactNames.BasePrefix + name] = members;
        }
        var metrics = new Dictionary<string, double>(Metrics, StringComparer.Ordinal);
        foreach (var (name, value) in Base.Metrics)
        {
            metrics[FactNames.BasePrefix + name] = value;
        }
        return (sets, metrics);
    }

    /// <summary>The snapshot of the catalog's flat list (<see cref="Flatten"/>).</summary>
    public static FactSnapshot Unflatten(
        string version,
        IReadOnlyDictionary<string, IReadOnlySet<string>> sets,
        IReadOnlyDictionary<string, double> metrics
    )
    {
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(metrics);
        static bool OfBase(string name) =>
            name.StartsWith(FactNames.BasePrefix, StringComparison.Ordinal);
        static string Unprefixed(string name) => name[FactNames.BasePrefix.Length..];
        var own = new FactSnapshot(
            version,
            sets.Where(s => !OfBase(s.Key)).ToDictionary(StringComparer.Ordinal),
            metrics.Where(m => !OfBase(m.Key)).ToDictionary(StringComparer.Ordinal)
        );
        return sets.TryGetValue(FactNames.BaseKey, out var key) && key.Count == 1
            ? own with
            {
                BaseKey = key.Single(),
                Base = new FactSnapshot(
                    version,
                    sets.Where(s =>
                            OfBase(s.Key)
                            && s.Key is not (FactNames.BaseKey or FactNames.BaseDigest)
                        )
                        .ToDictionary(s => Unprefixed(s.Key), s => s.Value, StringComparer.Ordinal),
                    metrics
                        .Where(m => OfBase(m.Key))
                        .ToDictionary(m => Unprefixed(m.Key), m => m.Value, StringComparer.Ordinal)
                ),
            }
            : own;
    }

    /// <summary>The snapshot of a facts document.</summary>
    public static FactSnapshot From(FactsDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var image = document.ImageFacts;
        var sets = new Dictionary<string, IReadOnlySet<string>>(
            ImageSets(image),
            StringComparer.Ordinal
        )
        {
            [FactNames.FailedRule] = Of(document.Build.FailedRules),
            [FactNames.CriticalFinding] = Of(document.Build.CriticalFindings),
        };
        var metrics = SizeMetrics(image);
        foreach (var (stage, seconds) in document.Build.StageSeconds)
        {
            metrics[FactNames.StagePrefix + stage] = seconds;
        }
        if (document.Build.StageSeconds.Count > 0)
        {
            metrics[FactNames.BuildSeconds] = document.Build.StageSeconds.Values.Sum();
        }
        if (document.Build.ComplianceScore is { } score)
        {
            metrics[FactNames.ComplianceScore] = score;
        }
        foreach (var (severity, count) in document.Build.Findings)
        {
            metrics[FactNames.FindingsPrefix + severity] = count;
        }
        return new FactSnapshot(document.Version, sets, metrics)
        {
            BaseKey = image.Base?.Key,
            Base = image.Base is { } root
                ? new FactSnapshot(document.Version, ImageSets(root.Facts), SizeMetrics(root.Facts))
                : null,
        };
    }

    // The sets collected inside a tree: the image's own, or its base's.
    private static Dictionary<string, IReadOnlySet<string>> ImageSets(ImageFacts image) =>
        new(StringComparer.Ordinal)
        {
            [FactNames.AptSource] = Of(image.Apt.Sources),
            [FactNames.AptKey] = Of(image.Apt.Keys.Select(k => $"{k.Path} {k.Sha256}")),
            [FactNames.CaCertificate] = Of(image.CaCertificates),
            [FactNames.SetuidFile] = Of(image.SetuidFiles.Select(f => $"{f.Path} {f.Sha256}")),
            [FactNames.WorldWritable] = Of(image.WorldWritable),
            [FactNames.EnabledUnit] = Of(image.Systemd.Enabled),
            [FactNames.Timer] = Of(image.Systemd.Timers),
            [FactNames.Cron] = Of(image.Cron),
            [FactNames.User] = Of(image.Users.Select(Describe)),
            [FactNames.Sudoers] = Of(image.Sudoers),
            [FactNames.Sshd] = Of(image.Sshd.Settings.Select(s => $"{s.Key} {s.Value}")),
            [FactNames.AuthorizedKeys] = Of(
                image.AuthorizedKeys.Select(k => $"{k.Path} {k.Sha256}")
            ),
            [FactNames.Sysctl] = Of(image.Sysctl.Select(s => $"{s.Key} = {s.Value}")),
            [FactNames.ModuleBlacklist] = Of(image.ModuleBlacklist),
        };

    private static Dictionary<string, double> SizeMetrics(ImageFacts image) =>
        image.Sizes.ToDictionary(
            s => "size." + s.Key,
            s => (double)s.Value,
            StringComparer.Ordinal
        );

    /// <summary>"name uid=0 gid=0 shell=/bin/bash", how an account reads in a set.</summary>
    public static string Describe(UserFact user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{user.Name} uid={user.Uid} gid={user.Gid} shell={user.Shell}"
        );
    }

    private static SortedSet<string> Of(IEnumerable<string> members) =>
        new SortedSet<string>(members, StringComparer.Ordinal);
}

/// <summary>Where versions' facts are kept as rows, to compare a build with the history of its image.</summary>
public interface IFactsStore
{
    /// <summary>Records the facts of a version being built (pending); they go when a failed build's version goes.</summary>
    Task RecordFactsAsync(
        string image,
        string target,
        FactSnapshot facts,
        CancellationToken cancellationToken = default
    );

    /// <summary>
    /// The facts of the newest successful versions (built, or later promoted or revoked; never pending or rejected) of
    /// an image and target other than <paramref name="exceptVersion"/>, oldest first, at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<FactSnapshot>> HistoryAsync(
        string image,
        string target,
        string? exceptVersion,
        int limit,
        CancellationToken cancellationToken = default
    );

    /// <summary>The facts recorded for one version and target; null when none were.</summary>
    Task<FactSnapshot?> GetFactsAsync(
        string image,
        string version,
        string target,
        CancellationToken cancellationToken = default
    );
}
