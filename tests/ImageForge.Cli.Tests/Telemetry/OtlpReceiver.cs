using Google.Protobuf;
using ImageForge.Core.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Metrics.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace ImageForge.Cli.Tests.Telemetry;

/// <summary>
/// An OTLP/HTTP receiver on 127.0.0.1 (protobuf, as the .NET exporter sends it): it decodes every export request
/// with the messages generated from the upstream protos (tests/specs/opentelemetry-proto), refuses what does not
/// parse or is not protobuf, answers with the protocol's empty response, and keeps the raw bodies too.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly List<ExportTraceServiceRequest> _traces = [];
    private readonly List<ExportMetricsServiceRequest> _metrics = [];
    private readonly List<ExportLogsServiceRequest> _logs = [];
    private readonly List<byte[]> _bodies = [];
    private readonly List<string> _refused = [];

    private OtlpReceiver(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var receiver = new OtlpReceiver(builder.Build());
        receiver.Map(
            "/v1/traces",
            ExportTraceServiceRequest.Parser,
            receiver._traces,
            new ExportTraceServiceResponse()
        );
        receiver.Map(
            "/v1/metrics",
            ExportMetricsServiceRequest.Parser,
            receiver._metrics,
            new ExportMetricsServiceResponse()
        );
        receiver.Map(
            "/v1/logs",
            ExportLogsServiceRequest.Parser,
            receiver._logs,
            new ExportLogsServiceResponse()
        );
        await receiver._app.StartAsync();
        receiver.Url = new Uri(
            receiver
                ._app.Services.GetRequiredService<IServer>()
                .Features.Get<IServerAddressesFeature>()!
                .Addresses.Single()
        );
        return receiver;
    }

    public IReadOnlyList<ExportTraceServiceRequest> Traces => Snapshot(_traces);

    public IReadOnlyList<ExportMetricsServiceRequest> Metrics => Snapshot(_metrics);

    public IReadOnlyList<ExportLogsServiceRequest> Logs => Snapshot(_logs);

    /// <summary>Every span received, of every export request.</summary>
    public List<Span> Spans() =>
        [
            .. Traces
                .SelectMany(t => t.ResourceSpans)
                .SelectMany(r => r.ScopeSpans)
                .SelectMany(s => s.Spans),
        ];

    /// <summary>Every metric of ImageForge's meter received, in the order exported.</summary>
    public List<Metric> ImageForgeMetrics() =>
        [
            .. Metrics
                .SelectMany(m => m.ResourceMetrics)
                .SelectMany(r => r.ScopeMetrics)
                .Where(s => s.Scope.Name == ImageForgeTelemetry.Name)
                .SelectMany(s => s.Metrics),
        ];

    /// <summary>Every body received, as sent (to search for what must never leave the machine).</summary>
    public IReadOnlyList<byte[]> Bodies => Snapshot(_bodies);

    /// <summary>Requests refused (not protobuf, or not a valid export request): a correct exporter sends none.</summary>
    public IReadOnlyList<string> Refused => Snapshot(_refused);

    /// <summary>The variables that point the SDK at this receiver, exporting every 200 ms.</summary>
    public Dictionary<string, string> Environment() =>
        new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Url.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        };

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private void Map<T>(string path, MessageParser<T> parser, List<T> received, IMessage answer)
        where T : IMessage<T> =>
        _app.MapPost(
            path,
            async (HttpContext context) =>
            {
                using var buffer = new MemoryStream();
                await context.Request.Body.CopyToAsync(buffer);
                var body = buffer.ToArray();
                if (context.Request.ContentType != "application/x-protobuf")
                {
                    lock (_gate)
                    {
                        _refused.Add($"{path}: content type {context.Request.ContentType}");
                    }

                    return Results.StatusCode(StatusCodes.Status415UnsupportedMediaType);
                }

                T message;
                try
                {
                    message = parser.ParseFrom(body);
                }
                catch (InvalidProtocolBufferException e)
                {
                    lock (_gate)
                    {
                        _refused.Add($"{path}: {e.Message}");
                    }

                    return Results.BadRequest();
                }

                lock (_gate)
                {
                    received.Add(message);
                    _bodies.Add(body);
                }

                return Results.Bytes(answer.ToByteArray(), "application/x-protobuf");
            }
        );

    private IReadOnlyList<T> Snapshot<T>(List<T> list)
    {
        lock (_gate)
        {
            return [.. list];
        }
    }
}
