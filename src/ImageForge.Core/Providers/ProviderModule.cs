using System.Text.Json;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Promotion;
using ImageForge.Core.Provenance;

namespace ImageForge.Core.Providers;

/// <summary>
/// Everything one provider (local, a cloud) contributes, in one object its project registers with one
/// <c>AddXProvider()</c> call. Shared code asks the <see cref="ProviderRegistry"/> for a provider by the name a
/// definition gives and lets the module decide; it never branches on a provider's name. The members below are pure
/// descriptions (they need nothing from the host); what does IO is created per host by <see cref="Connect"/>.
/// </summary>
public abstract class ProviderModule
{
    /// <summary>The name definitions give in <c>targets[].provider</c> (and <c>admit --provider</c> takes).</summary>
    public string Name => Rules.Name;

    /// <summary>What a target of this provider accepts: base image, regions, options with defaults, secrets.</summary>
    public abstract ProviderRules Rules { get; }

    /// <summary>The executables this provider's builds run, as <c>GET /health</c> lists them.</summary>
    public virtual IReadOnlyList<string> HealthTools => [];

    /// <summary>
    /// How a version is named inside the provider (a directory, an AMI name, a gallery version, a GCE image name).
    /// The default is the image and version joined by '-'.
    /// </summary>
    public virtual string NameInProvider(string image, string version) => $"{image}-{version}";

    /// <summary>
    /// The base a target builds from: its name in the version's lineage and its entry in the provenance's resolved
    /// dependencies. The default names the provider's image reference as the definition gives it.
    /// </summary>
    public virtual BaseImageReference BaseImage(ImageDefinition definition, TargetSpec target) =>
        BaseImageReference.ProviderImage(definition, target);

    /// <summary>
    /// The image ids of this provider that a Terraform resource of <paramref name="resourceType"/> would boot, read from
    /// its planned values (e.g. <c>aws_instance.ami</c>); empty for resource types of other providers.
    /// </summary>
    public virtual IEnumerable<string> TerraformImageIds(string resourceType, JsonElement values) =>
        [];

    /// <summary>
    /// What an image id given to <c>admit</c> is, as the catalog records artifacts: a location (and a digest when the
    /// provider's images are files). The default takes the id as the location.
    /// </summary>
    public virtual Task<ArtifactQuery> ResolveImageIdAsync(
        string imageId,
        string workingDirectory,
        CancellationToken cancellationToken = default
    ) => Task.FromResult(new ArtifactQuery(imageId, null));

    /// <summary>
    /// The Debian security archive a re-scan of a version built by <paramref name="target"/> consults; null for the
    /// default (<c>http://deb.debian.org/debian-security</c>).
    /// </summary>
    public virtual string? SecurityMirror(TargetSpec target) => null;

    /// <summary>
    /// Whether a build of <paramref name="target"/> must run where KVM runs a guest (the local target's
    /// <c>boot_test_kvm: required</c>); a queued one is claimed only by a worker whose KVM probe passed. Default: no.
    /// </summary>
    public virtual bool RequiresKvm(TargetSpec target) => false;

    /// <summary>
    /// The parts of the provider that act (build, resolve inputs, distribute), created for one host: the command line
    /// or the worker. A provider whose targets are validated but not built yet returns <see cref="ProviderServices.None"/>.
    /// </summary>
    public virtual ProviderServices Connect(ProviderContext context) => ProviderServices.None;
}

/// <summary>What a provider module needs from its host to act: clock, data directory, environment, tools.</summary>
/// <param name="Time">The clock.</param>
/// <param name="Data">The data directory (caches, the local registry).</param>
/// <param name="Variable">Reads an environment variable of the host.</param>
/// <param name="ToolEnvironment">Variables the tools get on top of the process environment.</param>
public sealed record ProviderContext(
    TimeProvider Time,
    DataPaths Data,
    Func<string, string?> Variable,
    IReadOnlyDictionary<string, string> ToolEnvironment
)
{
    /// <summary>IMAGEFORGE_PACKER names another packer executable (tests use a fake one); default: packer on PATH.</summary>
    public string PackerExecutable =>
        Variable("IMAGEFORGE_PACKER") is { Length: > 0 } path ? path : "packer";
}

/// <summary>The acting parts of one provider for one host; each null when the provider has none yet.</summary>
/// <param name="Builder">Builds its targets (the local disk; a cloud's native Packer build).</param>
/// <param name="InputResolver">What its targets would build from now (for the input fingerprint).</param>
/// <param name="Distribution">Publishes, deprecates and deletes its versions' images (promotion, revocation, gc).</param>
public sealed record ProviderServices(
    ITargetBuilder? Builder,
    IInputResolver? InputResolver,
    IDistributionTarget? Distribution
)
{
    /// <summary>A provider that acts on nothing yet.</summary>
    public static ProviderServices None { get; } = new(null, null, null);

    /// <summary>Imports the build's disk into its targets with <c>build: import</c>.</summary>
    public IImageImporter? Importer { get; init; }

    /// <summary>Checks reachability and credentials where the targets act (<c>GET /health</c>).</summary>
    public IAccessProbe? Access { get; init; }

    /// <summary>Tells whether KVM runs a guest on this machine, as this provider's builds would find (a worker's <c>kvm</c>).</summary>
    public IKvmProbe? Kvm { get; init; }
}

/// <summary>Whether KVM runs a guest here: <paramref name="Works"/>, or why not (<c>no /dev/kvm</c>, the probe's exit).</summary>
public sealed record KvmAnswer(bool Works, string? Reason)
{
    /// <summary>No provider here can tell (none boots guests).</summary>
    public static KvmAnswer NotProbed { get; } = new(false, "no provider here boots guests");
}

/// <summary>Runs a provider's KVM probe (the local boot test's own, docs/cluster.md "Requiring KVM").</summary>
public interface IKvmProbe
{
    /// <summary>Probes (or reads the answer cached for this boot of the machine), in the host's content.</summary>
    Task<KvmAnswer> ProbeAsync(ContentPaths content, CancellationToken cancellationToken = default);
}

/// <summary>The base of a target: its name in the lineage, and its provenance dependency.</summary>
/// <param name="Lineage">How the version's ancestry names it (e.g. <c>debian/bullseye</c>, an AMI id).</param>
/// <param name="Dependency">Its entry among the provenance's resolved dependencies.</param>
public sealed record BaseImageReference(string Lineage, ResolvedDependency Dependency)
{
    /// <summary>A provider's image reference as the definition gives it (<c>aws/ami-...</c>, <c>aws:ami-...</c>).</summary>
    public static BaseImageReference ProviderImage(ImageDefinition definition, TargetSpec target)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(target);
        return new BaseImageReference(
            target.BaseImage,
            new ResolvedDependency
            {
                Name = $"{target.Provider}/{target.BaseImage}",
                Uri = $"{target.Provider}:{target.BaseImage}",
                Annotations = Annotations(definition, target),
            }
        );
    }

    /// <summary>The annotations every base image carries: its role, the provider and the operating system.</summary>
    public static Dictionary<string, string> Annotations(
        ImageDefinition definition,
        TargetSpec target
    )
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(target);
        return new Dictionary<string, string>
        {
            ["role"] = "base-image",
            ["provider"] = target.Provider,
            ["os"] = definition.Os.ToString(),
        };
    }
}

/// <summary>An image id as the catalog looks artifacts up: their location, and their sha256 for files.</summary>
public sealed record ArtifactQuery(string Location, string? Sha256);
