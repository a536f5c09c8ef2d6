using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;

namespace ImageForge.Core.Facts;

/// <summary>
/// What an image's root filesystem trusts, runs and lets in, as <c>collect-facts.py</c> writes it inside the build's
/// root (image-facts.json). Never holds a password hash: users come from /etc/passwd only.
/// </summary>
public sealed record ImageFacts
{
    /// <summary>Format marker written by the collector script.</summary>
    public const string SchemaName = "imageforge.image-facts/v1";

    /// <summary>Always <see cref="SchemaName"/>.</summary>
    public required string Schema { get; init; }

    /// <summary>Package sources and the keys apt trusts.</summary>
    public required AptFacts Apt { get; init; }

    /// <summary>sha256 of each trusted CA certificate (DER) of the system bundle.</summary>
    public required IReadOnlyList<string> CaCertificates { get; init; }

    /// <summary>Regular files with the setuid or setgid bit.</summary>
    public required IReadOnlyList<SpecialFile> SetuidFiles { get; init; }

    /// <summary>World-writable paths outside the temporary trees (sticky directories left out).</summary>
    public required IReadOnlyList<string> WorldWritable { get; init; }

    /// <summary>Enabled systemd units and timers.</summary>
    public required SystemdFacts Systemd { get; init; }

    /// <summary>Cron entries, each "file: line" (or a script of a cron.daily-like directory).</summary>
    public required IReadOnlyList<string> Cron { get; init; }

    /// <summary>Accounts of /etc/passwd.</summary>
    public required IReadOnlyList<UserFact> Users { get; init; }

    /// <summary>Groups of /etc/group.</summary>
    public required IReadOnlyList<GroupFact> Groups { get; init; }

    /// <summary>Sudoers lines, each "file: line".</summary>
    public required IReadOnlyList<string> Sudoers { get; init; }

    /// <summary>The effective sshd configuration.</summary>
    public required SshdFacts Sshd { get; init; }

    /// <summary>authorized_keys files anywhere in the image.</summary>
    public required IReadOnlyList<KeyFile> AuthorizedKeys { get; init; }

    /// <summary>Configured sysctl values (security-relevant prefixes).</summary>
    public required IReadOnlyDictionary<string, string> Sysctl { get; init; }

    /// <summary>Kernel modules that are blacklisted or installed as /bin/true or /bin/false.</summary>
    public required IReadOnlyList<string> ModuleBlacklist { get; init; }

    /// <summary>Sizes in bytes: rootfs_bytes, disk_bytes, disk_allocated_bytes.</summary>
    public required IReadOnlyDictionary<string, long> Sizes { get; init; }

    /// <summary>
    /// The facts of the image's base (the tree before the image's own changes) with the key of the inputs that made
    /// it; null when the target collects none (cloud targets, or an older ImageForge).
    /// </summary>
    public BaseFacts? Base { get; init; }
}

/// <summary>The facts of an image's base and the key of the inputs that made the base.</summary>
/// <param name="Key">
/// What the base was made from (the local target's base cache key: suite, mirrors, variant, packages, kernel): two
/// bases with one key differ only when the source (the Debian archive) changed.
/// </param>
/// <param name="Facts">The base's facts, in the same shape as the image's (never with a base of their own).</param>
public sealed record BaseFacts(string Key, ImageFacts Facts);

/// <summary>apt's sources ("deb URI suite components") and signing keys.</summary>
public sealed record AptFacts(IReadOnlyList<string> Sources, IReadOnlyList<KeyFile> Keys);

/// <summary>A file with the setuid or setgid bit.</summary>
public sealed record SpecialFile(string Path, string Sha256, string Mode, int Uid, int Gid);

/// <summary>A key file (apt keyring, authorized_keys) by path and content hash.</summary>
public sealed record KeyFile(string Path, string Sha256)
{
    /// <summary>Number of keys in an authorized_keys file; null for keyrings.</summary>
    public int? Keys { get; init; }
}

/// <summary>Enabled systemd units (timers apart).</summary>
public sealed record SystemdFacts(IReadOnlyList<string> Enabled, IReadOnlyList<string> Timers);

/// <summary>An account: name, uid, primary gid and login shell.</summary>
public sealed record UserFact(string Name, int Uid, int Gid, string Shell);

