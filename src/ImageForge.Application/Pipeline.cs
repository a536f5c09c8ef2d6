using ImageForge.Core.Anomalies;
using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Definitions;
using ImageForge.Core.Facts;
using ImageForge.Core.Gates;
using ImageForge.Core.Providers;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;
using ImageForge.Signing;
using ImageForge.Storage;
using ImageForge.Toolchain.Debian;
using ImageForge.Toolchain.Files;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Application;

/// <summary>Where a host's content (definitions, baselines, templates) and data (catalog, artifacts) live.</summary>
public sealed record HostPaths(ContentPaths Content, DataPaths Data);

/// <summary>What a pipeline takes from its process: content and data paths, clock, environment, tools.</summary>
/// <param name="Paths">Content (definitions, baselines, templates) and data (catalog, artifacts).</param>
/// <param name="Time">The clock.</param>
/// <param name="Variable">Reads an environment variable (secrets, IMAGEFORGE_SIGNING_KEY, IMAGEFORGE_OSV_DIR).</param>
/// <param name="CurrentDirectory">Where relative paths given by a user are resolved.</param>
/// <param name="ToolEnvironment">Variables the tools get on top of the process environment.</param>
public sealed record PipelineHost(
    HostPaths Paths,
    TimeProvider Time,
    Func<string, string?> Variable,
    string CurrentDirectory,
    IReadOnlyDictionary<string, string> ToolEnvironment
)
{
    /// <summary>
    /// What each target resolves for the input fingerprint; null (the default) is the providers' own resolvers (the
    /// local target asks its Debian mirrors). Tests that must not reach a mirror give their own, or none.
    /// </summary>
    public IReadOnlyList<IInputResolver>? Resolvers { get; init; }
}

