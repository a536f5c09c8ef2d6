using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Gates;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;
using ImageForge.Providers.Local;
using ImageForge.Signing;
using ImageForge.Storage;
using ImageForge.Toolchain.Debian;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Server;

/// <summary>What a pipeline takes from its process: content and data paths, clock, environment, tools.</summary>
/// <param name="Paths">Content (definitions, baselines, templates) and data (catalog, artifacts).</param>
/// <param name="Time">The clock.</param>
/// <param name="Variable">Reads an environment variable (secrets, IMAGEFORGE_SIGNING_KEY, IMAGEFORGE_OSV_DIR).</param>
/// <param name="CurrentDirectory">Where relative paths given by a user are resolved.</param>
/// <param name="ToolEnvironment">Variables the tools get on top of the process environment.</param>
public sealed record PipelineHost(
    WorkerPaths Paths,
    TimeProvider Time,
    Func<string, string?> Variable,
    string CurrentDirectory,
    IReadOnlyDictionary<string, string> ToolEnvironment
)
{
    /// <summary>
    /// What each target resolves for the input fingerprint; null (the default) is the real resolvers (the local
    /// target asks its Debian mirrors). Tests that must not reach a mirror give their own, or none.
    /// </summary>
    public IReadOnlyList<IInputResolver>? Resolvers { get; init; }

    /// <summary>IMAGEFORGE_PACKER names another packer executable (tests use a fake one); default: packer on PATH.</summary>
    public string PackerExecutable =>
        Variable("IMAGEFORGE_PACKER") is { Length: > 0 } path ? path : "packer";
}

/// <summary>
/// Where the pipeline's parts are assembled, once for the command line and the worker, so both build, scan and sign
/// the same way.
/// </summary>
public sealed class Pipeline(PipelineHost host)
{
    // One client per process: the Debian mirror is the only host it talks to.
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(5) };

    private readonly Lazy<IReadOnlyList<IInputResolver>> _resolvers = new(() =>
        [
            new DebianMirrorResolver(
                Http,
                Path.Combine(
                    host.Paths.Data.CacheFor(LocalTargetBuilder.ProviderName),
                    "mirror-indexes"
                )
            ),
        ]
    );

    public PipelineHost Host => host;

    /// <summary>
    /// The providers this pipeline has a target builder for (today: local). Schedules and CVE rebuilds are armed only
    /// for these; the other targets of a definition are validated but not built.
    /// </summary>
    public IReadOnlySet<string> BuildableProviders { get; } =
        new HashSet<string>(StringComparer.Ordinal) { LocalTargetBuilder.ProviderName };

    /// <summary>The build service over the catalog with every target builder and evidence collector.</summary>
    public BuildService BuildService(SqliteCatalog catalog, TimeSpan buildTimeout, int ownerPid) =>
        new(
            catalog,
            [
                new LocalTargetBuilder(
                    new PackerClient(new ProcessRunner(host.Time), host.PackerExecutable),
                    new LocalTargetOptions
                    {
                        BuildTimeout = buildTimeout,
                        Environment = host.ToolEnvironment,
                    }
                ),
            ],
            EvidenceCollectors(catalog),
            host.Paths.Data,
            host.Time,
            host.Variable,
            ownerPid,
            new BuildAudit(catalog, catalog, host.Time),
            host.Resolvers ?? _resolvers.Value
        );

    /// <summary>
    /// Checks a build the worker is about to queue and fingerprints it with what its target resolves now (see
    /// <see cref="Core.Builds.BuildService.PrepareResolvedAsync"/>). Bad input throws before anything is written.
    /// </summary>
    public Task<PreparedBuild> PrepareForQueueAsync(
        SqliteCatalog catalog,
        BuildCommand command,
        CancellationToken cancellationToken
    ) =>
        // Preparing runs nothing: the timeout and owner are those the runner will use, never used here.
        BuildService(catalog, Queue.QueueRunner.BuildTimeout, Environment.ProcessId)
            .PrepareResolvedAsync(command, host.Paths.Content, cancellationToken);

    /// <summary>Evidence collectors, in the order they run after a successful target build.</summary>
    public IReadOnlyList<IEvidenceCollector> EvidenceCollectors(SqliteCatalog catalog) =>
        [
            new ComplianceCollector(),
            new SbomCollector(),
            new VulnerabilityCollector(Scanner(), OsvDirectory(null)),
            // After the evidence it judges, before provenance, so the decision is signed with the rest.
            new GateCollector(NoRevocationData.Instance),
            // Last: it signs the evidence of every collector above.
            new ProvenanceCollector(
                new LazySigner(Signer),
                host.Paths.Content,
                (buildId, ct) => catalog.GetBuildAsync(buildId, ct)
            ),
        ];

    /// <summary>A scanner whose downloads are cached in &lt;data-dir&gt;/cache/vulnerabilities.</summary>
    public VulnerabilityScanner Scanner()
    {
        var cache = Path.Combine(host.Paths.Data.Cache, "vulnerabilities", "debian-security");
        var dpkg = new DpkgTool(new ProcessRunner(host.Time), Path.Combine(cache, "tmp"));
        return new VulnerabilityScanner(new DebianSecuritySource(Http, dpkg, cache));
    }

    /// <summary>The OSV database: <paramref name="option"/>, else $IMAGEFORGE_OSV_DIR, else &lt;data-dir&gt;/osv when it exists; null for none.</summary>
    public string? OsvDirectory(string? option)
    {
        if (!string.IsNullOrEmpty(option))
        {
            return Path.GetFullPath(option, host.CurrentDirectory);
        }

        if (host.Variable("IMAGEFORGE_OSV_DIR") is { Length: > 0 } env)
        {
            return Path.GetFullPath(env, host.CurrentDirectory);
        }

        var inData = Path.Combine(host.Paths.Data.Root, "osv");
        return Directory.Exists(inData) ? inData : null;
    }

    /// <summary>The signer IMAGEFORGE_SIGNING_KEY selects for this data directory.</summary>
    public ISigner Signer() =>
        Signers.Create(host.Variable(Signers.EnvironmentVariable), host.Paths.Data.Root);

    // The key (a file, or a cloud client) is opened only when a build gets as far as signing.
    private sealed class LazySigner(Func<ISigner> create) : ISigner
    {
        private readonly Lazy<ISigner> _signer = new(create);

        public string KeyId => _signer.Value.KeyId;

        public string Algorithm => _signer.Value.Algorithm;

        public Task<byte[]> SignAsync(
            ReadOnlyMemory<byte> message,
            CancellationToken cancellationToken = default
        ) => _signer.Value.SignAsync(message, cancellationToken);

        public Task<string> GetPublicKeyPemAsync(CancellationToken cancellationToken = default) =>
            _signer.Value.GetPublicKeyPemAsync(cancellationToken);
    }
}
