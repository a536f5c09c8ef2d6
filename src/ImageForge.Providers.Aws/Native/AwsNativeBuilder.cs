using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.EC2.Model;
using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Sbom;
using ImageForge.Providers.Aws.Connection;
using ImageForge.Providers.Aws.Distribution;
using ImageForge.Toolchain.Packer;

namespace ImageForge.Providers.Aws.Native;

/// <summary>
/// Builds an aws target with <c>build: native</c>: real Packer runs <c>templates/packer/aws</c> (amazon-ebs), which
/// launches the source AMI, runs the local target's hardening, inventory and clean scripts and the shared OpenSCAP scan
/// inside the instance over SSH and downloads their results; the AMI ids per region come from the manifest, their
/// snapshots from EC2. The downloaded files are the version's evidence, of the kinds the local target gives, so the
/// same collectors (SBOM, findings, compliance) read them.
/// </summary>
internal sealed class AwsNativeBuilder : ITargetBuilder
{
    /// <summary>What the template downloads into the output directory (file, evidence kind, media type).</summary>
    internal static IReadOnlyList<(string File, string Kind, string MediaType)> Evidence { get; } =
    [
        ("packages.tsv", EvidenceFiles.PackageInventory, "text/tab-separated-values"),
        ("hardening-report.tsv", "hardening-report", "text/tab-separated-values"),
        ("compliance-before-results.xml", ComplianceCollector.BeforeResultsKind, "application/xml"),
        ("compliance-before-report.html", "compliance-before-report", "text/html"),
        ("compliance-after-results.xml", ComplianceCollector.AfterResultsKind, "application/xml"),
        ("compliance-after-report.html", "compliance-after-report", "text/html"),
    ];

    private const string TemplateDirectory = "aws";

    private readonly PackerClient _packer;
    private readonly AwsClients _clients;
    private readonly IReadOnlyDictionary<string, string> _environment;

    public AwsNativeBuilder(
        PackerClient packer,
        AwsClients clients,
        IReadOnlyDictionary<string, string> environment
    )
    {
        _packer = packer;
        _clients = clients;
        _environment = environment;
    }

    /// <inheritdoc />
    public string Provider => AwsProvider.ProviderName;

    /// <summary>The AMI a native build makes is named after its build: the version is numbered once the build succeeded.</summary>
    internal static string AmiName(string image, string buildId) => $"{image}-{buildId}";

    /// <inheritdoc />
    public IReadOnlyList<string> Preflight(
        Baseline baseline,
        TargetSpec target,
        ContentPaths content
    )
    {
        var problems = new List<string>();
        foreach (
            var file in new[]
            {
                Path.Combine(content.PackerTemplates, TemplateDirectory, "aws.pkr.hcl"),
                Path.Combine(content.PackerTemplates, "common", "scripts", "oscap-scan.sh"),
            }
        )
        {
            if (!File.Exists(file))
            {
                problems.Add(
                    $"{file}: the aws target's Packer template (build: native) needs it; run from the repository "
                        + "root or from the content packaged with the tool"
                );
            }
        }

        var datastream = Path.Combine(content.ScapContent, baseline.Scap.Datastream);
        if (!File.Exists(datastream))
        {
            problems.Add(
                $"{baseline.SourceFile}: scap.datastream: the aws target uploads {datastream} into the instance to "
                    + "scan it, and it is not installed; install the SSG content (eng/prereqs.sh)"
            );
        }

        return problems;
    }

    /// <inheritdoc />
    public async Task<TargetBuildResult> BuildAsync(
        TargetBuildRequest request,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(sink);
        var succeeded = false;
        try
        {
            sink.Progress("prepare", "probing packer and writing the work directory");
            var version = await _packer.GetVersionAsync(cancellationToken);
            var aws = AwsTarget.Of(request.Target);
            var credentials = await _clients.CredentialsAsync(aws.RoleArn);
            var invocation = Prepare(request, version, aws, credentials);
            await _packer.InitAsync(invocation, version, cancellationToken);

            sink.Progress("packer", $"packer build amazon-ebs (Packer {version.Version})");
            await _packer.BuildAsync(
                invocation,
                e => PackerBuildSink.Forward(e, sink),
                cancellationToken
            );

            sink.Progress("record", "reading the AMIs from the manifest");
            var artifacts = await AmisAsync(request, aws, cancellationToken);
            var result = new TargetBuildResult(artifacts, CollectEvidence(request))
            {
                Tools = new Dictionary<string, string> { ["packer"] = version.Version.ToString() },
            };
            succeeded = true;
            return result;
        }
        finally
        {
            if (Directory.Exists(request.WorkDirectory))
            {
                Directory.Delete(request.WorkDirectory, recursive: true);
            }

            // A failed or cancelled build leaves no half-downloaded evidence behind.
            if (!succeeded && Directory.Exists(request.OutputDirectory))
            {
                Directory.Delete(request.OutputDirectory, recursive: true);
            }
        }
    }