/// <summary>A group with its members.</summary>
public sealed record GroupFact(string Name, int Gid, IReadOnlyList<string> Members);

/// <summary>sshd's settings (lowercase keys) and where they came from: "sshd -T", "sshd_config" or "absent".</summary>
public sealed record SshdFacts(string Source, IReadOnlyDictionary<string, string> Settings);

/// <summary>What the build itself adds to the image's facts.</summary>
/// <param name="StageSeconds">Seconds per stage of the build, in the order they ran.</param>
/// <param name="ComplianceScore">Compliance score after hardening; null without a scan.</param>
/// <param name="FailedRules">Compliance rules failing after hardening.</param>
/// <param name="Findings">Unsuppressed findings by severity name (critical, high, ...).</param>
/// <param name="CriticalFindings">Advisories of the unsuppressed critical findings, "advisory package".</param>
public sealed record BuildFacts(
    IReadOnlyDictionary<string, double> StageSeconds,
    double? ComplianceScore,
    IReadOnlyList<string> FailedRules,
    IReadOnlyDictionary<string, int> Findings,
    IReadOnlyList<string> CriticalFindings
);

/// <summary>
/// facts.json, the evidence document (kind <see cref="FactsDocuments.Kind"/>): the image's facts from inside the
/// build's root and the build's own facts, for one version of one target.
/// </summary>
public sealed record FactsDocument
{
    /// <summary>Format marker.</summary>
    public const string FormatName = "imageforge-facts";

    /// <summary>Always <see cref="FormatName"/>.</summary>
    public string Format { get; init; } = FormatName;

    /// <summary>The image.</summary>
    public required string Image { get; init; }

    /// <summary>The version.</summary>
    public required string Version { get; init; }

    /// <summary>The target's provider.</summary>
    public required string Target { get; init; }

    /// <summary>Facts collected inside the image.</summary>
    public required ImageFacts ImageFacts { get; init; }

    /// <summary>Facts of the build.</summary>
    public required BuildFacts Build { get; init; }
}

/// <summary>The one reader and writer of image-facts.json and facts.json.</summary>
public static class FactsDocuments
{
    /// <summary>Evidence kind of image-facts.json, written inside the build's root by the target.</summary>
    public const string ImageKind = "image-facts";

    /// <summary>Evidence kind of facts.json, the version's facts.</summary>
    public const string Kind = "facts";

    /// <summary>File name of the version's facts in the evidence directory.</summary>
    public const string FileName = "facts.json";

    /// <summary>Media type of both documents.</summary>
    public const string MediaType = "application/json";

    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static readonly JsonSerializerOptions ReadOptions = JsonInput.Strict(
        new JsonSerializerOptions(WriteOptions)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
            RespectRequiredConstructorParameters = true,
        }
    );

    /// <summary>Reads image-facts.json; a wrong shape names the file and the JSON path of the field.</summary>
    /// <exception cref="InvalidInputException">Not an image facts document.</exception>
    public static ImageFacts ReadImageFacts(string path) =>
        Read<ImageFacts>(
            path,
            "an image facts document (collect-facts.py)",
            f => f.Schema,
            "$.schema",
            ImageFacts.SchemaName
        );

    /// <summary>Reads facts.json.</summary>
    /// <exception cref="InvalidInputException">Not a facts document; the message names the field.</exception>
    public static FactsDocument Read(string path) =>
        Read<FactsDocument>(
            path,
            "an ImageForge facts document",
            d => d.Format,
            "$.format",
            FactsDocument.FormatName
        );

    private static T Read<T>(
        string path,
        string what,
        Func<T, string> marker,
        string markerPath,
        string expected
    )
        where T : class
    {
        var document = JsonInput.Deserialize<T>(
            JsonInput.ReadFile(path, what),
            ReadOptions,
            path,
            what
        );
        return marker(document) == expected
            ? document
            : throw new InvalidInputException(
                $"{path}: {markerPath}: expected \"{expected}\", found \"{marker(document)}\"; "
                    + "write it again with this ImageForge"
            );
    }

    /// <summary>The document as written to facts.json.</summary>
    public static byte[] ToJson(FactsDocument document) =>
        JsonSerializer.SerializeToUtf8Bytes(document, WriteOptions);
}
