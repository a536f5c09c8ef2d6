using System.Text.Json;
using ImageForge.Core.Admission;
using ImageForge.Core.Providers;
using ImageForge.Providers.Gcp.Distribution;
using ImageForge.Providers.Gcp.Import;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ImageForge.Providers.Gcp;

/// <summary>
/// The GCP provider module: the build's disk imported into Compute Engine (upload to Cloud Storage, images.insert),
/// channels served by image families, revocation by deprecation states, gc by deletion (docs/gcp.md).
/// </summary>
public sealed class GcpProvider : ProviderModule
{
    /// <summary>The name definitions give this provider.</summary>
    public const string ProviderName = "gcp";

    private readonly GcpSettings _settings;

    /// <summary>The provider on Google's endpoints.</summary>
    public GcpProvider()
        : this(new GcpSettings()) { }

    /// <summary>The provider with other endpoints and patience (specs: a loopback fake).</summary>
    public GcpProvider(GcpSettings settings) => _settings = settings;

    /// <inheritdoc />
    public override ProviderRules Rules { get; } = GcpRules.Create();

    /// <summary>A version's GCE image: <c>&lt;image&gt;-&lt;yyyymmdd&gt;-&lt;n&gt;</c>, as GCE names allow no dots.</summary>
    public override string NameInProvider(string image, string version) =>
        GcpNames.Image(image, version);

    /// <summary>
    /// A GCE image given to <c>admit</c> (or planned by Terraform): <c>projects/P/global/images/NAME</c> or its self
    /// link, as the catalog records images (their self link). Anything else is looked up as given.
    /// </summary>
    public override Task<ArtifactQuery> ResolveImageIdAsync(
        string imageId,
        string workingDirectory,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(imageId);
        return Task.FromResult(
            GcpNames.ParseImageUrl(imageId.Trim()) is var (project, name)
                ? new ArtifactQuery(GcpNames.SelfLink(project, name), null)
                : new ArtifactQuery(imageId, null)
        );
    }

    /// <inheritdoc />
    public override IEnumerable<string> TerraformImageIds(
        string resourceType,
        JsonElement values
    ) =>
        resourceType switch
        {
            "google_compute_instance" => TerraformValues.Nested(
                values,
                "boot_disk",
                "initialize_params",
                "image"
            ),
            "google_compute_instance_template" => TerraformValues.Nested(
                values,
                "disk",
                "source_image"
            ),
            _ => [],
        };

    /// <inheritdoc />
    public override ProviderServices Connect(ProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var clients = new GcpClients(_settings, context.Variable);
        var packer = new PackerClient(new ProcessRunner(context.Time), context.PackerExecutable);
        return new ProviderServices(
            new GcpNativeBuilder(
                new VmTemplateRunner(packer, context.ToolEnvironment),
                context.Variable,
                PackerInvocation.DefaultGracePeriod
            ),
            null,
            new GcpDistribution(clients, context.Time)
        )
        {
            Importer = new GcpImporter(clients, context.Time),
            Access = new GcpAccess(clients),
        };
    }
}

/// <summary>Registers the GCP provider.</summary>
public static class GcpProviderServiceCollectionExtensions
{
    /// <summary>Adds the GCP provider.</summary>
    public static IServiceCollection AddGcpProvider(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ProviderModule, GcpProvider>());
        services.TryAddSingleton<ProviderRegistry>();
        return services;
    }
}