    private PackerInvocation Prepare(
        TargetBuildRequest request,
        PackerVersionInfo version,
        AwsTarget aws,
        Amazon.Runtime.ImmutableCredentials credentials
    )
    {
        // The template runs the local target's stage scripts and the shared ones beside it (../local/scripts,
        // ../common/scripts): the whole template tree is copied (a few hundred KiB of scripts).
        var packerRoot = Path.Combine(request.WorkDirectory, "packer");
        CopyDirectory(request.Content.PackerTemplates, packerRoot);
        var templateDir = Path.Combine(packerRoot, TemplateDirectory);
        var plugins = _packer.RequiredPluginsBlock(
            version,
            [("amazon", "github.com/hashicorp/amazon", ">= 1.2.0")]
        );
        if (plugins.Length > 0)
        {
            File.WriteAllText(Path.Combine(templateDir, "plugins.pkr.hcl"), plugins);
        }

        var tmpDir = Path.Combine(request.WorkDirectory, "tmp");
        Directory.CreateDirectory(tmpDir);
        Directory.CreateDirectory(request.OutputDirectory);

        var target = request.Target;
        var baseline = request.Baseline;
        var endpoint = _clients.Endpoint;
        var variables = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["build_id"] = request.BuildId,
            ["image_name"] = request.Definition.Name,
            ["ami_name"] = AmiName(request.Definition.Name, request.BuildId),
            ["region"] = aws.HomeRegion,
            ["ami_regions"] = aws.CopyRegions.ToList(),
            ["instance_type"] = target.Option("instance_type") ?? "t3.small",
            ["ssh_username"] = target.Option("ssh_username") ?? "admin",
            ["ssh_port"] = int.Parse(
                target.Option("ssh_port") ?? "22",
                CultureInfo.InvariantCulture
            ),
            ["subnet_id"] = target.Option("subnet_id") ?? "",
            ["encrypt"] = aws.Encrypt,
            ["kms_key_id"] = aws.KmsKey(aws.HomeRegion) ?? "",
            ["region_kms_key_ids"] = aws
                .CopyRegions.Where(r => aws.KmsKey(r) is not null)
                .ToDictionary(r => r, r => aws.KmsKey(r)!, StringComparer.Ordinal),
            // Sharing is per channel, at promotion (AwsDistribution): the build shares with no one.
            ["ami_users"] = new List<string>(),
            ["custom_endpoint_ec2"] = endpoint ?? "",
            ["output_dir"] = request.OutputDirectory,
            ["hardening_dir"] = Path.Combine(request.Content.Hardening, baseline.Hardening),
            ["scap_datastream"] = Path.Combine(
                request.Content.ScapContent,
                baseline.Scap.Datastream
            ),
            ["scap_profile"] = baseline.Scap.Profile,
            ["scap_tailoring"] = "",
        };
        if (AwsRules.AmiId().IsMatch(target.BaseImage))
        {
            variables["source_ami"] = target.BaseImage;
        }
        else
        {
            variables["source_ami_name"] = target.BaseImage;
            variables["source_ami_owner"] = target.Option("source_ami_owner") ?? "";
        }

        if (baseline.Tailoring.Count > 0)
        {
            var tailoring = Path.Combine(request.WorkDirectory, "scap-tailoring.xml");
            TailoringWriter.Write(
                tailoring,
                baseline,
                (string)variables["scap_datastream"],
                DateTimeOffset.UnixEpoch
            );
            variables["scap_tailoring"] = tailoring;
            variables["scap_profile"] = TailoringWriter.TailoredProfileId(baseline);
        }

        var varFile = Path.Combine(request.WorkDirectory, "imageforge.pkrvars.hcl");
        File.WriteAllText(varFile, ToVarFile(variables));

        var invocation = new PackerInvocation(templateDir)
            .WithWorkingDirectory(request.WorkDirectory)
            .WithVarFile(varFile)
            .WithTempDirectory(tmpDir)
            .WithCleanupDirectory(request.WorkDirectory)
            .WithTimeout(request.Timeout);
        foreach (var (name, value) in _environment)
        {
            invocation = invocation.WithEnvironment(name, value);
        }

        if (endpoint is not null)
        {
            // Against an endpoint of its own (the tests' fake) Packer must not ask the instance metadata service.
            invocation = invocation.WithEnvironment("AWS_EC2_METADATA_DISABLED", "true");
        }

        // The credentials ImageForge resolved (the role's, when the target names one) reach Packer only as sensitive
        // variables: PKR_VAR_* in its environment, never an argument, and masked in everything it prints.
        invocation = invocation
            .WithSensitiveVariable("access_key", credentials.AccessKey)
            .WithSensitiveVariable("secret_key", credentials.SecretKey);
        if (!string.IsNullOrEmpty(credentials.Token))
        {
            invocation = invocation.WithSensitiveVariable("token", credentials.Token);
        }

        foreach (var (name, value) in request.Secrets)
        {
            invocation = invocation.WithSensitiveVariable(name, value);
        }

