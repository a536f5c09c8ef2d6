using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using ImageForge.CloudFakes.Azure;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Promotion;
using ImageForge.Core.Providers;
using ImageForge.TestUtils;

namespace ImageForge.TestSupport;

/// <summary>
/// A disk-building provider module for specs that import into clouds without a real Packer build: it makes what the
/// local target's disk build gives the importers, one random disk (1 MiB unless told) in each cloud's format (disk.raw,
/// disk.vhd: the raw bytes and a fixed VHD footer, disk.tar.gz holding disk.raw), the formats bound to the raw
/// disk's digest as the local target binds them, and a package inventory. It publishes nothing itself.
/// It counts its builds: one build of a multi-cloud image must make one disk.
/// </summary>
/// <param name="diskBytes">The raw disk's size (a whole number of MiB, as a fixed VHD needs).</param>
public sealed class DiskMaker(int diskBytes = 1 << 20)
    : ProviderModule,
        ITargetBuilder,
        IDistributionTarget
{
    public const string ProviderName = "diskmaker";

    private int _builds;

    /// <summary>How many disks were built.</summary>
    public int Builds => _builds;

    public string Target => Name;

    public string Provider => Name;

    public override ProviderRules Rules { get; } =
        new()
        {
            Name = ProviderName,
            HasRegions = false,
            BaseImageExpectation = "anything",
            CheckBaseImage = (_, _) => null,
            Options = [],
            SecretVariables = [],
            BuildsDisks = true,
        };

    /// <summary>
    /// A loopback port nothing listens on: the scan of a made disk's inventory asks no archive outside this machine
    /// (its source is recorded as failed, which the specs' open baseline accepts).
    /// </summary>
    public override string? SecurityMirror(TargetSpec target) =>
        ClosedLoopback.DebianSecurityMirror;

    public override ProviderServices Connect(ProviderContext context) => new(this, null, this);

    public IReadOnlyList<string> Preflight(
        Baseline baseline,
        TargetSpec target,
        ContentPaths content
    ) => [];

    public Task<StepOutcome> PublishAsync(
        ImageVersion version,
        string channel,
        DistributionStep planned,
        CancellationToken cancellationToken = default
    ) => Task.FromResult(StepOutcome.Done("kept"));

    public Task<StepOutcome> DeprecateAsync(
        ImageVersion version,
        string reason,
        CancellationToken cancellationToken = default
    ) => Task.FromResult(StepOutcome.Done("kept"));

    public Task<StepOutcome> DeleteAsync(
        ImageVersion version,
        CancellationToken cancellationToken = default
    ) => Task.FromResult(StepOutcome.Done("kept"));

    public async Task<TargetBuildResult> BuildAsync(
        TargetBuildRequest request,
        ITargetBuildSink sink,
        CancellationToken cancellationToken = default
    )
    {
        Interlocked.Increment(ref _builds);
        Directory.CreateDirectory(request.OutputDirectory);
        var disks = await DiskAsync(request, "disk", cancellationToken);
        // Each flavour (a target with a guest agent) gets a disk of its own, its files named and annotated as the
        // local target's are: disk-<flavour>.raw..., with the flavour and the packages it "added".
        foreach (var flavour in request.Flavours)
        {
            var details = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                [DiskFlavour.DetailKey] = flavour.Name,
                [DiskFlavour.PackagesDetailKey] = string.Join(
                    ' ',
                    flavour.Packages.Select(p => $"{p}=1.0-test")
                ),
            };
            disks.AddRange(
                (await DiskAsync(request, $"disk-{flavour.Name}", cancellationToken)).Select(a =>
                    a with
                    {
                        Details = details,
                    }
                )
            );
        }
        var inventory = Path.Combine(request.OutputDirectory, "packages.tsv");
        await File.WriteAllTextAsync(
            inventory,
            string.Join('\t', Core.Inventory.PackageInventory.Columns)
                + "\nbash\t5.1-2\tamd64\tbash\t5.1-2\tDebian\t7000\tGPL-3\tdeb\n",
            cancellationToken
        );
        return new TargetBuildResult(
            disks,
            [
                new EvidenceDocument
                {
                    Kind = "package-inventory",
                    Location = inventory,
                    Sha256 = Convert.ToHexStringLower(
                        SHA256.HashData(await File.ReadAllBytesAsync(inventory, cancellationToken))
                    ),
                    MediaType = "text/tab-separated-values",
                },
            ]
        );
    }

    // One random disk in the three formats: <name>.raw, <name>.vhd, <name>.tar.gz (holding disk.raw).
    private async Task<List<Artifact>> DiskAsync(
        TargetBuildRequest request,
        string name,
        CancellationToken cancellationToken
    )
    {
        var disk = new byte[diskBytes];
        RandomNumberGenerator.Fill(disk);
        var raw = await WriteAsync(request, $"{name}.raw", disk, cancellationToken);
        var vhd = await WriteAsync(
            request,
            $"{name}.vhd",
            [.. disk, .. FixedVhd.Footer(disk.Length, Guid.NewGuid())],
            cancellationToken
        );
        using var tarGz = new MemoryStream();
        using (var gzip = new GZipStream(tarGz, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Gnu))
        {
            tar.WriteEntry(
                new GnuTarEntry(TarEntryType.RegularFile, "disk.raw")
                {
                    DataStream = new MemoryStream(disk),
                }
            );
        }

        var tarball = await WriteAsync(
            request,
            $"{name}.tar.gz",
            tarGz.ToArray(),
            cancellationToken
        );
        return
        [
            Artifact("disk-raw", raw.Path, raw.Sha256, raw.Size, null),
            Artifact("disk-vhd", vhd.Path, vhd.Sha256, vhd.Size, raw.Sha256),
            Artifact("disk-tar-gz", tarball.Path, tarball.Sha256, tarball.Size, raw.Sha256),
        ];
    }

    private Artifact Artifact(string kind, string path, string sha256, long size, string? source) =>
        new()
        {
            Target = Name,
            Region = Name,
            Kind = kind,
            Location = path,
            Sha256 = sha256,
            SizeBytes = size,
            SourceSha256 = source,
        };

    private static async Task<(string Path, string Sha256, long Size)> WriteAsync(
        TargetBuildRequest request,
        string name,
        byte[] bytes,
        CancellationToken cancellationToken
    )
    {
        var path = Path.Combine(request.OutputDirectory, name);
        await File.WriteAllBytesAsync(path, bytes, cancellationToken);
        return (path, Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length);
    }
}
