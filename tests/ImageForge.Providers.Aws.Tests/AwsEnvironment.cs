using System.Collections.Concurrent;
using System.Security.Cryptography;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.S3.Model;
using ImageForge.CloudFakes.Aws;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;
using ImageForge.TestUtils;
using Xunit;

namespace ImageForge.Providers.Aws.Tests;

/// <summary>
/// One AWS fake per spec class, the provider module connected to it the way a host connects it (the endpoint and the
/// keys in the host's environment, nothing in the process environment), the import bucket, and a few MiB of disk.
/// </summary>
public sealed class AwsEnvironment : IAsyncLifetime, IDisposable
{
    public const string Home = "eu-west-1";
    public const string Other = "us-east-1";
    public const string Bucket = "imageforge-import";

    private readonly TempDirectory _dir = new("imageforge-aws");
    private int _versions;

    public AwsFakeFixture Aws { get; private set; } = null!;

    public AwsFake Fake => Aws.Fake;

    /// <summary>An 11 MiB raw disk: three parts of 5 MiB (the smallest S3 allows), the last one short.</summary>
    public Artifact Disk { get; private set; } = null!;

    public string Directory => _dir.Path;

    public async Task InitializeAsync()
    {
        Aws = await AwsFakeFixture.StartAsync(new AwsFakeOptions());
        await Aws.S3(Home)
            .PutBucketAsync(new PutBucketRequest { BucketName = Bucket, BucketRegionName = Home });
        var path = _dir.Combine("disk.raw");
        var bytes = new byte[11 * 1024 * 1024];
        new Random(13).NextBytes(bytes);
        await File.WriteAllBytesAsync(path, bytes);
        Disk = new Artifact
        {
            Target = "local",
            Region = "local",
            Kind = "disk-raw",
            Location = path,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            SizeBytes = bytes.Length,
        };
    }

    public async Task DisposeAsync()
    {
        await Aws.DisposeAsync();
        Dispose();
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>What the module reads from its host: the fake's endpoint and the fake user's keys.</summary>
    public IReadOnlyDictionary<string, string> Variables =>
        new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = Fake.Url.ToString(),
            ["AWS_ACCESS_KEY_ID"] = AwsFake.AccessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = AwsFake.SecretAccessKey,
        };

    public static AwsProvider Module() =>
        new(
            new AwsProviderOptions
            {
                PollInterval = TimeSpan.FromMilliseconds(5),
                WaitTimeout = TimeSpan.FromSeconds(30),
                MaxErrorRetry = 3,
            }
        );

    public ProviderServices Connect() =>
        Module()
            .Connect(
                new ProviderContext(
                    TimeProvider.System,
                    new DataPaths(_dir.Combine("data")),
                    name => Variables.GetValueOrDefault(name),
                    new Dictionary<string, string>()
                )
            );

    /// <summary>A version no other spec of the class uses (the fake is shared).</summary>
    public string NextVersion() => $"2026.12.02.{Interlocked.Increment(ref _versions)}";

    public static ImageDefinition Definition(
        IReadOnlyDictionary<string, string>? options = null,
        string name = "base",
        params string[] regions
    ) =>
        new()
        {
            Name = name,
            Description = "a spec image",
            Os = new OsSpec("debian", "11"),
            Baseline = "open",
            Packages = PackageSpec.None,
            Channels = ["dev", "staging", "prod"],
            SourceFile = "images/base.yaml",
            Targets =
            [
                new TargetSpec
                {
                    Provider = "aws",
                    BaseImage = "debian-11-amd64-*",
                    Regions = regions.Length > 0 ? regions : [Home, Other],
                    Options = new Dictionary<string, string>(
                        options
                            ?? new Dictionary<string, string>
                            {
                                ["import_bucket"] = Bucket,
                                ["encrypt"] = "false",
                                ["upload_part_mib"] = "5",
                            }
                    ),
                    Secrets = new Dictionary<string, string>(),
                    Build = BuildMode.Import,
                },
            ],
        };

    public ImportRequest Request(
        ImageDefinition definition,
        string version,
        IImportJournal journal
    ) =>
        new(
            "build-" + version,
            definition,
            definition.Targets[0],
            version,
            Disk,
            "fingerprint-" + version,
            journal,
            new Dictionary<string, string>()
        )
        {
            WorkDirectory = Directory,
        };

