using ImageForge.Core.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ImageForge.Cli;

/// <summary>
/// The command line's OpenTelemetry SDK (docs/telemetry.md): ImageForge's spans and metrics exported over OTLP, only
/// when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the SDK reads the other <c>OTEL_*</c> variables itself). Not for
/// <c>imageforge worker</c>, whose host wires its own. Disposing it flushes what is left.
/// </summary>
internal static class CliTelemetry
{
    private const string DefaultServiceName = "imageforge";

    /// <summary>Starts exporting, or returns null when no endpoint is set.</summary>
    public static IDisposable? Start(Func<string, string?> variable)
    {
        if (string.IsNullOrWhiteSpace(variable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            return null;
        }

        var resource = ResourceBuilder
            .CreateDefault()
            .AddService(variable("OTEL_SERVICE_NAME") ?? DefaultServiceName);
        return new Exporting(
            Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource)
                .AddSource(ImageForgeTelemetry.Name)
                .AddOtlpExporter()
                .Build(),
            Sdk.CreateMeterProviderBuilder()
                .SetResourceBuilder(resource)
                .AddMeter(ImageForgeTelemetry.Name)
                .AddOtlpExporter()
                .Build()
        );
    }

    private sealed class Exporting(TracerProvider traces, MeterProvider metrics) : IDisposable
    {
        public void Dispose()
        {
            traces.Dispose();
            metrics.Dispose();
        }
    }
}
