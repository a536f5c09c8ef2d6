using System.Collections.Concurrent;
using Amazon;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.S3;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Amazon.SimpleSystemsManagement;

namespace ImageForge.Providers.Aws.Connection;

/// <summary>
/// The SDK clients of one host: one per service, region and role, created on first use and kept. Credentials come
/// from the SDK's default chain (environment, profiles, SSO, container and instance roles) unless the host's own
/// environment names static keys; a target's <c>role_arn</c> is assumed through STS on top of them and refreshed
/// before it expires. <c>AWS_ENDPOINT_URL</c> (the SDK's own setting, read from the host's environment) points every
/// client at one endpoint: the tests' fake; production leaves it unset.
/// </summary>
internal sealed class AwsClients : IDisposable
{
    private const string EndpointVariable = "AWS_ENDPOINT_URL";

    private readonly Func<string, string?> _variable;
    private readonly ConcurrentDictionary<string, IDisposable> _clients = new(
        StringComparer.Ordinal
    );
    private readonly ConcurrentDictionary<string, AWSCredentials> _roles = new(
        StringComparer.Ordinal
    );
    private readonly Lazy<AWSCredentials> _base;
    private readonly int _maxErrorRetry;

    public AwsClients(Func<string, string?> variable, int maxErrorRetry)
    {
        _variable = variable;
        _maxErrorRetry = maxErrorRetry;
        _base = new(BaseCredentials);
    }

    /// <summary>The endpoint every client is pointed at, or null for AWS's own endpoints.</summary>
    public string? Endpoint => _variable(EndpointVariable) is { Length: > 0 } url ? url : null;

    public IAmazonEC2 Ec2(string region, string? roleArn) =>
        Client(
            "ec2",
            region,
            roleArn,
            (credentials, config) => new AmazonEC2Client(credentials, config),
            () => new AmazonEC2Config()
        );

    public IAmazonS3 S3(string region, string? roleArn) =>
        Client(
            "s3",
            region,
            roleArn,
            (credentials, config) => new AmazonS3Client(credentials, config),
            () => new AmazonS3Config { ForcePathStyle = Endpoint is not null }
        );

    public IAmazonSimpleSystemsManagement Ssm(string region, string? roleArn) =>
        Client(
            "ssm",
            region,
            roleArn,
            (credentials, config) => new AmazonSimpleSystemsManagementClient(credentials, config),
            () => new AmazonSimpleSystemsManagementConfig()
        );

    public IAmazonSecurityTokenService Sts(string region, string? roleArn) =>
        Client(
            "sts",
            region,
            roleArn,
            (credentials, config) => new AmazonSecurityTokenServiceClient(credentials, config),
            () => new AmazonSecurityTokenServiceConfig()
        );

    /// <summary>
    /// The credentials a tool that cannot use the SDK (Packer) is given: the base ones, or the role's (assumed and
    /// refreshed here). Never written anywhere but the tool's sensitive variables.
    /// </summary>
    public Task<ImmutableCredentials> CredentialsAsync(string? roleArn) =>
        Credentials(roleArn).GetCredentialsAsync();

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _clients.Clear();
    }

    private TClient Client<TClient, TConfig>(
        string service,
        string region,
        string? roleArn,
        Func<AWSCredentials, TConfig, TClient> create,
        Func<TConfig> newConfig
    )
        where TClient : IDisposable
        where TConfig : ClientConfig =>
        (TClient)
            _clients.GetOrAdd(
                $"{service}|{region}|{roleArn}",
                _ => create(Credentials(roleArn), Configure(newConfig(), region))
            );

    private TConfig Configure<TConfig>(TConfig config, string region)
        where TConfig : ClientConfig
    {
        // Throttling and 5xx answers are retried by the SDK's standard policy with its own backoff and retry quota.
        config.RetryMode = RequestRetryMode.Standard;
        config.MaxErrorRetry = _maxErrorRetry;
        if (Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint;
            config.AuthenticationRegion = region;
            config.UseHttp = endpoint.StartsWith("http:", StringComparison.Ordinal);
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        return config;
    }

    private AWSCredentials Credentials(string? roleArn) =>
        roleArn is null ? _base.Value : _roles.GetOrAdd(roleArn, arn => new AssumedRole(this, arn));

    // Keys in the host's environment (what the SDK's environment provider reads, but through the host, so a test host
    // gives its own); otherwise the SDK's whole default chain.
    private AWSCredentials BaseCredentials()
    {
        var key = _variable("AWS_ACCESS_KEY_ID");
        var secret = _variable("AWS_SECRET_ACCESS_KEY");
        if (key is { Length: > 0 } && secret is { Length: > 0 })
        {
            return _variable("AWS_SESSION_TOKEN") is { Length: > 0 } token
                ? new SessionAWSCredentials(key, secret, token)
                : new BasicAWSCredentials(key, secret);
        }

        return DefaultAWSCredentialsIdentityResolver.GetCredentials();
    }

    /// <summary>A role assumed with the base credentials, renewed by the SDK's refresh logic before it expires.</summary>
    private sealed class AssumedRole(AwsClients clients, string roleArn) : RefreshingAWSCredentials
    {
        protected override CredentialsRefreshState GenerateNewCredentials() =>
            GenerateNewCredentialsAsync().GetAwaiter().GetResult();

        protected override async Task<CredentialsRefreshState> GenerateNewCredentialsAsync()
        {
            var config = clients.Configure(new AmazonSecurityTokenServiceConfig(), "us-east-1");
            using var sts = new AmazonSecurityTokenServiceClient(clients._base.Value, config);
            var response = await sts.AssumeRoleAsync(
                new AssumeRoleRequest
                {
                    RoleArn = roleArn,
                    RoleSessionName = "imageforge",
                    DurationSeconds = 3600,
                }
            );
            var c = response.Credentials;
            return new CredentialsRefreshState(
                new ImmutableCredentials(c.AccessKeyId, c.SecretAccessKey, c.SessionToken),
                c.Expiration ?? DateTime.MinValue
            );
        }
    }
}