    /// <summary>Credentials of a session of <paramref name="roleArn"/> (declared with the fake's AddRole).</summary>
    public async Task<AWSCredentials> AssumeAsync(string roleArn)
    {
        var assumed = await Aws.Sts(Home)
            .AssumeRoleAsync(
                new Amazon.SecurityToken.Model.AssumeRoleRequest
                {
                    RoleArn = roleArn,
                    RoleSessionName = "spec",
                }
            );
        return new SessionAWSCredentials(
            assumed.Credentials.AccessKeyId,
            assumed.Credentials.SecretAccessKey,
            assumed.Credentials.SessionToken
        );
    }

    /// <summary>
    /// The AMIs named <paramref name="name"/> in <paramref name="region"/> of the fake's user's account, or of the
    /// account <paramref name="credentials"/> act in.
    /// </summary>
    public async Task<IReadOnlyList<Image>> ImagesAsync(
        string region,
        string name,
        AWSCredentials? credentials = null
    ) =>
        (
            await Aws.Ec2(region, credentials)
                .DescribeImagesAsync(
                    new DescribeImagesRequest
                    {
                        Owners = ["self"],
                        Filters = [new Amazon.EC2.Model.Filter("name", [name])],
                    }
                )
        ).Images
        ?? [];

    /// <summary>Snapshots of the account (or of <paramref name="credentials"/>') in <paramref name="region"/> that no AMI uses.</summary>
    public async Task<IReadOnlyList<string>> OrphanSnapshotsAsync(
        string region,
        AWSCredentials? credentials = null
    )
    {
        var ec2 = Aws.Ec2(region, credentials);
        var snapshots =
            (
                await ec2.DescribeSnapshotsAsync(
                    new DescribeSnapshotsRequest { OwnerIds = ["self"] }
                )
            ).Snapshots
            ?? [];
        var used = (
            (await ec2.DescribeImagesAsync(new DescribeImagesRequest { Owners = ["self"] })).Images
            ?? []
        )
            .SelectMany(i => i.BlockDeviceMappings ?? [])
            .Select(m => m.Ebs?.SnapshotId)
            .ToHashSet();
        return [.. snapshots.Select(s => s.SnapshotId).Where(id => !used.Contains(id))];
    }
}

/// <summary>The build's journal in memory; can make the "process" die right after (or right before) a record.</summary>
public sealed class MemoryJournal : IImportJournal
{
    private readonly ConcurrentDictionary<(string, string), ImportStep> _steps = new();

    /// <summary>Throws <see cref="CrashException"/> once, after recording an entry it matches.</summary>
    public Func<ImportStep, bool>? CrashAfter { get; set; }

    /// <summary>Throws <see cref="CrashException"/> once, instead of recording an entry it matches.</summary>
    public Func<ImportStep, bool>? CrashBefore { get; set; }

    public IReadOnlyCollection<ImportStep> Steps => [.. _steps.Values];

    public Task<ImportStep?> GetAsync(
        string region,
        string name,
        CancellationToken cancellationToken = default
    ) => Task.FromResult(_steps.TryGetValue((region, name), out var step) ? step : null);

    public Task RecordAsync(ImportStep entry, CancellationToken cancellationToken = default)
    {
        if (CrashBefore?.Invoke(entry) == true)
        {
            CrashBefore = null;
            throw new CrashException(entry);
        }

        _steps[(entry.Region, entry.Step)] = entry;
        if (CrashAfter?.Invoke(entry) == true)
        {
            CrashAfter = null;
            throw new CrashException(entry);
        }

        return Task.CompletedTask;
    }
}

/// <summary>The simulated death of the build process at a journal write.</summary>
public sealed class CrashException(ImportStep at)
    : Exception($"crashed at {at.Region}/{at.Step} {at.State}");

/// <summary>Collects progress lines.</summary>
public sealed class RecordingSink : ITargetBuildSink
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public void Progress(string stage, string detail) => Lines.Enqueue($"{stage} | {detail}");

    public void Log(string stream, string text) => Lines.Enqueue($"{stream}: {text}");

    public void ToolStarted(int processGroup) { }
}
