using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Toolchain.Packer;

namespace ImageForge.Providers.Azure;

/// <summary>
/// <c>build: native</c>: real Packer runs templates/packer/azure (azure-arm from the marketplace base image, the local
/// target's scan, hardening and inventory scripts over SSH inside the VM, a managed image published as a gallery image
/// version to every region of the target). The version's images are the gallery version, one artifact per region, as
/// the import records them; the managed image Packer made on the way is named in their details.
/// </summary>
internal sealed class AzureNativeBuilder(VmTemplateRunner runner, TimeSpan gracePeriod)
    : ITargetBuilder
{
    /// <summary>The template folder below templates/packer.</summary>
    public const string TemplateFolder = "azure";

    /// <summary>Artifact detail: the managed image the manifest names (the gallery version's source).</summary>
    public const string ManagedImageKey = "managed-image";

    /// <summary>The azure plugin Packer 1.7 and later install for this template.</summary>
    public static readonly (string Name, string Source, string Version) Plugin = (
        "azure",
        "github.com/hashicorp/azure",
        ">= 1.4.0"
    );

    /// <inheritdoc />
    public string Provider => AzureProvider.ProviderName;

    /// <inheritdoc />
    public IReadOnlyList<string> Preflight(
        Baseline baseline,
        TargetSpec target,
        ContentPaths content
    ) =>
        [
            .. VmTemplateRunner.Preflight(TemplateFolder, baseline, content),
            .. AzureTarget.Read(target).Problems,
            .. MarketplaceImage(target.BaseImage) is null
                ?
                [
                    $"azure: base_image '{target.BaseImage}' is not Publisher:Offer:Sku:Version; a native build starts "
                        + "from a marketplace image, e.g. Debian:debian-11:11-gen2:latest",
                ]
                : Array.Empty<string>(),
        ];

    /// <inheritdoc />
    public async Task<TargetBuildResult> BuildAsync(
        TargetBuildRequest request,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(request);
        var target =
            AzureTarget.Read(request.Target).Target
            ?? throw new InvalidOperationException("Preflight checks the gallery settings");
        var version = await request.ReserveVersionAsync(cancellationToken);
        var template = Template(request.Definition.Name, version, request.Target, target);
        var result = await runner.RunAsync(request, sink, template, gracePeriod, cancellationToken);
        var name = GalleryVersionName.For(version);
        var versionId = target.VersionId(name).ToString();
        return new TargetBuildResult(
            [
                .. target.Regions.Select(region => new Artifact
                {
                    Target = AzureProvider.ProviderName,
                    Region = region,
                    Kind = AzureImporter.ArtifactKind,
                    Location = versionId,
                    Details = new SortedDictionary<string, string>(StringComparer.Ordinal)
                    {
                        [AzureGallery.GalleryVersionKey] = name,
                        [ManagedImageKey] = result.Build.ArtifactId,
                    },
                }),
            ],
            result.Evidence
        )
        {
            Tools = new Dictionary<string, string>
            {
                ["packer"] = result.Packer.Version.ToString(),
            },
        };
    }

    /// <summary>The template and the variables ImageForge gives it for this target and version.</summary>
    internal static VmTemplate Template(
        string image,
        string version,
        TargetSpec spec,
        AzureTarget target
    )
    {
        var (publisher, offer, sku, baseVersion) = MarketplaceImage(spec.BaseImage)!.Value;
        return new VmTemplate(
            TemplateFolder,
            Plugin,
            new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["version"] = version,
                ["subscription_id"] = target.SubscriptionId,
                ["tenant_id"] = target.TenantId ?? "",
                ["client_id"] = target.ClientId ?? "",
                ["resource_group"] = target.ResourceGroup,
                ["gallery"] = target.Gallery,
                ["image_definition"] = target.ImageDefinition,
                ["gallery_version"] = GalleryVersionName.For(version),
                ["managed_image_name"] = $"{image}-{version}",
                ["location"] = target.Regions[0],
                ["replication_regions"] = string.Join(",", target.Regions),
                ["replica_count"] = target.ReplicaCount.ToString(
                    System.Globalization.CultureInfo.InvariantCulture
                ),
                ["storage_account_type"] = target.StorageAccountType,
                ["vm_size"] = spec.Option("vm_size") ?? "Standard_B2s",
                ["base_publisher"] = publisher,
                ["base_offer"] = offer,
                ["base_sku"] = sku,
                ["base_version"] = baseVersion,
            },
            new Dictionary<string, string>()
        );
    }

    private static (string Publisher, string Offer, string Sku, string Version)? MarketplaceImage(
        string baseImage
    ) =>
        baseImage.Split(':') is [var publisher, var offer, var sku, var version]
        && new[] { publisher, offer, sku, version }.All(p => p.Length > 0)
            ? (publisher, offer, sku, version)
            : null;
}
