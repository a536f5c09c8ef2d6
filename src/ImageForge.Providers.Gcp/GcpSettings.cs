namespace ImageForge.Providers.Gcp;

/// <summary>
/// Where the GCP provider sends its requests and how patiently. Production uses the defaults (Google's endpoints);
/// specs pass their loopback fake's URIs, short back-offs and small chunks. Nothing in a definition changes them.
/// </summary>
public sealed record GcpSettings
{
    /// <summary>Cloud Storage's JSON API root (uploads go to <c>/upload/</c> on its host); null for Google's.</summary>
    public Uri? StorageBaseUri { get; init; }

    /// <summary>Compute Engine's root, <c>.../compute/v1/</c>.</summary>
    public Uri ComputeBaseUri { get; init; } = new("https://compute.googleapis.com/compute/v1/");

    /// <summary>The first delay of the exponential back-off on 429 and 5xx answers (it doubles, randomised).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How many times a throttled or failed request is retried.</summary>
    public int Retries { get; init; } = 6;

    /// <summary>Bytes per chunk of a resumable upload (a multiple of 256 KiB); what a cut connection loses at most.</summary>
    public int UploadChunkSize { get; init; } = 16 * 1024 * 1024;
}
