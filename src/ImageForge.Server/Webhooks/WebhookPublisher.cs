using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ImageForge.Application.Views;
using ImageForge.Core.Telemetry;
using ImageForge.Core.Worker;

namespace ImageForge.Server.Webhooks;

/// <summary>
/// Publishes worker events as webhooks: builds the JSON body <c>{"id", "type", "time", "data"}</c> once and records
/// one pending delivery per endpoint subscribed to the event (due now); <see cref="WebhookDispatcher"/> sends them.
/// Nothing is recorded when no endpoint takes the event. The body holds only the event; secrets are added by the
/// dispatcher as a signature header, never to the body.
/// </summary>
internal sealed class WebhookPublisher(
    IWebhookLog log,
    WebhookSettings settings,
    TimeProvider timeProvider
) : IWorkerEvents
{
    /// <summary>The JSON shape of bodies: snake_case names and enums, like the CLI's machine-readable output.</summary>
    internal static readonly JsonSerializerOptions JsonOptions = ImageForgeJson.Compact;

    /// <inheritdoc />
    public async Task PublishAsync(
        string eventType,
        object data,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!WorkerEventTypes.All.Contains(eventType, StringComparer.Ordinal))
        {
            throw new ArgumentOutOfRangeException(
                nameof(eventType),
                eventType,
                "not a webhook event type; use one of WorkerEventTypes"
            );
        }

        var urls = settings.SubscribedTo(eventType).Select(e => e.Url.AbsoluteUri).ToList();
        if (urls.Count == 0)
        {
            return;
        }

        var now = timeProvider.GetUtcNow();
        var id = Guid.NewGuid().ToString();
        var body = JsonSerializer.Serialize(
            new WebhookEvent(
                id,
                eventType,
                now.UtcDateTime.ToString(
                    "yyyy-MM-dd'T'HH:mm:ss.fff'Z'",
                    CultureInfo.InvariantCulture
                ),
                data
            ),
            JsonOptions
        );
        // The deliveries continue the trace of the work that published the event (a build's publish span).
        await log.AddAsync(
            id,
            eventType,
            body,
            urls,
            now,
            ImageForgeTelemetry.TraceParentOf(Activity.Current),
            cancellationToken
        );
    }

    /// <summary>The body of every webhook.</summary>
    /// <param name="Id">The event's id (a GUID; the same in every endpoint's delivery).</param>
    /// <param name="Type">The event type.</param>
    /// <param name="Time">When the event happened: ISO-8601, UTC.</param>
    /// <param name="Data">The event's own object, serialized by its runtime type.</param>
    private sealed record WebhookEvent(string Id, string Type, string Time, object Data);
}
