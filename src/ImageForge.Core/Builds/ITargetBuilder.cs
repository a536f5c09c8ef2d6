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
