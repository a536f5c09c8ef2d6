using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using ImageForge.Core.Telemetry;
using ImageForge.Core.Worker;
using ImageForge.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ImageForge.Server.Webhooks;

/// <summary>
/// Sends the pending webhook deliveries of the log (<see cref="IWebhookLog"/>): every second it takes those due,
/// POSTs each body signed with its endpoint's secret, and records the attempt. A 2xx answer delivers it; anything
/// else (another status, no answer within the timeout, connection refused, the secret variable not set) is retried
/// after 10 s, 30 s, 90 s, ... (three times the previous wait, at most a day) until
/// <see cref="WebhookSettings.MaxAttempts"/> attempts, then given up (state failed).
/// </summary>
/// <remarks>
/// <para>
/// Workers sharing a catalog each run a dispatcher: each delivery is first claimed (<see
/// cref="IWebhookLog.ClaimDueAsync"/>, under the catalog's writer lock) for <see cref="ClaimDuration"/>, long enough
/// for every attempt of the batch, and its outcome is recorded only under that claim, so no two dispatchers send one
/// delivery at the same time. A delivery whose claim is too near its end to fit one more attempt is left for the next
/// claim; one claimed by a dispatcher that died mid-send is due again once the claim runs out (docs/cluster.md).
/// </para>
/// The secret is read from the environment variable named by the endpoint's <c>secret_env</c> at each attempt, used
/// for the signature header and nothing else: it is never logged nor stored. Deliveries are persisted before they are
/// sent, so an attempt cut short by shutdown is made again after a restart (receivers deduplicate by
/// <c>X-ImageForge-Delivery</c>).
/// </remarks>
internal sealed class WebhookDispatcher : BackgroundService
{
    /// <summary>How long a receiver has to answer one POST.</summary>
    public static readonly TimeSpan DefaultAttemptTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The wait after the first failed attempt; each further wait is three times the previous.</summary>
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between two attempts, whatever max_attempts says.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromDays(1);

    // One claim covers a batch of ClaimBatch deliveries, sent Parallelism at a time; a tick claims batches until none
    // is full or MaxPerTick were attempted.
    private const int ClaimBatch = 16;
    private const int MaxPerTick = 100;
    private const int Parallelism = 4;

    /// <summary>The margin of a claim beyond its batch's attempts: the catalog's writes around them.</summary>
    private static readonly TimeSpan ClaimMargin = TimeSpan.FromSeconds(30);

    private readonly IWebhookLog _log;
    private readonly WebhookSettings _settings;
    private readonly TimeProvider _timeProvider;
    private readonly Func<string, string?> _environment;
    private readonly ILogger<WebhookDispatcher> _logger;
    private readonly Func<string> _claimant;
    private readonly TimeSpan _attemptTimeout;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, bool> _reportedMissingSecrets = new(
        StringComparer.Ordinal
    );

    /// <param name="log">The persisted deliveries.</param>
    /// <param name="settings">The endpoints (to find each delivery's secret variable) and max_attempts.</param>
    /// <param name="timeProvider">The clock: due times, attempt times and the one-second tick.</param>
    /// <param name="environment">Reads an environment variable by name (<see cref="Environment.GetEnvironmentVariable(string)"/>).</param>
    /// <param name="logger">Where failures are reported (never with a secret).</param>
    /// <param name="attemptTimeout">How long a receiver has to answer; <see cref="DefaultAttemptTimeout"/> when null.</param>
    /// <param name="claimant">
    /// Who claims the deliveries (the registered worker's id); when null, this machine and process id.
    /// </param>
    public WebhookDispatcher(
        IWebhookLog log,
        WebhookSettings settings,
        TimeProvider timeProvider,
        Func<string, string?> environment,
        ILogger<WebhookDispatcher> logger,
        TimeSpan? attemptTimeout = null,
        Func<string>? claimant = null
    )
    {
        _claimant = claimant ?? (() => $"{Environment.MachineName}/{Environment.ProcessId}");
        _log = log;
        _settings = settings;
        _timeProvider = timeProvider;
        _environment = environment;
        _logger = logger;
        _attemptTimeout = attemptTimeout ?? DefaultAttemptTimeout;
        _http = new HttpClient(
            new SocketsHttpHandler
            {
                // A redirect would turn the POST into a GET elsewhere: report it as a failure instead.
                AllowAutoRedirect = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            }
        )
        {
            Timeout = _attemptTimeout,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(
            new ProductInfoHeaderValue("ImageForge-Webhooks", "1")
        );
    }

    /// <summary>The wait after <paramref name="failedAttempts"/> failed attempts: 10 s, 30 s, 90 s, 270 s, ...</summary>
    public static TimeSpan RetryDelay(int failedAttempts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempts, 1);
        var seconds = FirstRetryDelay.TotalSeconds * Math.Pow(3, failedAttempts - 1);
        return seconds >= MaxRetryDelay.TotalSeconds
            ? MaxRetryDelay
            : TimeSpan.FromSeconds(seconds);
    }

