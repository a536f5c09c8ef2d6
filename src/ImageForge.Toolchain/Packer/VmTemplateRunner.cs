using System.Security.Cryptography;
using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;

namespace ImageForge.Toolchain.Packer;

/// <summary>
/// What one cloud's native build (<c>build: native</c>) gives <see cref="VmTemplateRunner"/>: its template folder below
/// <c>templates/packer</c>, the plugin newer Packer needs for its builder, and the template's own variables.
/// </summary>
/// <param name="Folder">The template's folder below <c>templates/packer</c> (<c>azure</c>, <c>gcp</c>).</param>
/// <param name="Plugin">Local name, source and version constraint for <c>required_plugins</c> (Packer 1.7 and later).</param>
/// <param name="Variables">The template's variables beyond the ones every VM template takes.</param>
/// <param name="SensitiveVariables">Variables passed only through the environment (<c>PKR_VAR_*</c>) and masked.</param>
public sealed record VmTemplate(
    string Folder,
    (string Name, string Source, string Version) Plugin,
    IReadOnlyDictionary<string, string> Variables,
    IReadOnlyDictionary<string, string> SensitiveVariables
);

/// <summary>What a VM template's run left: the manifest's build, the evidence downloaded from the VM, the Packer.</summary>
public sealed record VmTemplateResult(
    PackerManifestBuild Build,
    IReadOnlyList<EvidenceDocument> Evidence,
    PackerVersionInfo Packer
);

