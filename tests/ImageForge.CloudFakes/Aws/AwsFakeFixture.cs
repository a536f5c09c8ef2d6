using Amazon.EC2;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.SecurityToken;
using Amazon.SimpleSystemsManagement;

namespace ImageForge.CloudFakes.Aws;

/// <summary>
/// Starts an <see cref="AwsFake"/> and hands out the real SDK clients pointed at it, one per service and region
/// (plain HTTP, path-style S3, static keys, no instance metadata). Disposing it fails when a request broke a model
/// and the spec did not take that problem with <see cref="TakeModelProblems"/>.
/// </summary>
public sealed class AwsFakeFixture : IAsyncDisposable
{
    private readonly List<IDisposable> _clients = [];
    private readonly Lock _gate = new();
    private int _taken;

    static AwsFakeFixture()
    {
        // Nothing in a test may ask an instance metadata service for credentials or a region.
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    }

    private AwsFakeFixture(AwsFake fake) => Fake = fake;

    /// <summary>The fake the clients talk to (faults, counters, problems).</summary>
    public AwsFake Fake { get; }

    /// <summary>The fake IAM user's keys.</summary>
    public static AWSCredentials UserCredentials { get; } =
        new BasicAWSCredentials(AwsFake.AccessKeyId, AwsFake.SecretAccessKey);

    /// <summary>Starts the fake.</summary>
    public static async Task<AwsFakeFixture> StartAsync(
        AwsFakeOptions? options = null,
        TimeProvider? time = null
    ) => new(await AwsFake.StartAsync(time, options));

    /// <summary>An EC2 client for <paramref name="region"/>, signing as the fake's user unless told otherwise.</summary>
    public AmazonEC2Client Ec2(
        string region,
        AWSCredentials? credentials = null,
        Action<AmazonEC2Config>? configure = null
    ) => Client(region, credentials, configure, (c, config) => new AmazonEC2Client(c, config));

    /// <summary>An S3 client for <paramref name="region"/> (path-style addressing).</summary>
    public AmazonS3Client S3(
        string region,
        AWSCredentials? credentials = null,
        Action<AmazonS3Config>? configure = null
    ) =>
        Client<AmazonS3Client, AmazonS3Config>(
            region,
            credentials,
            config =>
            {
                config.ForcePathStyle = true;
                configure?.Invoke(config);
            },
            (c, config) => new AmazonS3Client(c, config)
        );

    /// <summary>An SSM client for <paramref name="region"/>.</summary>
    public AmazonSimpleSystemsManagementClient Ssm(
        string region,
        AWSCredentials? credentials = null,
        Action<AmazonSimpleSystemsManagementConfig>? configure = null
    ) =>
        Client(
            region,
            credentials,
            configure,
            (c, config) => new AmazonSimpleSystemsManagementClient(c, config)
        );

    /// <summary>An STS client for <paramref name="region"/>.</summary>
    public AmazonSecurityTokenServiceClient Sts(
        string region,
        AWSCredentials? credentials = null,
        Action<AmazonSecurityTokenServiceConfig>? configure = null
    ) =>
        Client(
            region,
            credentials,
            configure,
            (c, config) => new AmazonSecurityTokenServiceClient(c, config)
        );

    /// <summary>The model problems recorded since the last take; a spec that provokes them on purpose takes them.</summary>
    public IReadOnlyList<string> TakeModelProblems()
    {
        lock (_gate)
        {
            var all = Fake.Problems.All;
            var fresh = all.Skip(_taken).ToList();
            _taken = all.Count;
            return fresh;
        }
    }

    /// <summary>Fails when a request broke a model and no spec took the problem.</summary>
    public void AssertNoModelProblems()
    {
        var left = TakeModelProblems();
        if (left.Count > 0)
        {
            throw new InvalidOperationException(
                "requests broke the AWS models:\n" + string.Join('\n', left)
            );
        }
    }

    /// <summary>Disposes the clients and the fake, then asserts no model problem is left.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _clients.ForEach(c => c.Dispose());
            _clients.Clear();
        }

        await Fake.DisposeAsync();
        AssertNoModelProblems();
    }

    private TClient Client<TClient, TConfig>(
        string region,
        AWSCredentials? credentials,
        Action<TConfig>? configure,
        Func<AWSCredentials, TConfig, TClient> create
    )
        where TClient : IDisposable
        where TConfig : ClientConfig, new()
    {
        var config = new TConfig
        {
            ServiceURL = Fake.Url.ToString(),
            AuthenticationRegion = region,
            UseHttp = true,
        };
        configure?.Invoke(config);
        var client = create(credentials ?? UserCredentials, config);
        lock (_gate)
        {
            _clients.Add(client);
        }

        return client;
    }
}