    /// <summary>
    /// How long one claim holds its deliveries: every attempt of a batch (four at a time, each at most the attempt
    /// timeout) and a margin. With the default timeout of 10 s: 70 s.
    /// </summary>
    public TimeSpan ClaimDuration =>
        _attemptTimeout * Math.Ceiling((double)ClaimBatch / Parallelism) + ClaimMargin;

    /// <summary>
    /// Claims the deliveries due now, in batches of 16 up to 100, makes one attempt at each (four at a time) and
    /// records each outcome under its claim. Returns how many deliveries were claimed.
    /// </summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var claimed = 0;
        while (claimed < MaxPerTick)
        {
            var batch = await RunBatchAsync(cancellationToken);
            claimed += batch;
            if (batch < ClaimBatch)
            {
                break;
            }
        }

        return claimed;
    }

    private async Task<int> RunBatchAsync(CancellationToken cancellationToken)
    {
        var claimFor = ClaimDuration;
        var claimedAt = _timeProvider.GetTimestamp();
        var due = await _log.ClaimDueAsync(
            _timeProvider.GetUtcNow(),
            ClaimBatch,
            _claimant(),
            claimFor,
            cancellationToken
        );
        await Parallel.ForEachAsync(
            due,
            new ParallelOptions
            {
                MaxDegreeOfParallelism = Parallelism,
                CancellationToken = cancellationToken,
            },
            async (delivery, token) =>
            {
                // An attempt that could outlast the claim is not made: the delivery is due again when it runs out.
                if (_timeProvider.GetElapsedTime(claimedAt) + _attemptTimeout >= claimFor)
                {
                    return;
                }

                try
                {
                    await AttemptAsync(delivery, token);
                }
                catch (WebhookClaimLostException e)
                {
                    _logger.LogWarning(
                        "Webhook delivery {DeliveryId}: {Reason}",
                        delivery.Id,
                        e.Message
                    );
                }
                catch (CatalogException e)
                {
                    // One delivery the log refuses (e.g. no longer pending) must not hold up the others.
                    _logger.LogError(
                        e,
                        "Webhook delivery {DeliveryId}: the attempt could not be recorded",
                        delivery.Id
                    );
                }
            }
        );
        return due.Count;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _timeProvider);
        try
        {
            do
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The catalog may be busy or briefly unavailable: the deliveries stay pending, try next tick.
                    _logger.LogError(
                        e,
                        "Webhook deliveries could not be processed; retrying in a second"
                    );
                }
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: an attempt cut short stays pending and is made again, by any worker at once (its claim given
            // back below) or, if this fails, when its claim runs out.
        }

        try
        {
            await _log.ReleaseClaimsAsync(_claimant(), CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogWarning(
                "Webhook claims not given back at stop ({Error}): other workers take them when they run out",
                e.Message
            );
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    private async Task AttemptAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var endpoint = _settings.FindByUrl(delivery.Url);
        if (endpoint is null)
        {
            // worker.yaml changed since the event: without the endpoint there is no secret to sign with.
            _logger.LogWarning(
                "Webhook delivery {DeliveryId} to {Url} is given up: no endpoint with this URL in worker.yaml any more",
                delivery.Id,
                delivery.Url
            );
            await _log.RecordAttemptAsync(
                delivery.Claim!,
                delivered: false,
                statusCode: null,
                "no endpoint with this URL in worker.yaml any more; given up",
                _timeProvider.GetUtcNow(),
                nextAttemptAt: null,
                cancellationToken
            );
            return;
        }

        var secret = _environment(endpoint.SecretEnv);
        if (string.IsNullOrEmpty(secret))
        {
            if (_reportedMissingSecrets.TryAdd(endpoint.SecretEnv, true))
            {
                _logger.LogError(
                    "Webhook secret variable {SecretEnv} is not set: deliveries to {Url} fail until the worker is restarted with it set (worker.yaml webhooks.endpoints secret_env)",
                    endpoint.SecretEnv,
                    delivery.Url
                );
            }
            await RecordFailureAsync(
                delivery,
                statusCode: null,
                $"secret variable {endpoint.SecretEnv} is not set",
                cancellationToken
            );
            return;
        }

        var body = Encoding.UTF8.GetBytes(delivery.Payload);
        using var span = ImageForgeTelemetry.Source.StartActivity(
            ImageForgeTelemetry.Spans.WebhookDelivery,
            ActivityKind.Client,
            ImageForgeTelemetry.ParentFrom(delivery.TraceParent),
            [
                new(ImageForgeTelemetry.Attributes.EventType, delivery.EventType),
                new("url.full", delivery.Url),
            ]
        );
        using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
        {
            Content = new ByteArrayContent(body),
        };
        // The receiver joins the publisher's trace: through this attempt's span when telemetry records one.
        if ((ImageForgeTelemetry.TraceParentOf(span) ?? delivery.TraceParent) is { } traceParent)
        {
            request.Headers.Add("traceparent", traceParent);
        }

        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(secret, body));
        request.Headers.Add(WebhookSignature.EventHeader, delivery.EventType);
        request.Headers.Add(WebhookSignature.DeliveryHeader, delivery.Id);

        int? statusCode = null;
        string failure;
        try
        {
            using var response = await _http.SendAsync(
                request,
                HttpCompletionOption.ResponseHeadersRead,
                cancellationToken
            );
            statusCode = (int)response.StatusCode;
            span?.SetTag("http.response.status_code", statusCode);
            if (response.IsSuccessStatusCode)
            {
                Attempted(delivery, "delivered");
                await _log.RecordAttemptAsync(
                    delivery.Claim!,
                    delivered: true,
                    statusCode,
                    failure: null,
                    _timeProvider.GetUtcNow(),
                    nextAttemptAt: null,
                    cancellationToken
                );
                return;
            }
            failure = $"the receiver answered {statusCode} {response.ReasonPhrase}".TrimEnd();
        }
        catch (HttpRequestException e)
        {
            failure = e.Message;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            failure = $"no answer within {_attemptTimeout.TotalSeconds:0.###} s";
        }

        span?.SetStatus(ActivityStatusCode.Error, failure);
        Attempted(delivery, "failed");
        await RecordFailureAsync(delivery, statusCode, failure, cancellationToken);
    }

    private static void Attempted(WebhookDelivery delivery, string outcome) =>
        ImageForgeTelemetry.WebhookAttempts.Add(
            1,
            new KeyValuePair<string, object?>(
                ImageForgeTelemetry.Attributes.EventType,
                delivery.EventType
            ),
            new KeyValuePair<string, object?>(ImageForgeTelemetry.Attributes.Outcome, outcome)
        );

    private async Task RecordFailureAsync(
        WebhookDelivery delivery,
        int? statusCode,
        string failure,
        CancellationToken cancellationToken
    )
    {
        var attempt = delivery.Attempts + 1;
        var at = _timeProvider.GetUtcNow();
        DateTimeOffset? next = attempt >= _settings.MaxAttempts ? null : at + RetryDelay(attempt);
        if (next is null)
        {
            _logger.LogError(
                "Webhook delivery {DeliveryId} ({EventType}) to {Url} failed {Attempts} times and is given up: {Failure}",
                delivery.Id,
                delivery.EventType,
                delivery.Url,
                attempt,
                failure
            );
        }
        else
        {
            _logger.LogWarning(
                "Webhook delivery {DeliveryId} ({EventType}) to {Url} failed (attempt {Attempt} of {MaxAttempts}): {Failure}; next attempt at {NextAttemptAt:O}",
                delivery.Id,
                delivery.EventType,
                delivery.Url,
                attempt,
                _settings.MaxAttempts,
                failure,
                next
            );
        }
        await _log.RecordAttemptAsync(
            delivery.Claim!,
            delivered: false,
            statusCode,
            failure,
            at,
            next,
            cancellationToken
        );
    }
}
