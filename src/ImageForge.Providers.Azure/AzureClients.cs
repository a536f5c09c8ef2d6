using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.ResourceManager;
using Azure.Storage.Blobs;
using ImageForge.Core.Definitions;

namespace ImageForge.Providers.Azure;

/// <summary>
/// The SDK clients of one host, made from its <see cref="AzureConnection"/>: one ArmClient per credential and
/// subscription, one Blob service client per storage account.
/// </summary>
internal sealed class AzureClients(AzureConnection connection)
{
    public const string ClientSecret = "client_secret";

    public TimeSpan PollInterval => connection.PollInterval ?? TimeSpan.FromSeconds(15);

    public TimeSpan? ReplicationTimeout => connection.ReplicationTimeout;

    /// <summary>
    /// The credential for a target: the connection's (tests), a client secret when the definition names the
    /// environment variable that holds one (with its tenant_id and client_id), else <c>DefaultAzureCredential</c>
    /// (environment, workload identity, managed identity, Azure CLI; never an interactive login).
    /// </summary>
    public TokenCredential Credential(
        TargetSpec target,
        IReadOnlyDictionary<string, string> secrets
    )
    {
        if (connection.Credential is { } given)
        {
            return given;
        }

        if (secrets.TryGetValue(ClientSecret, out var secret))
        {
            return new ClientSecretCredential(
                target.Option("tenant_id"),
                target.Option("client_id"),
                secret
            );
        }

        return Default(target.Option("tenant_id"));
    }

    /// <summary>The credential distribution acts with: the connection's, or the default chain.</summary>
    public TokenCredential Credential() => connection.Credential ?? Default(null);

    /// <summary>What keeps a target's credential from being made.</summary>
    public static IEnumerable<string> CredentialProblems(TargetSpec target)
    {
        if (
            target.Secrets.ContainsKey(ClientSecret)
            && (target.Option("tenant_id") is null || target.Option("client_id") is null)
        )
        {
            yield return "azure: secrets.client_secret needs options.tenant_id and options.client_id (the service principal it belongs to)";
        }
    }

    /// <summary>Waits for a long-running operation at the connection's pace (the SDK's own by default).</summary>
    public async Task CompleteAsync(Operation operation, CancellationToken cancellationToken)
    {
        if (connection.OperationPollInterval is { } interval)
        {
            await operation.WaitForCompletionResponseAsync(interval, cancellationToken);
        }
        else
        {
            await operation.WaitForCompletionResponseAsync(cancellationToken);
        }
    }

    public ArmClient Arm(TokenCredential credential, string? subscriptionId) =>
        new(credential, subscriptionId, connection.ArmOptions?.Invoke() ?? new ArmClientOptions());

    public BlobServiceClient Blobs(TokenCredential credential, string account) =>
        connection.Blobs?.Invoke(account)
        ?? new BlobServiceClient(new Uri($"https://{account}.blob.core.windows.net"), credential);

    public VhdUpload Upload(BlobServiceClient blobs) =>
        new(
            blobs,
            Math.Clamp(connection.PageChunkBytes ?? (4 << 20), 512, 4 << 20) / 512 * 512,
            connection.UploadParallelism ?? 8
        );

    private static DefaultAzureCredential Default(string? tenantId) =>
        new(
            new DefaultAzureCredentialOptions
            {
                TenantId = tenantId,
                ExcludeInteractiveBrowserCredential = true,
            }
        );
}

/// <summary>How an Azure failure reads in a step's outcome.</summary>
internal static class AzureFailures
{
    /// <summary>
    /// The status and error code, or, for a long-running operation that failed (its poll answers 200 with no error
    /// code), the first line of the SDK's message, which carries the operation's error.
    /// </summary>
    public static string Describe(RequestFailedException e) =>
        string.IsNullOrEmpty(e.ErrorCode) ? FirstLine(e.Message) : $"{e.Status} {e.ErrorCode}";

    /// <summary>The first line of a message.</summary>
    public static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
