using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Facts;
using ImageForge.Core.Gates;
using ImageForge.Core.Provenance;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Providers.Local;

/// <summary>Options of the local target that are not part of an image definition.</summary>
public sealed record LocalTargetOptions
{
    /// <summary>How long processes get to end after SIGTERM before they are killed.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Variables Packer gets on top of the inherited environment.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } =
        new Dictionary<string, string>();
}

/// <summary>
/// Builds the no-cloud target: real Packer runs templates/packer/local (null builder + shell-local), which
/// bootstraps Debian with mmdebstrap, hardens it in a chroot, exports a rootfs tarball and a bootable GPT/UEFI disk
/// (raw, fixed VHD, tar.gz), and boots the disk under qemu.
/// </summary>
public sealed partial class LocalTargetBuilder : ITargetBuilder
{
    /// <summary>Artifact kind of the bootable disk, raw (AWS ImportSnapshot, and what the other formats are made from).</summary>
    public const string DiskRawKind = "disk-raw";

    /// <summary>Artifact kind of the same disk as a fixed VHD (Azure).</summary>
    public const string DiskVhdKind = "disk-vhd";

    /// <summary>Artifact kind of the same disk as a GNU tar of disk.raw, gzip-compressed (GCP images.insert).</summary>
    public const string DiskTarGzKind = "disk-tar-gz";

    /// <summary>Evidence kind of disk.json: the disk's layout, partitions, identifiers and formats.</summary>
    public const string DiskLayoutKind = "disk-layout";

    /// <summary>
    /// What every bootable local disk gets besides the definition's packages, and why: systemd-sysv (init), udev
    /// (device nodes, /dev/disk/by-uuid for the fstab), dbus (logind, hostnamectl), cloud-init (first boot on every
    /// cloud and the NoCloud boot test), cloud-guest-utils (growpart: the root filesystem grows to the volume),
    /// isc-dhcp-client (ifupdown's DHCP for the network cloud-init configures). Part of the base cache key, and of
    /// what the worker resolves on the mirrors to see whether a rebuild would change anything.
    /// </summary>
    public static IReadOnlyList<string> BootPackages { get; } =
    ["systemd-sysv", "udev", "dbus", "cloud-init", "cloud-guest-utils", "isc-dhcp-client"];

    /// <summary>The kernel (with initramfs-tools) every local disk boots: Debian's cloud kernel, with the ENA, NVMe,
    /// Hyper-V and gVNIC drivers.</summary>
    public const string KernelPackage = "linux-image-cloud-amd64";

    // Output file name -> kind, in the order the template exports them. Artifacts are what gets deployed; evidence
    // documents what is inside them. A null media type marks an artifact. Some depend on the target's options.
    private static List<(string File, string Kind, string? MediaType)> OutputsFor(
        TargetSpec target,
        ImageDefinition definition
    )
    {
        var formats = (target.Option("disk_formats") ?? "raw").Split(',');
        var outputs = new List<(string File, string Kind, string? MediaType)>
        {
            ("rootfs.tar.zst", "rootfs-tar-zst", null),
            ("disk.raw", DiskRawKind, null),
        };
        if (formats.Contains("vhd"))
        {
            outputs.Add(("disk.vhd", DiskVhdKind, null));
        }
        if (formats.Contains("tar-gz"))
        {
            outputs.Add(("disk.tar.gz", DiskTarGzKind, null));
        }
        outputs.AddRange([
            ("disk.json", DiskLayoutKind, "application/json"),
            ("packages.tsv", "package-inventory", "text/tab-separated-values"),
            ("hardening-report.tsv", "hardening-report", "text/tab-separated-values"),
            (
                "compliance-before-results.xml",
                ComplianceCollector.BeforeResultsKind,
                "application/xml"
            ),
            ("compliance-before-report.html", "compliance-before-report", "text/html"),
            (
                "compliance-after-results.xml",
                ComplianceCollector.AfterResultsKind,
                "application/xml"
            ),
            ("compliance-after-report.html", "compliance-after-report", "text/html"),
            ("image-facts.json", FactsDocuments.ImageKind, "application/json"),
        ]);
        if (target.Option("boot_test") != "false")
        {
            outputs.Add(("boot-test.json", BootTestEvidence.Kind, "application/json"));
            outputs.Add(("boot-test-console.log", BootTestEvidence.TranscriptKind, "text/plain"));
            if (definition.Tests.Count > 0)
            {
                outputs.Add(("image-tests.json", ImageTestsEvidence.Kind, "application/json"));
            }
        }
        return outputs;
    }

