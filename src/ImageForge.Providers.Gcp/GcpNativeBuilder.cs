using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Providers.Gcp.Import;
using ImageForge.Toolchain.Packer;

namespace ImageForge.Providers.Gcp;

/// <summary>
/// <c>build: native</c>: real Packer runs templates/packer/gcp (googlecompute from the base image family or name, the
/// local target's scan, hardening and inventory scripts over SSH inside the VM, the image created in no family). The
/// version's image is its self link, as the import records it, from the image name the manifest gives.
/// </summary>
internal sealed class GcpNativeBuilder(
    VmTemplateRunner runner,
    Func<string, string?> variable,
    TimeSpan gracePeriod
) : ITargetBuilder
{
    /// <summary>The template folder below templates/packer.</summary>
    public const string TemplateFolder = "gcp";

    /// <summary>The googlecompute plugin Packer 1.7 and later install for this template.</summary>
    public static readonly (string Name, string Source, string Version) Plugin = (
        "googlecompute",
        "github.com/hashicorp/googlecompute",
        ">= 1.1.0"
    );

    /// <inheritdoc />
    public string Provider => GcpProvider.ProviderName;

    /// <inheritdoc />
    public IReadOnlyList<string> Preflight(
        Baseline baseline,
        TargetSpec target,
        ContentPaths content
    ) =>
        [
            .. VmTemplateRunner.Preflight(TemplateFolder, baseline, content),
            .. target.Option("project_id") is null
                ? ["gcp: options.project_id is required to build an image"]
                : Array.Empty<string>(),
            .. target.Regions.Count == 0 && target.Option("zone") is null
                ? ["gcp: a native build needs options.zone or a region (its zone b is used)"]
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
        var version = await request.ReserveVersionAsync(cancellationToken);
        var template = Template(request, version, variable);
        var result = await runner.RunAsync(request, sink, template, gracePeriod, cancellationToken);
        var project = request.Target.Option("project_id")!;
        // googlecompute's artifact id is the image's name.
        var name = result.Build.ArtifactId;
        var details = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["project"] = project,
            ["name"] = name,
            ["storage-location"] = template.Variables["storage_location"],
            ["credentials-variable"] = GcpClients.CredentialsVariable(request.Target),
        };
        foreach (var channel in request.Definition.Channels)
        {
            details["family." + channel] =
                request.Target.ChannelOption(channel, "family")
                ?? GcpNames.Family(request.Definition.Name, channel);
        }

        return new TargetBuildResult(
            [
                new Artifact
                {
                    Target = GcpProvider.ProviderName,
                    Region = "global",
                    Kind = GcpImporter.ImageKind,
                    Location = GcpNames.SelfLink(project, name),
                    Details = details,
                },
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

    /// <summary>The template and the variables ImageForge gives it for this build and version.</summary>
    internal static VmTemplate Template(
        TargetBuildRequest request,
        string version,
        Func<string, string?> variable
    )
    {
        var target = request.Target;
        var image = request.Definition.Name;
        var home = target.Regions.Count > 0 ? target.Regions[0] : null;
        var byFamily = (target.Option("base_image_kind") ?? "family") == "family";
        // The key file's path is no secret, but it is kept out of logs and var files all the same (docs/gcp.md).
        var keyFile = variable(GcpClients.CredentialsVariable(target));
        return new VmTemplate(
            TemplateFolder,
            Plugin,
            new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["version"] = version,
                ["version_label"] = GcpNames.LabelValue(version),
                ["build_label"] = GcpNames.LabelValue(request.BuildId),
                ["gce_image_name"] = GcpNames.Image(image, version),
                ["project_id"] = target.Option("project_id")!,
                ["zone"] = target.Option("zone") ?? $"{home}-b",
                ["machine_type"] = target.Option("machine_type") ?? "e2-medium",
                ["network"] = target.Option("network") ?? "default",
                ["source_image"] = byFamily ? "" : target.BaseImage,
                ["source_image_family"] = byFamily ? target.BaseImage : "",
                ["source_image_project_id"] =
                    target.Option("source_image_project_id") ?? "debian-cloud",
                ["storage_location"] = target.Option("storage_location") ?? home ?? "us",
            },
            keyFile is { Length: > 0 }
                ? new Dictionary<string, string> { ["account_file"] = keyFile }
                : new Dictionary<string, string>()
        );
    }
}
