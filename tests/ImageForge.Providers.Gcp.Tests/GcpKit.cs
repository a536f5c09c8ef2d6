using System.Collections.Concurrent;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using ImageForge.CloudFakes.Gcp;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;
using Xunit;

namespace ImageForge.Providers.Gcp.Tests;

/// <summary>
/// One GCP fake per spec class, with the provider connected to it the way a host connects it: a service-account key
/// file named by GOOGLE_APPLICATION_CREDENTIALS (no other variable is visible, so Application Default Credentials and
/// the metadata server are never tried), endpoints and back-off from <see cref="GcpSettings"/>.
/// </summary>
public sealed class GcpKit : IAsyncLifetime
{
    public const string Bucket = "imageforge-uploads";
    public const string Project = GcpFakeFixture.ProjectId;
    public const int ChunkSize = 2 * 256 * 1024;

    private readonly string _directory = Path.Combine(
        Path.GetTempPath(),
        "imageforge-gcp-specs-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))
    );

    public GcpFakeFixture Gcp { get; private set; } = null!;

    public GcpFake Fake => Gcp.Fake;

    public GcpSettings Settings { get; private set; } = null!;

    public string Directory => _directory;

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(_directory);
        Gcp = await GcpFakeFixture.StartAsync();
        Gcp.CreateBucket(Bucket, "EU");
        Settings = new GcpSettings
        {
            StorageBaseUri = Fake.StorageBaseUri,
            ComputeBaseUri = Fake.ComputeBaseUri,
            RetryDelay = TimeSpan.FromMilliseconds(20),
            Retries = 4,
            UploadChunkSize = ChunkSize,
        };
    }

    public async Task DisposeAsync()
    {
        await Gcp.DisposeAsync();
        System.IO.Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The environment a host gives the provider: only the key file's variable.</summary>
    public string? Variable(string name) =>
        name == "GOOGLE_APPLICATION_CREDENTIALS" ? Gcp.KeyFile : null;

    public ProviderServices Connect() => Connect(Settings);

    /// <summary>The provider with other settings (e.g. an endpoint that does not answer).</summary>
    public ProviderServices Connect(GcpSettings settings) =>
        new GcpProvider(settings).Connect(
            new ProviderContext(
                TimeProvider.System,
                new DataPaths(_directory),
                Variable,
                new Dictionary<string, string>()
            )
        );

    /// <summary>A disk.tar.gz holding a random disk.raw, and its artifact as the disk build records it.</summary>
    public Artifact Disk(string name, int diskBytes, int seed = 7)
    {
        var path = GcpKitDisk.Write(
            Path.Combine(_directory, name + ".disk.tar.gz"),
            diskBytes,
            seed
        );
        return new Artifact
        {
            Target = "local",
            Region = "local",
            Kind = "disk-tar-gz",
            Location = path,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))),
            SizeBytes = new FileInfo(path).Length,
        };
    }

    public static ImageDefinition Definition(string name) =>
        new()
        {
            Name = name,
            Description = "spec image",
            Os = new OsSpec("debian", "11"),
            Baseline = "open",
            Packages = PackageSpec.None,
            Targets = [Target()],
            Channels = ["dev", "staging", "prod"],
            SourceFile = name + ".yaml",
        };

    public static TargetSpec Target() =>
        new()
        {
            Provider = "gcp",
            BaseImage = "debian-11",
            Regions = ["europe-west1"],
            Options = new Dictionary<string, string>
            {
                ["project_id"] = Project,
                ["bucket"] = Bucket,
            },
            Secrets = new Dictionary<string, string>(),
            Build = BuildMode.Import,
            Channels = new Dictionary<string, IReadOnlyDictionary<string, string>>
            {
                ["prod"] = new Dictionary<string, string> { ["family"] = "debian-11-hardened" },
            },
        };

    public static ImportRequest Request(
        string image,
        string version,
        Artifact disk,
        IImportJournal journal
    ) =>
        new(
            "b-" + version,
            Definition(image),
            Target(),
            version,
            disk,
            "sha256:" + new string('a', 64),
            journal,
            new Dictionary<string, string>()
        );
}

/// <summary>Writes a disk.tar.gz as GCE imports it: a gzip-compressed tar holding disk.raw (random bytes).</summary>
public static class GcpKitDisk
{
    public static string Write(string path, int diskBytes, int seed)
    {
        var disk = new byte[diskBytes];
        new Random(seed).NextBytes(disk);
        using (var file = File.Create(path))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Gnu))
        {
            tar.WriteEntry(
                new GnuTarEntry(TarEntryType.RegularFile, "disk.raw")
                {
                    DataStream = new MemoryStream(disk),
                }
            );
        }

        return path;
    }
}

/// <summary>The build's step journal in memory; it can stop the import right after a given record (a crash).</summary>
public sealed class MemoryJournal : IImportJournal
{
    private readonly ConcurrentDictionary<(string, string), ImportStep> _steps = new();
    private int _records;

    /// <summary>Throws right after the n-th record was kept (1-based); 0 never.</summary>
    public int CrashAfter { get; set; }

    public IReadOnlyCollection<ImportStep> Steps => [.. _steps.Values];

    public Task<ImportStep?> GetAsync(
        string region,
        string name,
        CancellationToken cancellationToken = default
    ) => Task.FromResult(_steps.TryGetValue((region, name), out var step) ? step : null);

    public Task RecordAsync(ImportStep entry, CancellationToken cancellationToken = default)
    {
        _steps[(entry.Region, entry.Step)] = entry;
        if (++_records == CrashAfter)
        {
            throw new OperationCanceledException(
                $"crashed after record {_records} ({entry.Step} {entry.State})"
            );
        }

        return Task.CompletedTask;
    }
}

/// <summary>What the importer reported; it can cancel the run when a message matches.</summary>
public sealed class RecordingSink : ITargetBuildSink
{
    public ConcurrentQueue<string> Messages { get; } = new();

    public Func<string, bool>? CancelWhen { get; init; }

    public CancellationTokenSource Cancellation { get; } = new();

    public void Progress(string stage, string detail)
    {
        Messages.Enqueue($"{stage}: {detail}");
        if (CancelWhen?.Invoke(detail) == true)
        {
            Cancellation.Cancel();
        }
    }

    public void Log(string stream, string text) => Messages.Enqueue($"{stream}: {text}");

    public void ToolStarted(int processGroup) { }
}
