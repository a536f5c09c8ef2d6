using ImageForge.Core.Builds;
using ImageForge.Core.Vulnerabilities;
using ImageForge.Signing;
using ImageForge.Toolchain.Debian;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Cli;

/// <summary>Where the command line assembles the pipeline's parts.</summary>
internal static class Composition
{
    /// <summary>Evidence collectors, in the order they run after a successful target build.</summary>
    public static IReadOnlyList<IEvidenceCollector> EvidenceCollectors(CliContext ctx)
    {
        _ = ctx;
        return
        [
            new ImageForge.Core.Compliance.ComplianceCollector(),
            new ImageForge.Core.Sbom.SbomCollector(),
            new ImageForge.Core.Vulnerabilities.VulnerabilityCollector(
                Scanner(ctx),
                OsvDirectory(ctx, null)
            ),
            // After the evidence it judges, before provenance, so the decision is signed with the rest.
            new ImageForge.Core.Gates.GateCollector(
                ImageForge.Core.Gates.NoRevocationData.Instance
            ),
            ProvenanceCollector(ctx), // last: it signs the evidence of every collector above
        ];
    }

    // One client per process: the Debian mirror is the only host it talks to.
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(5) };

    /// <summary>A scanner whose downloads are cached in &lt;data-dir&gt;/cache/vulnerabilities.</summary>
    public static VulnerabilityScanner Scanner(CliContext ctx)
    {
        var cache = Path.Combine(ctx.Data.Cache, "vulnerabilities", "debian-security");
        var dpkg = new DpkgTool(new ProcessRunner(ctx.Time), Path.Combine(cache, "tmp"));
        return new VulnerabilityScanner(new DebianSecuritySource(Http, dpkg, cache));
    }

    /// <summary>The OSV database: --osv, else $IMAGEFORGE_OSV_DIR, else &lt;data-dir&gt;/osv when it exists; null for none.</summary>
    public static string? OsvDirectory(CliContext ctx, string? option)
    {
        if (!string.IsNullOrEmpty(option))
        {
            return Path.GetFullPath(option, ctx.Host.CurrentDirectory);
        }
        if (ctx.Host.Variable("IMAGEFORGE_OSV_DIR") is { Length: > 0 } env)
        {
            return Path.GetFullPath(env, ctx.Host.CurrentDirectory);
        }
        var inData = Path.Combine(ctx.Data.Root, "osv");
        return Directory.Exists(inData) ? inData : null;
    }

    /// <summary>The signer IMAGEFORGE_SIGNING_KEY selects for this data directory.</summary>
    public static ISigner SignerFor(CliContext ctx) =>
        Signers.Create(ctx.Host.Variable(Signers.EnvironmentVariable), ctx.Data.Root);

    /// <summary>The provenance collector, last in the pipeline: it signs the evidence of every collector before it.</summary>
    public static IEvidenceCollector ProvenanceCollector(CliContext ctx) =>
        new ProvenanceCollector(
            new LazySigner(() => SignerFor(ctx)),
            ctx.Content,
            async (buildId, ct) =>
            {
                await using var catalog = await ctx.OpenCatalogAsync(ct);
                return await catalog.GetBuildAsync(buildId, ct);
            }
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
