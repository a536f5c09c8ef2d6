using System.Collections.Concurrent;
using System.Security.Cryptography;
using Azure.ResourceManager.Compute;
using Azure.ResourceManager.Compute.Models;
using ImageForge.CloudFakes.Azure;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using Xunit;

namespace ImageForge.Providers.Azure.Tests;

/// <summary>One Azurite and one ARM fake (with the gallery imageforge in westeurope) for every spec of the project.</summary>
public sealed class AzureWorld : IAsyncLifetime
{
    public const string ResourceGroup = "imageforge-images";
    public const string Gallery = "imageforge";
    public const string Container = "vhds";

    private readonly string _dir = System
        .IO.Directory.CreateTempSubdirectory("imageforge-azure-")
        .FullName;
    private int _images;

    public Azurite Azurite { get; private set; } = null!;

    public ArmFake Arm { get; private set; } = null!;

    public string Directory => _dir;

    public async Task InitializeAsync()
    {
        Azurite = await Azurite.StartAsync();
        Arm = await ArmFake.StartAsync(
            new ArmFakeOptions { Blobs = Azurite, RetryAfterSeconds = 0 }
        );
        Arm.State.AddGallery(ArmFake.DefaultSubscriptionId, ResourceGroup, Gallery, "westeurope");
    }

    public async Task DisposeAsync()
    {
        await Arm.DisposeAsync();
        await Azurite.DisposeAsync();
        System.IO.Directory.Delete(_dir, recursive: true);
    }

    /// <summary>How the provider reaches the fakes; production never sets any of this.</summary>
    public AzureConnection Connection(
        TimeSpan? replicationTimeout = null,
        Action<global::Azure.ResourceManager.ArmClientOptions>? arm = null
    ) =>
        new()
        {
            Credential = new TestTokenCredential("imageforge-test-token"),
            ArmOptions = () => Arm.CreateClientOptions(arm),
            Blobs = account =>
                account == Azurite.AccountName
                    ? Azurite.CreateServiceClient()
                    : throw new InvalidOperationException($"no storage account {account} here"),
            PollInterval = TimeSpan.Zero,
            OperationPollInterval = TimeSpan.FromMilliseconds(20),
            ReplicationTimeout = replicationTimeout,
            PageChunkBytes = 1 << 20,
        };

    internal AzureImporter Importer(TimeSpan? replicationTimeout = null) =>
        new(new AzureClients(Connection(replicationTimeout)), TimeProvider.System);

    internal AzureGallery Distribution(
        TimeProvider? time = null,
        Action<global::Azure.ResourceManager.ArmClientOptions>? arm = null
    ) => new(new AzureClients(Connection(arm: arm)), time ?? TimeProvider.System);

    /// <summary>A fresh image definition name, so specs sharing the gallery never meet.</summary>
    public string NewImageDefinition() => $"debian-11-{Interlocked.Increment(ref _images)}";

    /// <summary>An import of a new image definition in westeurope and northeurope, with a fresh journal.</summary>
    public (string Definition, ImportRequest Request) Fresh(string version)
    {
        var definition = NewImageDefinition();
        return (
            definition,
            Request(Target(definition), version, Disk($"{definition}.vhd"), new MemoryJournal())
        );
    }

