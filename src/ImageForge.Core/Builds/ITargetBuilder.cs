using ImageForge.Core.Definitions;

namespace ImageForge.Core.Builds;

/// <summary>Builds one target of an image definition (port; one implementation per provider).</summary>
public interface ITargetBuilder
{
    /// <summary>The provider name this builder serves, as written in definitions: local, aws, azure, gcp.</summary>
    string Provider { get; }

    /// <summary>
    /// What this provider needs on this machine before a build may start (its template, scan content...), checked
    /// before anything is recorded: each missing thing is a problem saying how to fix it.
    /// </summary>
    IReadOnlyList<string> Preflight(Baseline baseline, TargetSpec target, ContentPaths content);

    /// <summary>
    /// Runs the build and returns its artifacts and the evidence it collected inside the image. Throws
    /// <see cref="OperationCanceledException"/> only after every process it started is gone and nothing is left
    /// mounted; throws an <c>ImageForgeException</c> on failure.
    /// </summary>
    Task<TargetBuildResult> BuildAsync(
        TargetBuildRequest request,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    );
}

/// <summary>What a target build produced: deployable artifacts, and evidence about them.</summary>
public sealed record TargetBuildResult(
    IReadOnlyList<Artifact> Artifacts,
    IReadOnlyList<EvidenceDocument> Evidence
)
{
    /// <summary>Versions of the tools the build ran, by name (e.g. packer -> 1.6.6), for provenance.</summary>
    public IReadOnlyDictionary<string, string> Tools { get; init; } =
        new Dictionary<string, string>();
}

/// <summary>
/// Produces evidence for a version once its target build succeeded and its version number is known (an SBOM from
/// the package inventory, findings from a vulnerability source, a compliance summary from scan results). Collectors
/// run in order and each sees the evidence of those before it.
/// </summary>
public interface IEvidenceCollector
{
    /// <summary>Shown as the progress step while it runs.</summary>
    string Name { get; }

    Task<IReadOnlyList<EvidenceDocument>> CollectAsync(
        EvidenceContext context,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    );
}

/// <summary>
/// What an evidence collector knows about the version it documents. Collectors write their documents into
/// EvidenceDirectory (below the build's output directory).
/// </summary>
public sealed record EvidenceContext(
    ImageDefinition Definition,
    Baseline Baseline,
    TargetSpec Target,
    string Version,
    string BuildId,
    IReadOnlyList<Artifact> Artifacts,
    IReadOnlyList<EvidenceDocument> Evidence,
    string EvidenceDirectory,
    DateTimeOffset At
)
{
    /// <summary>Versions of the tools the target build ran (<see cref="TargetBuildResult.Tools"/>).</summary>
    public IReadOnlyDictionary<string, string> Tools { get; init; } =
        new Dictionary<string, string>();

    /// <summary>The base the target built from, as its provider module describes it.</summary>
    public required Providers.BaseImageReference BaseImage { get; init; }
}

/// <summary>Everything a target builder needs for one build.</summary>
public sealed record TargetBuildRequest(
    string BuildId,
    ImageDefinition Definition,
    Baseline Baseline,
    TargetSpec Target,
    ContentPaths Content,
    string WorkDirectory,
    string OutputDirectory,
    string CacheDirectory,
    IReadOnlyDictionary<string, string> Secrets
)
{
    /// <summary>The longest the target build may run before it is stopped and recorded as failed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>
    /// Reserves the version this build will record (YYYY.MM.DD.N; the same one on every call), for builders whose
    /// images are named by it in their cloud before the build ends (a native cloud build). Without a catalog (specs of
    /// a builder alone) it fails.
    /// </summary>
    public Func<CancellationToken, Task<string>> ReserveVersionAsync { get; init; } =
        _ =>
            throw new InvalidOperationException(
                "this build has no catalog to reserve a version in"
            );

    /// <summary>
    /// The flavours of the disk this build's imports need besides the base disk (targets with a guest agent); empty
    /// when every import takes the base disk.
    /// </summary>
    public IReadOnlyList<DiskFlavour> Flavours { get; init; } = [];
}

/// <summary>
/// One flavour of the build's disk: the same hardened tree with packages added (a cloud's guest agent), written as
/// its own disk in the formats its importers take. Its disk artifacts carry <see cref="DetailKey"/> (the name) and
/// <see cref="PackagesDetailKey"/> (what it added, with versions) in their details, signed with them.
/// </summary>
/// <param name="Name">The flavour's name: the provider whose target asked for it (azure).</param>
/// <param name="Packages">The packages it installs on top of the base tree (waagent).</param>
/// <param name="DiskKinds">The disk artifact kinds its importers take (disk-vhd); the raw disk is always made.</param>
public sealed record DiskFlavour(
    string Name,
    IReadOnlyList<string> Packages,
    IReadOnlyList<string> DiskKinds
)
{
    /// <summary>Artifact detail naming the flavour of a disk file or of the cloud image imported from one.</summary>
    public const string DetailKey = "flavour";

    /// <summary>Artifact detail of a flavour's raw disk: the packages it added, "name=version" separated by spaces.</summary>
    public const string PackagesDetailKey = "flavour_packages";

    /// <summary>The flavours the imports of a build need: one per target with a guest agent, in definition order.</summary>
    public static IReadOnlyList<DiskFlavour> For(IEnumerable<PreparedImport> imports) =>
        [
            .. imports
                .Where(i => i.Target.GuestAgent is not null)
                .Select(i => new DiskFlavour(
                    i.Target.Provider,
                    [i.Target.GuestAgent!],
                    [i.Importer.DiskKind]
                )),
        ];

    /// <summary>The flavour an artifact belongs to (its <see cref="DetailKey"/> detail), or null for the base disk.</summary>
    public static string? Of(Artifact artifact) => artifact.Details.GetValueOrDefault(DetailKey);
}

/// <summary>Where a target builder reports what it is doing. Every text it passes is already redacted.</summary>
public interface ITargetBuildSink
{
    /// <summary>A new step of a stage began (e.g. stage "bootstrap", detail "cache miss, running mmdebstrap").</summary>
    void Progress(string stage, string detail);

    /// <summary>One line of tool output.</summary>
    void Log(string stream, string text);

    /// <summary>The external tool now running has this process group (recorded so a dead owner's leftovers can be cleaned).</summary>
    void ToolStarted(int processGroup);
}
