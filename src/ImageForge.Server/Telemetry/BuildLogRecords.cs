using ImageForge.Core.Telemetry;
using Microsoft.Extensions.Logging;

namespace ImageForge.Server.Telemetry;

/// <summary>
/// Build log lines as log records of <see cref="WorkerTelemetry.BuildLogCategory"/>: the exact stored text as the
/// body, the stream and the build's attributes beside it. Only the OTLP exporter takes this category; with no
/// endpoint no logger is enabled for it and nothing is formatted.
/// </summary>
internal sealed class BuildLogRecords(ILoggerFactory loggers)
{
    private readonly ILogger _log = loggers.CreateLogger(WorkerTelemetry.BuildLogCategory);

    public void Write(
        IReadOnlyDictionary<string, object?> build,
        IReadOnlyList<(DateTimeOffset Time, string Stream, string Text)> lines
    )
    {
        if (!_log.IsEnabled(LogLevel.Information))
        {
            return;
        }

        using var scope = _log.BeginScope(build);
        foreach (var (_, stream, text) in lines)
        {
            _log.Log(
                LogLevel.Information,
                default,
                new Line(stream, text),
                null,
                static (line, _) => line.Text
            );
        }
    }

    // The state a logger sees: the stream as an attribute; the text only as the message (no template to fill).
    private sealed class Line(string stream, string text)
        : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Text => text;

        public int Count => 1;

        public KeyValuePair<string, object?> this[int index] =>
            index == 0
                ? new(ImageForgeTelemetry.Attributes.LogStream, stream)
                : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() =>
            GetEnumerator();
    }
}
