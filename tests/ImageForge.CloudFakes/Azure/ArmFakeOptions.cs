using Azure.Core;

namespace ImageForge.CloudFakes.Azure;

/// <summary>How the Azure Resource Manager fake behaves.</summary>
public sealed class ArmFakeOptions
{
    /// <summary>The clock for operation start/end times and published dates.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// How many status polls (or GETs) a long-running operation that does not replicate (a gallery, an image
    /// definition, any delete) answers InProgress before it finishes.
    /// </summary>
    public int PollsBeforeDone { get; init; } = 1;

    /// <summary>How far each region's replication moves per step (poll or GET); 50 means Replicating 50% then Completed.</summary>
    public int ReplicationStepPercent { get; init; } = 50;

    /// <summary>
    /// The <c>Retry-After</c> (seconds) on long-running operation responses. The SDK never polls faster than 1 s
    /// anyway; 0 lets a client with a short polling interval go faster.
    /// </summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Where source VHD blobs must exist (an <see cref="Azurite"/>); null to only record the URI.</summary>
    public IVhdBlobs? Blobs { get; init; }

    /// <summary>The bearer token the fake accepts.</summary>
    public string Token { get; init; } = "imageforge-test-token";

    /// <summary>The regions the fake knows (names; display names with spaces are accepted too).</summary>
    public IReadOnlyList<string> Regions { get; init; } =
    [
        "westeurope",
        "northeurope",
        "swedencentral",
        "uksouth",
        "germanywestcentral",
        "francecentral",
        "eastus",
        "eastus2",
        "westus",
        "westus2",
        "westus3",
        "centralus",
        "canadacentral",
        "southeastasia",
        "australiaeast",
        "japaneast",
    ];
}

/// <summary>What a source blob is, as the fake checks it before it accepts an image version.</summary>
/// <param name="Account">The storage account that holds it.</param>
/// <param name="IsPageBlob">Azure only imports VHDs from page blobs.</param>
/// <param name="Length">The blob's length in bytes.</param>
/// <param name="VhdProblem">Why it is not a fixed VHD Azure accepts, or null when it is.</param>
public sealed record VhdBlobFacts(string Account, bool IsPageBlob, long Length, string? VhdProblem);

/// <summary>Where the fake looks up source blobs (Azurite in the specs).</summary>
public interface IVhdBlobs
{
    /// <summary>The blob's facts, or null when there is no such blob.</summary>
    Task<VhdBlobFacts?> DescribeAsync(Uri blob, CancellationToken cancellationToken = default);
}

/// <summary>A credential that hands out one fixed test token (never a real Entra endpoint) and records the scopes asked.</summary>
public sealed class TestTokenCredential(string token) : TokenCredential
{
    private readonly List<string> _scopes = [];

    /// <summary>Every scope a token was asked for.</summary>
    public IReadOnlyList<string> Scopes
    {
        get
        {
            lock (_scopes)
            {
                return [.. _scopes];
            }
        }
    }

    /// <inheritdoc />
    public override AccessToken GetToken(
        TokenRequestContext requestContext,
        CancellationToken cancellationToken
    )
    {
        lock (_scopes)
        {
            _scopes.AddRange(requestContext.Scopes);
        }

        return new AccessToken(token, TimeProvider.System.GetUtcNow().AddHours(1));
    }

    /// <inheritdoc />
    public override ValueTask<AccessToken> GetTokenAsync(
        TokenRequestContext requestContext,
        CancellationToken cancellationToken
    ) => new(GetToken(requestContext, cancellationToken));
}

/// <summary>Faults a spec injects into the ARM fake.</summary>
public sealed class ArmFaults
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _failingRegions = new(
        StringComparer.OrdinalIgnoreCase
    );
    private readonly Queue<(string Code, string Message)> _operationFailures = new();
    private int _throttle;
    private TimeSpan _retryAfter;

    /// <summary>How many requests were answered 429 so far.</summary>
    public int ThrottledCalls { get; private set; }

    /// <summary>
    /// Replication to this region fails when it would complete: that region reports Failed with
    /// <paramref name="details"/>, the others complete, and the version ends in provisioningState Failed.
    /// </summary>
    public void FailReplicationIn(
        string region,
        string details = "Failed with internal server error."
    )
    {
        lock (_gate)
        {
            _failingRegions[Normalize(region)] = details;
        }
    }

    /// <summary>
    /// Replication to this region works again from now on (a region that failed stays failed until it is removed from
    /// the version's target regions and added back, as in Azure).
    /// </summary>
    public void HealReplicationIn(string region)
    {
        lock (_gate)
        {
            _failingRegions.Remove(Normalize(region));
        }
    }

    /// <summary>The next <paramref name="calls"/> requests, whatever they are, are answered 429 with this Retry-After.</summary>
    public void Throttle(int calls, TimeSpan retryAfter)
    {
        lock (_gate)
        {
            _throttle = calls;
            _retryAfter = retryAfter;
        }
    }

    /// <summary>The next long-running operation started (PUT, PATCH or DELETE) ends Failed with this error.</summary>
    public void FailNextOperation(
        string code = "InternalOperationError",
        string message = "An internal execution error occurred."
    )
    {
        lock (_gate)
        {
            _operationFailures.Enqueue((code, message));
        }
    }

    internal string? ReplicationFailure(string region)
    {
        lock (_gate)
        {
            return _failingRegions.GetValueOrDefault(Normalize(region));
        }
    }

    internal TimeSpan? TakeThrottle()
    {
        lock (_gate)
        {
            if (_throttle <= 0)
            {
                return null;
            }

            _throttle--;
            ThrottledCalls++;
            return _retryAfter;
        }
    }

    internal ArmError? TakeOperationFailure()
    {
        lock (_gate)
        {
            return _operationFailures.TryDequeue(out var failure)
                ? new ArmError(failure.Code, failure.Message)
                : null;
        }
    }

    private static string Normalize(string region) =>
        region.Replace(" ", "", StringComparison.Ordinal);
}

/// <summary>One request the fake received.</summary>
/// <param name="At">When it arrived (<see cref="ArmFakeOptions.Time"/>).</param>
/// <param name="Operation">The operation it matched (as in <see cref="ArmFake.Calls"/>).</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="PathAndQuery">Its path and query.</param>
/// <param name="Status">The status it was answered with.</param>
public sealed record ArmRequest(
    DateTimeOffset At,
    string Operation,
    string Method,
    string PathAndQuery,
    int Status
);