/// <summary>
/// Where the pipeline's parts are assembled, once for the command line and the worker, so both build, scan and sign
/// the same way: the host's paths, clock and environment, and the providers it was composed with.
/// </summary>
public sealed class Pipeline
{
    // One client per process for the vulnerability sources (the Debian security archive).
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(5) };

    private readonly PipelineHost _host;
    private readonly Lazy<ConnectedProviders> _connected;
    private readonly DefinitionCache _definitions;

    /// <summary>Assembles the pipeline of a host over the providers it registered.</summary>
    public Pipeline(PipelineHost host, ProviderRegistry providers)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(providers);
        _host = host;
        Providers = providers;
        _definitions = new DefinitionCache(host.Paths.Content, providers);
        _connected = new(() =>
            providers.Connect(
                new ProviderContext(
                    _host.Time,
                    _host.Paths.Data,
                    _host.Variable,
                    host.ToolEnvironment
                )
            )
        );
    }

    /// <summary>How long a build may run unless the command says otherwise (<c>build --timeout</c>).</summary>
    public static readonly TimeSpan DefaultBuildTimeout = TimeSpan.FromMinutes(60);

    /// <summary>How many imports into each provider the builds of this pipeline may run at once (none: no limit).</summary>
    public ImportSlots Imports { get; init; } = ImportSlots.Unlimited;

    /// <summary>The host the pipeline serves.</summary>
    public PipelineHost Host => _host;

    /// <summary>The provider modules (names, definition rules, descriptions).</summary>
    public ProviderRegistry Providers { get; }

    /// <summary>The providers' acting parts for this host (builders, resolvers, distribution), created once.</summary>
    public ConnectedProviders Connected => _connected.Value;

    /// <summary>
    /// The digests of local files as verification takes them, for the life of this pipeline (the worker's): a file is
    /// hashed again only when its <see cref="FileIdentity"/> changed since it was last hashed.
    /// </summary>
    public IFileDigests FileDigests { get; } = new CachedFileDigests(path => FileIdentity.Of(path));

    /// <summary>
    /// The providers this pipeline has a target builder for. Schedules and CVE rebuilds are armed only for these; the
    /// other targets of a definition are validated but not built.
    /// </summary>
    public IReadOnlySet<string> BuildableProviders => Connected.Buildable;

    /// <summary>
    /// Every definition and baseline of the host's content, checked against the registered providers; loaded again
    /// only when a file the loader reads (or the day) changed since the last call (<see cref="DefinitionCache"/>).
    /// </summary>
    public DefinitionSet LoadDefinitions() =>
        _definitions.Load(DateOnly.FromDateTime(_host.Time.GetUtcNow().UtcDateTime));

    /// <summary>The build service over the catalog with every target builder and evidence collector.</summary>
    public BuildService BuildService(Catalog catalog, TimeSpan buildTimeout, int ownerPid) =>
        new(
            catalog,
            Connected,
            EvidenceCollectors(catalog),
            _host.Paths.Data,
            _host.Time,
            _host.Variable,
            new BuildSettings(ownerPid, buildTimeout) { Imports = Imports },
            new BuildAudit(catalog, catalog, _host.Time, Providers),
            _host.Resolvers
        );

    /// <summary>
    /// Checks a build the worker is about to queue and fingerprints it with what its target resolves now (see
    /// <see cref="Core.Builds.BuildService.PrepareResolvedAsync"/>). Bad input throws before anything is written.
    /// </summary>
    public Task<PreparedBuild> PrepareForQueueAsync(
        Catalog catalog,
        BuildCommand command,
        CancellationToken cancellationToken
    ) =>
        // Preparing runs nothing: owner and timeout are those the runner will use, never used here.
        BuildService(catalog, DefaultBuildTimeout, Environment.ProcessId)
            .PrepareResolvedAsync(command, _host.Paths.Content, cancellationToken);

    /// <summary>Evidence collectors, in the order they run after a successful target build.</summary>
    public IReadOnlyList<IEvidenceCollector> EvidenceCollectors(Catalog catalog) =>
        [
            new ComplianceCollector(),
            new SbomCollector(),
            new VulnerabilityCollector(
                Scanner(),
                OsvDirectory(null),
                target => Providers.Get(target.Provider).SecurityMirror(target)
            ),
            // After compliance and findings, which it records with the image's facts; before the gates.
            new FactsCollector(
                catalog,
                (buildId, ct) => catalog.ReadLogAsync(buildId, cancellationToken: ct)
            ),
            new AnomalyCollector(catalog),
            // After the evidence it judges, before provenance, so the decision is signed with the rest.
            new GateCollector(NoRevocationData.Instance),
            // Last: it signs the evidence of every collector above.
            new ProvenanceCollector(
                new LazySigner(Signer),
                _host.Paths.Content,
                (buildId, ct) => catalog.GetBuildAsync(buildId, ct)
            ),
        ];

    /// <summary>A scanner whose downloads are cached in &lt;data-dir&gt;/cache/vulnerabilities.</summary>
    public VulnerabilityScanner Scanner()
    {
        var cache = Path.Combine(_host.Paths.Data.Cache, "vulnerabilities", "debian-security");
        var dpkg = new DpkgTool(new ProcessRunner(_host.Time), Path.Combine(cache, "tmp"));
        return new VulnerabilityScanner(new DebianSecuritySource(Http, dpkg, cache));
    }

    /// <summary>The OSV database: <paramref name="option"/>, else $IMAGEFORGE_OSV_DIR, else &lt;data-dir&gt;/osv when it exists; null for none.</summary>
    public string? OsvDirectory(string? option)
    {
        if (!string.IsNullOrEmpty(option))
        {
            return Path.GetFullPath(option, _host.CurrentDirectory);
        }

        if (_host.Variable("IMAGEFORGE_OSV_DIR") is { Length: > 0 } env)
        {
            return Path.GetFullPath(env, _host.CurrentDirectory);
        }

        var inData = Path.Combine(_host.Paths.Data.Root, "osv");
        return Directory.Exists(inData) ? inData : null;
    }

    /// <summary>The signer IMAGEFORGE_SIGNING_KEY selects for this data directory (a key it creates is trusted).</summary>
    public ISigner Signer() =>
        Signers.Create(
            _host.Variable(Signers.EnvironmentVariable),
            _host.Paths.Data.Root,
            TrustStore()
        );

    /// <summary>The keys signatures must be made with: IMAGEFORGE_TRUSTED_KEYS, else the data directory's store.</summary>
    public TrustStore TrustStore() =>
        Signing.TrustStore.Open(
            _host.Variable(Signing.TrustStore.EnvironmentVariable),
            _host.Paths.Data.Root,
            _host.CurrentDirectory
        );

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
