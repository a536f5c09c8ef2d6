using System.Diagnostics.Metrics;
using ImageForge.Core.Telemetry;

namespace ImageForge.Server.Tests.Scheduling;

/// <summary>
/// Listens to <c>imageforge.schedule.firings</c> while a spec runs: each measurement as (image, target, outcome).
/// The listener hears the whole process, so specs look for their own firing rather than count all of them.
/// </summary>
internal sealed class FiringCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(string Image, string Target, string Outcome, long Value)> _firings = [];

    public FiringCounter()
    {
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (
                instrument.Meter.Name == ImageForgeTelemetry.Name
                && instrument.Name == ImageForgeTelemetry.Metrics.ScheduleFirings
            )
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(
            (_, value, tags, _) =>
            {
                var found = tags.ToArray().ToDictionary(t => t.Key, t => t.Value as string);
                lock (_firings)
                {
                    _firings.Add(
                        (
                            found.GetValueOrDefault(ImageForgeTelemetry.Attributes.Image) ?? "",
                            found.GetValueOrDefault(ImageForgeTelemetry.Attributes.Target) ?? "",
                            found.GetValueOrDefault(ImageForgeTelemetry.Attributes.Outcome) ?? "",
                            value
                        )
                    );
                }
            }
        );
        _listener.Start();
    }

    public IReadOnlyList<(string Image, string Target, string Outcome, long Value)> Firings
    {
        get
        {
            lock (_firings)
            {
                return [.. _firings];
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}
