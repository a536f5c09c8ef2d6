using System.Diagnostics;
using System.Security.Cryptography;
using ImageForge.Core.Definitions;
using ImageForge.Core.Provenance;
using ImageForge.Core.Providers;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ImageForge.Providers.Local;

/// <summary>
/// The no-cloud target as a provider module: a Debian tree bootstrapped by mmdebstrap under real Packer on this
/// machine, published into <c>&lt;data-dir&gt;/registry</c>, its inputs resolved against its Debian mirrors.
/// </summary>
public sealed class LocalProvider : ProviderModule
{
    /// <summary>The name definitions give this provider.</summary>
    public const string ProviderName = "local";

    private const string DefaultMirror = "http://deb.debian.org/debian";

    // One client per process: the Debian mirrors are the only hosts the module talks to.
    private static readonly HttpClient Http = MirrorClient();

    /// <summary>
    /// The client for Debian mirrors: a public mirror is told nothing of the build's trace (no <c>traceparent</c> or
    /// <c>tracestate</c> header, whatever span is current), and a request gives up after 5 minutes.
    /// </summary>
    internal static HttpClient MirrorClient() =>
        new(
            new SocketsHttpHandler
            {
                ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
            }
        )
        {
            Timeout = TimeSpan.FromMinutes(5),
        };

    /// <inheritdoc />
    public override ProviderRules Rules { get; } = LocalRules.Create();

    /// <inheritdoc />
    public override IReadOnlyList<string> HealthTools { get; } =
    ["packer", "mmdebstrap", "oscap", "zstd", "mkfs.ext4", "dpkg-deb"];

    /// <summary>A version is a directory of its own below <c>registry/&lt;image&gt;/&lt;channel&gt;</c>.</summary>
    public override string NameInProvider(string image, string version) => version;

    /// <summary>A Debian suite fetched from the target's mirror: <c>debian/&lt;suite&gt;</c>.</summary>
    public override BaseImageReference BaseImage(ImageDefinition definition, TargetSpec target)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(target);
        var annotations = BaseImageReference.Annotations(definition, target);
        foreach (var key in new[] { "mirror", "security_mirror", "variant" })
        {
            if (target.Option(key) is { Length: > 0 } value)
            {
                annotations[key] = value;
            }
        }

        var mirror = (target.Option("mirror") ?? DefaultMirror).TrimEnd('/');
        annotations["suite"] = target.BaseImage;
        return new BaseImageReference(
            $"{definition.Os.Family}/{target.BaseImage}",
            new ResolvedDependency
            {
                Name = $"debian/{target.BaseImage}",
                Uri = $"{mirror}/dists/{target.BaseImage}",
                Annotations = annotations,
            }
        );
    }

    /// <summary>
    /// A local image is named by its file (resolved against the working directory and hashed) or by
    /// <c>sha256:&lt;hex&gt;</c>.
    /// </summary>
    public override async Task<ArtifactQuery> ResolveImageIdAsync(
        string imageId,
        string workingDirectory,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(imageId);
        var path = Path.GetFullPath(imageId, workingDirectory);
        if (File.Exists(path))
        {
            await using var stream = File.OpenRead(path);
            return new ArtifactQuery(
                path,
                Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken))
            );
        }

        return imageId.StartsWith("sha256:", StringComparison.Ordinal)
            ? new ArtifactQuery(imageId, imageId["sha256:".Length..].ToLowerInvariant())
            : new ArtifactQuery(imageId, null);
    }

    /// <inheritdoc />
    public override string? SecurityMirror(TargetSpec target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return target.Option("security_mirror");
    }

    /// <inheritdoc />
    public override bool RequiresKvm(TargetSpec target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return LocalRules.RequiresKvm(target.Options);
    }

    /// <inheritdoc />
    public override ProviderServices Connect(ProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new ProviderServices(
            new LocalTargetBuilder(
                new PackerClient(new ProcessRunner(context.Time), context.PackerExecutable),
                new LocalTargetOptions { Environment = context.ToolEnvironment }
            ),
            new DebianMirrorResolver(
                Http,
                Path.Combine(context.Data.CacheFor(ProviderName), "mirror-indexes")
            ),
            new LocalRegistry(context.Data.Root, context.Time)
        )
        {
            // The boot test's own probe, with its cache (the boot test's cache directory).
            Kvm = new KvmProbe(
                new ProcessRunner(context.Time),
                context.Data.CacheFor(ProviderName),
                context.ToolEnvironment
            ),
        };
    }
}

/// <summary>Registers the local provider.</summary>
public static class LocalProviderServiceCollectionExtensions
{
    /// <summary>Adds the local target (build on this machine, publish into the data directory's registry).</summary>
    public static IServiceCollection AddLocalProvider(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ProviderModule, LocalProvider>());
        services.TryAddSingleton<ProviderRegistry>();
        return services;
    }
}
