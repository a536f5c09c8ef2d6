using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ImageForge.Core.Errors;
using ImageForge.Core.Sbom;
using ImageForge.Core.Telemetry;
using ImageForge.Core.Vulnerabilities;
using ImageForge.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ImageForge.Server.Telemetry;

/// <summary>
/// The worker's OpenTelemetry SDK (docs/telemetry.md): ImageForge's spans, metrics and the build log lines, ASP.NET
/// Core's server spans, exported over OTLP when an endpoint is configured (the standard <c>OTEL_*</c> variables), and
/// the metrics always scrapeable at <c>/metrics</c>; the worker's own logs as one JSON object a line on stdout.
/// </summary>
internal static class WorkerTelemetry
{
    /// <summary>The category of the build log lines exported as log records (never written to stdout).</summary>
    public const string BuildLogCategory = "ImageForge.BuildLog";

    /// <summary>Where Prometheus scrapes the worker's metrics.</summary>
    public const string MetricsPath = "/metrics";

    private const string DefaultServiceName = "imageforge-worker";

    // The SDK reads these from the host's configuration: copied from the host's environment so a worker started with
    // its own environment (in-process, as the specs do) reads them like one started from a shell.
    private static readonly string[] Variables =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_BSP_SCHEDULE_DELAY",
        "OTEL_BLRP_SCHEDULE_DELAY",
        "OTEL_METRIC_EXPORT_INTERVAL",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
    ];

    /// <summary>
    /// Whether the environment names an OTLP endpoint (telemetry leaves the machine only then); the per-signal
    /// endpoints refine it, they do not switch it on.
    /// </summary>
    public static bool Exporting(Func<string, string?> variable) =>
        !string.IsNullOrWhiteSpace(variable("OTEL_EXPORTER_OTLP_ENDPOINT"));

    /// <summary>Wires the SDK and the JSON console into the worker's host.</summary>
    public static void AddWorkerTelemetry(
        this WebApplicationBuilder builder,
        Func<string, string?> variable
    )
    {
        var settings = Variables
            .Select(name => (Name: name, Value: variable(name)))
            .Where(v => !string.IsNullOrEmpty(v.Value))
            .ToDictionary(v => v.Name, v => v.Value);
        builder.Configuration.AddInMemoryCollection(settings);
        var exporting = Exporting(variable);

        builder.Logging.ClearProviders();
        builder.Logging.Configure(o =>
            o.ActivityTrackingOptions =
                ActivityTrackingOptions.TraceId
                | ActivityTrackingOptions.SpanId
                | ActivityTrackingOptions.ParentId
        );
        builder.Logging.AddJsonConsole(o =>
        {
            // The trace and span ids are a scope: without scopes the lines could not be joined with the traces.
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        });
        builder.Logging.AddFilter<ConsoleLoggerProvider>(BuildLogCategory, LogLevel.None);
        builder.Services.AddSingleton<QueueDepthGauge>();
        builder.Services.AddSingleton<PromotedFindingsGauge>();

        var otel = builder
            .Services.AddOpenTelemetry()
            .ConfigureResource(r =>
                r.AddService(variable("OTEL_SERVICE_NAME") ?? DefaultServiceName)
            )
            .WithMetrics(m =>
            {
                m.AddMeter(ImageForgeTelemetry.Name).AddPrometheusExporter();
                if (exporting)
                {
                    m.AddOtlpExporter();
                }
            });
        if (!exporting)
        {
            return;
        }

        otel.WithTracing(t =>
                t.AddSource(ImageForgeTelemetry.Name)
                    .AddAspNetCoreInstrumentation(o =>
                        o.Filter = context => context.Request.Path != MetricsPath
                    )
                    .AddOtlpExporter()
            )
            .WithLogging(
                l => l.AddOtlpExporter(),
                o =>
                {
                    o.IncludeScopes = true;
                    o.IncludeFormattedMessage = true;
                }
            );
    }

    /// <summary>Maps <c>/metrics</c> (no token: it says how much work there is, never what the work holds).</summary>
    public static void MapWorkerTelemetry(this WebApplication app)
    {
        app.Services.GetRequiredService<QueueDepthGauge>();
        app.Services.GetRequiredService<PromotedFindingsGauge>();
        app.MapPrometheusScrapingEndpoint(MetricsPath);
    }

    /// <summary>How many builds are queued, read from the catalog whenever metrics are collected.</summary>
    internal sealed class QueueDepthGauge
    {
        public QueueDepthGauge(IMeterFactory meters, Catalog catalog)
        {
            // A meter from the host's factory goes away with the host, and with it this callback on its catalog.
            meters
                .Create(ImageForgeTelemetry.Name)
                .CreateObservableGauge(
                    ImageForgeTelemetry.Metrics.QueueDepth,
                    () => (long)catalog.ListQueuedAsync().GetAwaiter().GetResult().Count,
                    "{build}",
                    "Builds queued and not yet started"
                );
        }
    }

    /// <summary>
    /// The findings of the version each channel points at, by severity, read at each collection from the version's
    /// newest <c>vulnerability-findings</c> evidence: a re-scan after the promotion shows here as new findings.
    /// </summary>
    internal sealed class PromotedFindingsGauge
    {
        private static readonly string[] SeverityNames =
        [
            .. Enum.GetValues<Severity>().Reverse().Select(Severities.Name),
        ];

        // Evidence files are written once: a summary read is kept for as long as its file is the newest of its kind.
        private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, int>> _summaries =
            new(StringComparer.Ordinal);
        private readonly Catalog _catalog;
        private readonly ILogger<PromotedFindingsGauge> _log;

        public PromotedFindingsGauge(
            IMeterFactory meters,
            Catalog catalog,
            ILogger<PromotedFindingsGauge> log
        )
        {
            _catalog = catalog;
            _log = log;
            meters
                .Create(ImageForgeTelemetry.Name)
                .CreateObservableGauge(
                    ImageForgeTelemetry.Metrics.PromotedFindings,
                    () => MeasureAsync().GetAwaiter().GetResult(),
                    "{finding}",
                    "Findings of the version each channel points at, by severity (suppressed ones not counted)"
                );
        }

        private async Task<List<Measurement<long>>> MeasureAsync()
        {
            var measurements = new List<Measurement<long>>();
            foreach (var image in await _catalog.ListImagesAsync())
            {
                foreach (var channel in await _catalog.GetChannelsAsync(image.Image))
                {
                    if (
                        channel.Version is null
                        || await _catalog.GetVersionAsync(image.Image, channel.Version)
                            is not { } version
                        || version.Evidence.LastOrDefault(e =>
                            e.Kind == EvidenceFiles.VulnerabilityFindings
                        )
                            is not { } findings
                        || Summary(findings.Location) is not { } summary
                    )
                    {
                        continue;
                    }
                    foreach (var severity in SeverityNames)
                    {
                        measurements.Add(
                            new(
                                summary.GetValueOrDefault(severity),
                                new TagList
                                {
                                    { ImageForgeTelemetry.Attributes.Image, image.Image },
                                    { ImageForgeTelemetry.Attributes.Channel, channel.Channel },
                                    { ImageForgeTelemetry.Attributes.Version, channel.Version },
                                    { ImageForgeTelemetry.Attributes.Severity, severity },
                                }
                            )
                        );
                    }
                }
            }
            return measurements;
        }

        private IReadOnlyDictionary<string, int>? Summary(string location)
        {
            if (_summaries.TryGetValue(location, out var known))
            {
                return known;
            }
            try
            {
                return _summaries[location] = FindingsDocument.Read(location).Summary;
            }
            catch (InvalidInputException e)
            {
                // A gauge that threw would lose every other series of the collection: report the one document.
                _log.LogWarning("Promoted findings not measured: {Problem}", e.Message);
                return null;
            }
        }
    }
}
