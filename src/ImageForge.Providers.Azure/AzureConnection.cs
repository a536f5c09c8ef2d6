using Azure.Core;
using Azure.ResourceManager;
using Azure.Storage.Blobs;

namespace ImageForge.Providers.Azure;

/// <summary>
/// How the Azure provider reaches Azure. Production leaves every member at its default (the public cloud,
/// <c>DefaultAzureCredential</c>, <c>https://{account}.blob.core.windows.net</c>); the tests point it at the ARM fake
/// and Azurite. Nothing here is read from a definition.
/// </summary>
public sealed class AzureConnection
{
    /// <summary>The credential for Resource Manager and Blob storage; null for the definition's (see docs/azure.md).</summary>
    public TokenCredential? Credential { get; init; }

    /// <summary>Client options for Resource Manager (endpoint, transport); null for the public cloud.</summary>
    public Func<ArmClientOptions>? ArmOptions { get; init; }

    /// <summary>
    /// The Blob service of a storage account (by name); null for
    /// <c>https://{account}.blob.core.windows.net</c> with <see cref="Credential"/>.
    /// </summary>
    public Func<string, BlobServiceClient>? Blobs { get; init; }

    /// <summary>How long to wait between two looks at a replication; null for 15 s (the portal's own pace).</summary>
    public TimeSpan? PollInterval { get; init; }

    /// <summary>
    /// How often a long-running operation other than replication (an image definition, a PATCH, a delete) is polled;
    /// null for the SDK's own pace (Azure's <c>Retry-After</c>).
    /// </summary>
    public TimeSpan? OperationPollInterval { get; init; }

    /// <summary>How long replication may take before it is re-read and reported; null for the target's option.</summary>
    public TimeSpan? ReplicationTimeout { get; init; }

    /// <summary>The pages sent in one Put Page call (at most 4 MiB, Azure's limit); null for 4 MiB.</summary>
    public int? PageChunkBytes { get; init; }

    /// <summary>Put Page calls in flight at once; null for 8.</summary>
    public int? UploadParallelism { get; init; }
}