        return invocation;
    }

    // The manifest's artifact id lists every region's AMI (eu-west-1:ami-1,us-east-1:ami-2); EC2 names their snapshots.
    private async Task<IReadOnlyList<Artifact>> AmisAsync(
        TargetBuildRequest request,
        AwsTarget aws,
        CancellationToken cancellationToken
    )
    {
        var manifestPath = Path.Combine(request.OutputDirectory, "manifest.json");
        var builds = PackerManifest
            .Read(manifestPath)
            .LastRun.Where(b => b.BuilderType == "amazon-ebs")
            .ToList();
        if (builds.Count != 1)
        {
            throw Failed(
                $"{manifestPath} lists {builds.Count} amazon-ebs builds in its last run; expected one"
            );
        }

        var amis = ParseArtifactId(builds[0].ArtifactId, manifestPath);
        var missing = aws.Regions.Where(r => !amis.ContainsKey(r)).ToList();
        if (missing.Count > 0)
        {
            throw Failed(
                $"{manifestPath}: the build made no AMI in {string.Join(", ", missing)} (artifact id '{builds[0].ArtifactId}')"
            );
        }

        var name = AmiName(request.Definition.Name, request.BuildId);
        var artifacts = new List<Artifact>();
        foreach (var region in aws.Regions)
        {
            var id = amis[region];
            var response = await _clients
                .Ec2(region, aws.RoleArn)
                .DescribeImagesAsync(
                    new DescribeImagesRequest { ImageIds = [id], IncludeDeprecated = true },
                    cancellationToken
                );
            var image =
                response.Images?.SingleOrDefault()
                ?? throw Failed($"{id} in {region}, from {manifestPath}, is not in EC2");
            var snapshots = (image.BlockDeviceMappings ?? [])
                .Select(m => m.Ebs?.SnapshotId)
                .OfType<string>()
                .ToList();
            artifacts.Add(
                new Artifact
                {
                    Target = request.Target.Provider,
                    Region = region,
                    Kind = AwsProvider.AmiKind,
                    Location = id,
                    Details = AwsDistribution.WithRole(
                        new SortedDictionary<string, string>(StringComparer.Ordinal)
                        {
                            ["name"] = name,
                            ["snapshots"] = string.Join(',', snapshots),
                            ["source_ami"] = image.SourceImageId ?? "",
                        },
                        aws.RoleArn
                    ),
                }
            );
        }

        return artifacts;
    }

    internal static Dictionary<string, string> ParseArtifactId(string artifactId, string manifest)
    {
        var amis = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (
            var part in artifactId.Split(
                ',',
                StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries
            )
        )
        {
            var pair = part.Split(':', 2);
            if (
                pair.Length != 2
                || !AwsRules.AwsRegion().IsMatch(pair[0])
                || !AwsRules.AmiId().IsMatch(pair[1])
                || !amis.TryAdd(pair[0], pair[1])
            )
            {
                throw Failed(
                    $"{manifest}: artifact id '{artifactId}' is not a list of <region>:<ami id>"
                );
            }
        }

        return amis;
    }

    private static List<EvidenceDocument> CollectEvidence(TargetBuildRequest request)
    {
        var evidence = new List<EvidenceDocument>();
        foreach (var (file, kind, mediaType) in Evidence)
        {
            var path = Path.Combine(request.OutputDirectory, file);
            if (!File.Exists(path))
            {
                throw Failed($"the build finished but {path} was not downloaded from the instance");
            }

            using var stream = File.OpenRead(path);
            evidence.Add(
                new EvidenceDocument
                {
                    Kind = kind,
                    Location = path,
                    Sha256 = Convert.ToHexStringLower(SHA256.HashData(stream)),
                    SizeBytes = stream.Length,
                    MediaType = mediaType,
                }
            );
        }

        return evidence;
    }

    private static ToolFailedException Failed(string message) => new("packer", message, []);

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to, overwrite: true);
        }
    }

    /// <summary>An HCL var file of strings, numbers, booleans, lists of strings and maps of strings.</summary>
    internal static string ToVarFile(IReadOnlyDictionary<string, object> variables)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in variables)
        {
            text.Append(name).Append(" = ").Append(Hcl(value)).Append('\n');
        }

        return text.ToString();
    }

    private static string Hcl(object value) =>
        value switch
        {
            string s => PackerClient.HclString(s),
            bool b => b ? "true" : "false",
            int i => i.ToString(CultureInfo.InvariantCulture),
            IReadOnlyDictionary<string, string> map => "{ "
                + string.Join(
                    ", ",
                    map.Select(p =>
                        $"{PackerClient.HclString(p.Key)} = {PackerClient.HclString(p.Value)}"
                    )
                )
                + " }",
            IEnumerable<string> list => "["
                + string.Join(", ", list.Select(PackerClient.HclString))
                + "]",
            _ => throw new ArgumentException($"no HCL form for {value.GetType()}", nameof(value)),
        };
}