/// <summary>
/// Runs a cloud's VM template (templates/packer/azure, templates/packer/gcp) through the Packer adapter: the template
/// copied into the work directory (with <c>plugins.pkr.hcl</c> only where Packer supports <c>required_plugins</c>), a
/// var file with the variables every VM template takes (the local target's scripts, the hardening profile, the scan
/// inputs, the output directory) and the cloud's own, then <c>packer build</c>; the image ids come from the manifest,
/// the evidence from what the template downloaded from the VM.
/// </summary>
public sealed class VmTemplateRunner(
    PackerClient packer,
    IReadOnlyDictionary<string, string> environment
)
{
    // What the in-VM stages (templates/packer/common/scripts/vm-stages.sh) write, as the local target names it.
    private static readonly (string File, string Kind, string MediaType)[] EvidenceFiles =
    [
        ("packages.tsv", "package-inventory", "text/tab-separated-values"),
        ("hardening-report.tsv", "hardening-report", "text/tab-separated-values"),
        ("compliance-before-results.xml", ComplianceCollector.BeforeResultsKind, "application/xml"),
        ("compliance-before-report.html", "compliance-before-report", "text/html"),
        ("compliance-after-results.xml", ComplianceCollector.AfterResultsKind, "application/xml"),
        ("compliance-after-report.html", "compliance-after-report", "text/html"),
    ];

    /// <summary>What a VM template needs on this machine: the template, and the scan content it uploads.</summary>
    public static IReadOnlyList<string> Preflight(
        string folder,
        Baseline baseline,
        ContentPaths content
    )
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(content);
        var problems = new List<string>();
        var template = Path.Combine(content.PackerTemplates, folder);
        if (!Directory.Exists(template) || !Directory.EnumerateFiles(template, "*.pkr.hcl").Any())
        {
            problems.Add(
                $"{template}: the {folder} target's Packer template is missing; run from the repository root or from "
                    + "the content packaged with the tool"
            );
        }

        var datastream = Path.Combine(content.ScapContent, baseline.Scap.Datastream);
        if (!File.Exists(datastream))
        {
            problems.Add(
                $"{baseline.SourceFile}: scap.datastream: a native build uploads {datastream} into the VM to scan "
                    + "it, and it is not installed; install the SSG content (eng/prereqs.sh, or apt-get install "
                    + "ssg-debian ssg-debderived)"
            );
        }

        return problems;
    }

    /// <summary>
    /// The variables every VM template takes, from the request (also what <c>packer validate</c> of the shipped
    /// templates is given in the specs).
    /// </summary>
    public static SortedDictionary<string, string> CommonVariables(TargetBuildRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var baseline = request.Baseline;
        var variables = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["build_id"] = request.BuildId,
            ["image_name"] = request.Definition.Name,
            // The templates find the VM stages and the inventory collector below it (their locals).
            ["templates_root"] = request.Content.PackerTemplates,
            ["hardening_root"] = request.Content.Hardening,
            ["hardening_profile"] = baseline.Hardening,
            ["scap_datastream"] = Path.Combine(
                request.Content.ScapContent,
                baseline.Scap.Datastream
            ),
            ["scap_profile"] = baseline.Scap.Profile,
            ["scap_tailoring"] = Path.Combine(request.WorkDirectory, "scap-tailoring.xml"),
            ["output_dir"] = request.OutputDirectory,
        };
        if (baseline.Tailoring.Count > 0)
        {
            variables["scap_profile"] = TailoringWriter.TailoredProfileId(baseline);
        }

        return variables;
    }

    /// <summary>
    /// Runs the template; the work directory is removed afterwards and, when the build failed or was cancelled, the
    /// output directory too.
    /// </summary>
    public async Task<VmTemplateResult> RunAsync(
        TargetBuildRequest request,
        ITargetBuildSink sink,
        VmTemplate template,
        TimeSpan gracePeriod,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(template);
        var succeeded = false;
        try
        {
            sink.Progress("prepare", "probing packer and writing the work directory");
            var version = await packer.GetVersionAsync(cancellationToken);
            var invocation = Prepare(request, template, version, gracePeriod);
            await packer.InitAsync(invocation, version, cancellationToken);

            sink.Progress(
                "packer",
                $"packer build of {template.Folder} (Packer {version.Version})"
            );
            await packer.BuildAsync(
                invocation,
                e => PackerBuildEvents.Forward(e, sink),
                cancellationToken
            );

            sink.Progress("record", "reading the manifest and the evidence downloaded from the VM");
            var manifestPath = Path.Combine(request.OutputDirectory, "manifest.json");
            var builds = PackerManifest.Read(manifestPath).LastRun;
            var build =
                builds.Count > 0
                    ? builds[^1]
                    : throw new ToolFailedException(
                        "packer",
                        $"{manifestPath} names no build of the last run",
                        []
                    );
            var evidence = CollectEvidence(request.OutputDirectory, sink);
            succeeded = true;
            return new VmTemplateResult(build, evidence, version);
        }
        finally
        {
            if (Directory.Exists(request.WorkDirectory))
            {
                Directory.Delete(request.WorkDirectory, recursive: true);
            }

            if (!succeeded && Directory.Exists(request.OutputDirectory))
            {
                Directory.Delete(request.OutputDirectory, recursive: true);
            }
        }
    }

    private PackerInvocation Prepare(
        TargetBuildRequest request,
        VmTemplate template,
        PackerVersionInfo version,
        TimeSpan gracePeriod
    )
    {
        var packerDir = Path.Combine(request.WorkDirectory, "packer");
        var tmpDir = Path.Combine(request.WorkDirectory, "tmp");
        Directory.CreateDirectory(packerDir);
        Directory.CreateDirectory(tmpDir);
        Directory.CreateDirectory(request.OutputDirectory);
        foreach (
            var file in Directory.EnumerateFiles(
                Path.Combine(request.Content.PackerTemplates, template.Folder),
                "*.pkr.hcl"
            )
        )
        {
            File.Copy(file, Path.Combine(packerDir, Path.GetFileName(file)), overwrite: true);
        }

        // Packer 1.6.6 has the cloud builders built in and rejects the block; 1.7 and later need it to find them.
        var plugins = packer.RequiredPluginsBlock(version, [template.Plugin]);
        if (plugins.Length > 0)
        {
            File.WriteAllText(Path.Combine(packerDir, "plugins.pkr.hcl"), plugins);
        }

        var variables = CommonVariables(request);
        foreach (var (name, value) in template.Variables)
        {
            variables[name] = value;
        }

        // The template always uploads a tailoring file; an empty one means none (vm-stages.sh).
        var tailoring = variables["scap_tailoring"];
        if (request.Baseline.Tailoring.Count > 0)
        {
            TailoringWriter.Write(
                tailoring,
                request.Baseline,
                variables["scap_datastream"],
                DateTimeOffset.UnixEpoch
            );
        }
        else
        {
            File.WriteAllText(tailoring, "");
        }

        var varFile = Path.Combine(request.WorkDirectory, "imageforge.pkrvars.hcl");
        File.WriteAllText(varFile, PackerVarFile.Write(variables));
        var invocation = new PackerInvocation(packerDir)
            .WithWorkingDirectory(request.WorkDirectory)
            .WithVarFile(varFile)
            .WithTempDirectory(tmpDir)
            .WithCleanupDirectory(request.WorkDirectory)
            .WithTimeout(request.Timeout)
            .WithGracePeriod(gracePeriod);
        foreach (var (name, value) in environment)
        {
            invocation = invocation.WithEnvironment(name, value);
        }

        foreach (var (name, value) in template.SensitiveVariables.Concat(request.Secrets))
        {
            invocation = invocation.WithSensitiveVariable(name, value);
        }

        return invocation;
    }

    // The evidence the template downloaded; a file the VM did not give is logged, and the baseline's gates decide
    // whether the version may do without it (the shipped baseline requires the scans).
    private static List<EvidenceDocument> CollectEvidence(
        string outputDirectory,
        ITargetBuildSink sink
    )
    {
        var evidence = new List<EvidenceDocument>();
        foreach (var (file, kind, mediaType) in EvidenceFiles)
        {
            var path = Path.Combine(outputDirectory, file);
            if (!File.Exists(path))
            {
                sink.Log("error", $"the VM gave no {file}: no {kind} evidence for this version");
                continue;
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
}