    private readonly PackerClient _packer;
    private readonly LocalTargetOptions _options;

    public LocalTargetBuilder(PackerClient packer, LocalTargetOptions options)
    {
        _packer = packer;
        _options = options;
    }

    /// <inheritdoc />
    public string Provider => LocalProvider.ProviderName;

    /// <inheritdoc />
    public IReadOnlyList<string> Preflight(
        Baseline baseline,
        TargetSpec target,
        ContentPaths content
    )
    {
        var problems = new List<string>();
        var template = Path.Combine(
            content.PackerTemplates,
            LocalProvider.ProviderName,
            "local.pkr.hcl"
        );
        if (!File.Exists(template))
        {
            problems.Add(
                $"{template}: the local target's Packer template is missing; run from the repository root or from the "
                    + "content packaged with the tool"
            );
        }

        var datastream = Path.Combine(content.ScapContent, baseline.Scap.Datastream);
        if (!File.Exists(datastream))
        {
            problems.Add(
                $"{baseline.SourceFile}: scap.datastream: the local target scans with {datastream}, which is not "
                    + "installed; install the SSG content (eng/prereqs.sh, or apt-get install openscap-scanner "
                    + "ssg-debian ssg-debderived)"
            );
        }

        return problems;
    }

    public async Task<TargetBuildResult> BuildAsync(
        TargetBuildRequest request,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        var succeeded = false;
        try
        {
            sink.Progress("prepare", "probing packer and writing the work directory");
            var version = await _packer.GetVersionAsync(cancellationToken);
            var invocation = PrepareWorkDirectory(request, version);

            await _packer.InitAsync(invocation, version, cancellationToken);

            // No separate packer validate: packer build checks the template and the variables before it runs
            // anything and fails with the same diagnostics, so a second Packer start (0.6 s here) would buy nothing.
            sink.Progress("packer", $"packer build (Packer {version.Version})");
            await _packer.BuildAsync(
                invocation,
                e => PackerBuildEvents.Forward(e, sink),
                cancellationToken
            );

            sink.Progress("record", "reading the artifacts' digests");
            var result = CollectOutputs(request);
            succeeded = true;
            return result with
            {
                Tools = new Dictionary<string, string> { ["packer"] = version.Version.ToString() },
            };
        }
        finally
        {
            CleanUp(request, succeeded, sink);
        }
    }

    private PackerInvocation PrepareWorkDirectory(
        TargetBuildRequest request,
        PackerVersionInfo version
    )
    {
        var templateSource = Path.Combine(
            request.Content.PackerTemplates,
            LocalProvider.ProviderName
        );
        var packerDir = Path.Combine(request.WorkDirectory, "packer");
        var tmpDir = Path.Combine(request.WorkDirectory, "tmp");
        Directory.CreateDirectory(tmpDir);
        Directory.CreateDirectory(request.OutputDirectory);
        Directory.CreateDirectory(request.CacheDirectory);
        CopyDirectory(templateSource, packerDir);

        // Built-in null builder and shell-local: no plugin to require, but newer Packer still wants the block to exist
        // only when the template needs plugins, so an empty block is not written.
        var plugins = _packer.RequiredPluginsBlock(version, []);
        if (plugins.Length > 0)
        {
            File.WriteAllText(Path.Combine(packerDir, "plugins.pkr.hcl"), plugins);
        }

        var target = request.Target;
        var variables = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["build_id"] = request.BuildId,
            ["image_name"] = request.Definition.Name,
            ["suite"] = target.BaseImage,
            ["mirror"] = target.Options["mirror"],
            ["security_mirror"] = target.Options["security_mirror"],
            ["security_updates"] = target.Options["security_updates"],
            ["variant"] = target.Options["variant"],
            ["disk_size"] = target.Options["disk_size"],
            ["disk_layout"] = target.Options["disk_layout"],
            ["disk_formats"] = target.Options["disk_formats"],
            ["boot_test"] = target.Options["boot_test"],
            ["boot_test_timeout"] = target.Options["boot_test_timeout"],
            ["boot_packages"] = string.Join(' ', BootPackages),
            ["kernel_package"] = KernelPackage,
            ["packages_add"] = string.Join(' ', request.Definition.Packages.Add),
            ["packages_remove"] = string.Join(' ', request.Definition.Packages.Remove),
            ["flavours"] = FlavoursVariable(request.Flavours),
            ["work_dir"] = request.WorkDirectory,
            ["cache_dir"] = request.CacheDirectory,
            ["output_dir"] = request.OutputDirectory,
            ["hardening_dir"] = Path.Combine(request.Content.Hardening, request.Baseline.Hardening),
        };
        AddScapVariables(request, variables);
        // The definition's tests, for the boot test to run inside the guest ("": none).
        variables["image_tests_file"] = "";
        if (request.Definition.Tests.Count > 0)
        {
            var tests = Path.Combine(request.WorkDirectory, "image-tests.tsv");
            File.WriteAllText(tests, ImageTest.CheckerLines(request.Definition.Tests));
            variables["image_tests_file"] = tests;
        }
        var varFile = Path.Combine(request.WorkDirectory, "imageforge.pkrvars.hcl");
        File.WriteAllText(varFile, PackerVarFile.Write(variables));

