using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ImageForge.Server.Tests.Webhooks;

/// <summary>A logger that keeps every formatted message (with its exception) so tests can read the log.</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, string Text)> Entries { get; } = new();

    public IEnumerable<string> Texts => Entries.Select(e => e.Text);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(
        LogLevel logLevel,
        EventId eventId,
        TState state,
        Exception? exception,
        Func<TState, Exception?, string> formatter
    )
    {
        // The structured values too, in case a sink writes them apart from the message.
        var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}"))
            : "";
        Entries.Enqueue((logLevel, $"{formatter(state, exception)} | {values} | {exception}"));
    }
}