    public static TargetSpec Target(string imageDefinition, params string[] regions) =>
        new()
        {
            Provider = "azure",
            BaseImage = "Debian:debian-11:11-gen2:latest",
            Regions = regions.Length == 0 ? ["westeurope", "northeurope"] : regions,
            Build = BuildMode.Import,
            Options = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["gallery"] = Gallery,
                ["image_definition"] = imageDefinition,
                ["offer"] = "debian",
                ["publisher"] = "imageforge",
                ["replica_count"] = "1",
                ["replication_timeout_minutes"] = "120",
                ["resource_group"] = ResourceGroup,
                ["sku"] = "11-gen2",
                ["storage_account"] = Azurite.AccountName,
                ["storage_account_type"] = "Standard_LRS",
                ["storage_container"] = Container,
                ["subscription_id"] = ArmFake.DefaultSubscriptionId,
            },
            Secrets = new Dictionary<string, string>(),
            Channels = new Dictionary<string, IReadOnlyDictionary<string, string>>
            {
                ["dev"] = new Dictionary<string, string> { ["latest"] = "false" },
                ["prod"] = new Dictionary<string, string> { ["latest"] = "true" },
            },
        };

    public static ImageDefinition Definition(TargetSpec target) =>
        new()
        {
            Name = "debian-11-cis-azure",
            Description = "spec",
            Os = new OsSpec("debian", "11"),
            Baseline = "debian-11-anssi",
            Packages = PackageSpec.None,
            Targets = [target],
            Channels = ["dev", "staging", "prod"],
            SourceFile = "debian-11-cis-azure.yaml",
        };

    /// <summary>
    /// A fixed VHD of <paramref name="diskMiB"/> MiB: random bytes in its first and last MiB, zeros between (as a
    /// mostly empty disk is), then the footer.
    /// </summary>
    public Artifact Disk(string name, int diskMiB = 6, int seed = 7, bool full = false)
    {
        var diskSize = (long)diskMiB << 20;
        var path = Path.Combine(Directory, name);
        var bytes = new byte[diskSize + FixedVhd.FooterSize];
        var random = new Random(seed);
        if (full)
        {
            random.NextBytes(bytes.AsSpan(0, (int)diskSize));
        }
        else
        {
            random.NextBytes(bytes.AsSpan(0, 1 << 20));
            random.NextBytes(bytes.AsSpan((int)diskSize - (1 << 20), 1 << 20));
        }

        FixedVhd.Footer(diskSize, new Guid(seed, 0, 0, new byte[8])).CopyTo(bytes, diskSize);
        File.WriteAllBytes(path, bytes);
        return new Artifact
        {
            Target = "local",
            Region = "local",
            Kind = "disk-vhd",
            Location = path,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            SizeBytes = bytes.Length,
        };
    }

    public static ImportRequest Request(
        TargetSpec target,
        string version,
        Artifact disk,
        IImportJournal journal
    ) =>
        new(
            "build-1",
            Definition(target),
            target,
            version,
            disk,
            "fingerprint",
            journal,
            new Dictionary<string, string>()
        );

    /// <summary>A gallery version as the SDK reads it, with its replication status.</summary>
    public async Task<GalleryImageVersionData> VersionDataAsync(string definition, string name) =>
        (
            await Arm.CreateClient()
                .GetGalleryImageVersionResource(
                    GalleryImageVersionResource.CreateResourceIdentifier(
                        ArmFake.DefaultSubscriptionId,
                        ResourceGroup,
                        Gallery,
                        definition,
                        name
                    )
                )
                .GetAsync(ReplicationStatusType.ReplicationStatus)
        )
            .Value
            .Data;

    /// <summary>PUTs the fake saw for one gallery version (the create calls a resumed import must not repeat).</summary>
    public int PutsOf(string imageDefinition, string name) => Calls("PUT", imageDefinition, name);

    public int Calls(string method, string imageDefinition, string name) =>
        Arm.Requests.Count(r =>
            r.Method == method
            && r.PathAndQuery.Contains(
                $"/images/{imageDefinition}/versions/{name}?",
                StringComparison.Ordinal
            )
        );
}

[CollectionDefinition(Name)]
public sealed class AzureFakesGroup : ICollectionFixture<AzureWorld>
{
    public const string Name = "azure";
}

/// <summary>The build's step journal in memory; it can die right after recording a step, as a killed process would.</summary>
internal sealed class MemoryJournal : IImportJournal
{
    private readonly ConcurrentDictionary<(string, string), ImportStep> _steps = new();

    /// <summary>The next time this step is recorded done, the "process" dies right after.</summary>
    public string? CrashAfter { get; set; }

    public ImportStep? this[string region, string step] =>
        _steps.TryGetValue((region, step), out var found) ? found : null;

    public Task<ImportStep?> GetAsync(
        string region,
        string name,
        CancellationToken cancellationToken = default
    ) => Task.FromResult(this[region, name]);

    public Task RecordAsync(ImportStep entry, CancellationToken cancellationToken = default)
    {
        _steps[(entry.Region, entry.Step)] = entry;
        if (entry.State == ImportStepState.Done && entry.Step == CrashAfter)
        {
            CrashAfter = null;
            throw new ProcessDiedException(entry.Step);
        }

        return Task.CompletedTask;
    }
}

internal sealed class ProcessDiedException(string step) : Exception($"died after {step}");

/// <summary>What the import reported.</summary>
internal sealed class RecordingSink : ITargetBuildSink
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public void Progress(string stage, string detail) => _lines.Enqueue($"{stage}: {detail}");

    public void Log(string stream, string text) => _lines.Enqueue($"{stream}: {text}");

    public void ToolStarted(int processGroup) { }
}