        var invocation = new PackerInvocation(packerDir)
            .WithWorkingDirectory(request.WorkDirectory)
            .WithVarFile(varFile)
            .WithTempDirectory(tmpDir)
            .WithCleanupDirectory(request.WorkDirectory)
            .WithTimeout(request.Timeout)
            .WithGracePeriod(_options.GracePeriod);
        foreach (var (name, value) in _options.Environment)
        {
            invocation = invocation.WithEnvironment(name, value);
        }

        // boot_test_kvm: required: boot-test.sh boots under KVM or fails the boot test (never falls back to TCG).
        if (LocalRules.RequiresKvm(target.Options))
        {
            invocation = invocation.WithEnvironment("IMAGEFORGE_BOOT_TEST_KVM", "required");
        }

        foreach (var (name, value) in request.Secrets)
        {
            invocation = invocation.WithSensitiveVariable(name, value);
        }

        return invocation;
    }

    // Disk artifact kind -> the template's disk_formats name.
    private static readonly Dictionary<string, string> FormatOfKind = new(StringComparer.Ordinal)
    {
        [DiskRawKind] = "raw",
        [DiskVhdKind] = "vhd",
        [DiskTarGzKind] = "tar-gz",
    };

    /// <summary>
    /// The template's <c>flavours</c> variable: one <c>name:formats:packages</c> entry per flavour (formats and
    /// packages comma-separated, raw always first), separated by spaces; "" for none.
    /// </summary>
    internal static string FlavoursVariable(IReadOnlyList<DiskFlavour> flavours) =>
        string.Join(
            ' ',
            flavours.Select(f =>
                $"{f.Name}:{string.Join(',', FlavourFormats(f))}:{string.Join(',', f.Packages)}"
            )
        );

    private static IEnumerable<string> FlavourFormats(DiskFlavour flavour) =>
        flavour
            .DiskKinds.Select(k => FormatOfKind.GetValueOrDefault(k, k))
            .Prepend("raw")
            .Distinct(StringComparer.Ordinal);

    /// <summary>
    /// The scan stages' inputs: the installed datastream, and the baseline's profile or, when the baseline turns
    /// rules off, a tailoring file (written into the work directory) and the tailored profile's id.
    /// </summary>
    private static void AddScapVariables(
        TargetBuildRequest request,
        SortedDictionary<string, string> variables
    )
    {
        var baseline = request.Baseline;
        // Checked by Preflight before the build was recorded.
        var datastream = Path.Combine(request.Content.ScapContent, baseline.Scap.Datastream);
        variables["scap_datastream"] = datastream;
        variables["scap_profile"] = baseline.Scap.Profile;
        variables["scap_tailoring"] = "";
        if (baseline.Tailoring.Count > 0)
        {
            var tailoring = Path.Combine(request.WorkDirectory, "scap-tailoring.xml");
            TailoringWriter.Write(tailoring, baseline, datastream, DateTimeOffset.UnixEpoch);
            variables["scap_tailoring"] = tailoring;
            variables["scap_profile"] = TailoringWriter.TailoredProfileId(baseline);
        }
    }

    // Each file was hashed once by the template, while it was written (or, for the sparse disk and its VHD, in one
    // pass right after): the digest is read from its .sha256, and trusted only if the file was not written after it.
    private static TargetBuildResult CollectOutputs(TargetBuildRequest request)
    {
        var manifestPath = Path.Combine(request.OutputDirectory, "manifest.json");
        var manifest = PackerManifest.Read(manifestPath);
        var files = manifest
            .LastRun.SelectMany(b => b.Files)
            .Select(f => Path.GetFullPath(f.Name))
            .ToHashSet();

        var artifacts = new List<Artifact>();
        var evidence = new List<EvidenceDocument>();
        foreach (var (file, kind, mediaType) in OutputsFor(request.Target, request.Definition))
        {
            var path = Path.GetFullPath(Path.Combine(request.OutputDirectory, file));
            if (!files.Contains(path) || !File.Exists(path))
            {
                throw new ToolFailedException(
                    "packer",
                    $"the build finished but {path} is not among the artifacts of {manifestPath}",
                    []
                );
            }

            var sha256 = RecordedSha256(path);
            var size = new FileInfo(path).Length;
            if (mediaType is null)
            {
                artifacts.Add(
                    new Artifact
                    {
                        Target = request.Target.Provider,
                        Region = LocalProvider.ProviderName,
                        Kind = kind,
                        Location = path,
                        Sha256 = sha256,
                        SizeBytes = size,
                    }
                );
            }
            else
            {
                evidence.Add(
                    new EvidenceDocument
                    {
                        Kind = kind,
                        Location = path,
                        Sha256 = sha256,
                        SizeBytes = size,
                        MediaType = mediaType,
                    }
                );
            }
        }

        var result = AnnotateDiskFormats(artifacts, null, null);
        foreach (var flavour in request.Flavours)
        {
            result.AddRange(
                AnnotateDiskFormats(
                    FlavourDisks(request, flavour, files, manifestPath),
                    flavour.Name,
                    FlavourPackages(request.OutputDirectory, flavour)
                )
            );
        }
        return new TargetBuildResult(result, evidence);
    }

    // One flavour's disk files: disk-<name>.raw and the formats its importers take, each with its recorded digest.
    private static List<Artifact> FlavourDisks(
        TargetBuildRequest request,
        DiskFlavour flavour,
        HashSet<string> files,
        string manifestPath
    )
    {
        var extensions = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["raw"] = "raw",
            ["vhd"] = "vhd",
            ["tar-gz"] = "tar.gz",
        };
        var disks = new List<Artifact>();
        foreach (var format in FlavourFormats(flavour))
        {
            var path = Path.GetFullPath(
                Path.Combine(request.OutputDirectory, $"disk-{flavour.Name}.{extensions[format]}")
            );
            if (!files.Contains(path) || !File.Exists(path))
            {
                throw new ToolFailedException(
                    "packer",
                    $"the build finished but {path} (the {flavour.Name} flavour's disk) is not among the artifacts of {manifestPath}",
                    []
                );
            }
            disks.Add(
                new Artifact
                {
                    Target = request.Target.Provider,
                    Region = LocalProvider.ProviderName,
                    Kind = FormatOfKind.Single(p => p.Value == format).Key,
                    Location = path,
                    Sha256 = RecordedSha256(path),
                    SizeBytes = new FileInfo(path).Length,
                }
            );
        }
        return disks;
    }

    // What the flavour added, from dpkg in its tree: disk-<name>.packages, "name<TAB>version" per line, sorted.
    private static string FlavourPackages(string outputDirectory, DiskFlavour flavour)
    {
        var path = Path.Combine(outputDirectory, $"disk-{flavour.Name}.packages");
        if (!File.Exists(path))
        {
            throw new ToolFailedException(
                "packer",
                $"the build finished but {path} (what the {flavour.Name} flavour added) is missing",
                []
            );
        }
        return string.Join(
            ' ',
            File.ReadAllLines(path)
                .Where(l => l.Length > 0)
                .Select(l => l.Split('\t', 2))
                .Select(p => p.Length == 2 ? $"{p[0]}={p[1]}" : p[0])
        );
    }

    // The provenance names the disk every format was made from: the raw disk's subject and digest; a flavour's disk
    // files also name the flavour and the packages it added.
    private static List<Artifact> AnnotateDiskFormats(
        List<Artifact> artifacts,
        string? flavour,
        string? packages
    )
    {
        var raw = artifacts.Single(a => a.Kind == DiskRawKind);
        return
        [
            .. artifacts.Select(a =>
            {
                if (!FormatOfKind.TryGetValue(a.Kind, out var format))
                {
                    return a;
                }
                var details = new SortedDictionary<string, string>(StringComparer.Ordinal)
                {
                    ["disk"] = ProvenanceSubjects.NameOf(raw),
                    ["format"] = format,
                };
                if (flavour is not null)
                {
                    details[DiskFlavour.DetailKey] = flavour;
                    details[DiskFlavour.PackagesDetailKey] = packages ?? "";
                }
                return a with
                {
                    // The raw disk is its own source: it names none.
                    SourceSha256 = a.Kind == DiskRawKind ? null : raw.Sha256,
                    Details = details,
                };
            }),
        ];
    }

    internal static string RecordedSha256(string path)
    {
        var recorded = path + ".sha256";
        if (!File.Exists(recorded))
        {
            throw new ToolFailedException(
                "packer",
                $"{path}: the template wrote no {Path.GetFileName(recorded)} for it",
                []
            );
        }

        var text = File.ReadAllText(recorded).TrimEnd('\n');
        var parts = text.Split("  ", 2);
        if (
            parts.Length != 2
            || parts[1] != Path.GetFileName(path)
            || !Sha256Line().IsMatch(parts[0])
        )
        {
            throw new ToolFailedException(
                "packer",
                $"{recorded}: expected '<sha256>  {Path.GetFileName(path)}', found '{text}'",
                []
            );
        }

        if (File.GetLastWriteTimeUtc(path) > File.GetLastWriteTimeUtc(recorded))
        {
            throw new ToolFailedException(
                "packer",
                $"{path} was written after its digest in {Path.GetFileName(recorded)}; the digest cannot be trusted",
                []
            );
        }

        return parts[0];
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial System.Text.RegularExpressions.Regex Sha256Line();

    private const int ToolLogTail = 200;

    private static void CleanUp(TargetBuildRequest request, bool succeeded, ITargetBuildSink sink)
    {
        // The work directory goes away below; a failed build's tool logs (mmdebstrap, apt) live on in the build log.
        var logs = Path.Combine(request.WorkDirectory, "logs");
        if (!succeeded && Directory.Exists(logs))
        {
            var redactor = new Redactor(request.Secrets.Values);
            foreach (var file in Directory.EnumerateFiles(logs).Order(StringComparer.Ordinal))
            {
                var lines = File.ReadAllLines(file);
                sink.Log(
                    "tool",
                    $"--- {Path.GetFileName(file)} (last {Math.Min(lines.Length, ToolLogTail)} of {lines.Length} lines)"
                );
                foreach (var line in lines.TakeLast(ToolLogTail))
                {
                    sink.Log("tool", redactor.Redact(line));
                }
            }
        }

        sink.Progress("record", "removing the work directory");
        // Deleting a tree that still holds a bind mount (/dev, /proc of a chroot) would delete through it.
        MountTable.UnmountBelow(request.WorkDirectory);
        var left = MountTable.MountsBelow(request.WorkDirectory);
        if (left.Count > 0)
        {
            sink.Log(
                "error",
                $"not removing {request.WorkDirectory}: still mounted: {string.Join(", ", left)}"
            );
            return;
        }

        if (Directory.Exists(request.WorkDirectory))
        {
            Directory.Delete(request.WorkDirectory, recursive: true);
        }

        // A failed or cancelled build leaves no half-written artifacts behind.
        if (!succeeded && Directory.Exists(request.OutputDirectory))
        {
            Directory.Delete(request.OutputDirectory, recursive: true);
        }
    }

    private static void CopyDirectory(string source, string destination)
    {
        foreach (
            var dir in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories)
        )
        {
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, dir)));
        }

        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(destination, Path.GetRelativePath(source, file));
            File.Copy(file, to, overwrite: true);
            File.SetUnixFileMode(to, File.GetUnixFileMode(file));
        }
    }
}
