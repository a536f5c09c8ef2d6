using Amazon.Runtime;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace ImageForge.Providers.Aws.Import;

/// <summary>
/// Waiting on EC2 (an import task, an image becoming available) through a Polly pipeline on the host's clock: a poll
/// that answers "not yet" (null) or an id EC2 does not know yet (eventual consistency right after a create) is
/// polled again after the interval, until the timeout.
/// </summary>
internal sealed class AwsWaits(TimeProvider time, TimeSpan interval, TimeSpan timeout)
{
    public async Task<T> UntilAsync<T>(
        string what,
        Func<CancellationToken, Task<T?>> poll,
        CancellationToken cancellationToken
    )
        where T : class
    {
        var pipeline = new ResiliencePipelineBuilder<T?> { TimeProvider = time }
            .AddTimeout(timeout)
            .AddRetry(
                new RetryStrategyOptions<T?>
                {
                    ShouldHandle = args =>
                        ValueTask.FromResult(
                            args.Outcome.Exception is null
                                ? args.Outcome.Result is null
                                : NotVisibleYet(args.Outcome.Exception)
                        ),
                    MaxRetryAttempts = int.MaxValue,
                    BackoffType = DelayBackoffType.Constant,
                    Delay = interval,
                    UseJitter = false,
                }
            )
            .Build();
        try
        {
            return await pipeline.ExecuteAsync(async ct => await poll(ct), cancellationToken)
                ?? throw new InvalidOperationException($"{what}: no answer");
        }
        catch (TimeoutRejectedException e)
        {
            throw new TimeoutException($"{what} did not finish within {timeout}", e);
        }
    }

    /// <summary>EC2's answer for an id it has just created and does not show yet.</summary>
    public static bool NotVisibleYet(Exception e) =>
        e
            is AmazonServiceException
            {
                ErrorCode: "InvalidAMIID.NotFound" or "InvalidSnapshot.NotFound"
            };
}
