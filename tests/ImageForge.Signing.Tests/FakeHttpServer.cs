using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ImageForge.Signing.Tests;

/// <summary>One request as the fake received it.</summary>
internal sealed record RecordedRequest(
    string Method,
    string Path,
    string Query,
    IReadOnlyDictionary<string, string> Headers,
    string Body
);

/// <summary>
/// A real HTTP server on 127.0.0.1 (HttpListener) that records every request and answers with a handler, so cloud key
/// clients are exercised over the wire, headers and all.
/// </summary>
internal sealed class FakeHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<RecordedRequest, (int Status, string ContentType, string Body)> _handler;
    private readonly Task _loop;
    private readonly List<RecordedRequest> _requests = [];
    private readonly Lock _gate = new();

    public FakeHttpServer(
        Func<RecordedRequest, (int Status, string ContentType, string Body)> handler
    )
    {
        _handler = handler;
        // A free port can be taken again between the probe and Start (other specs run in parallel, and the managed
        // listener keeps a process-wide table of ports): try a few.
        for (var attempt = 1; ; attempt++)
        {
            var listener = new HttpListener();
            var url = new Uri($"http://127.0.0.1:{FreePort()}/");
            listener.Prefixes.Add(url.ToString());
            try
            {
                listener.Start();
                _listener = listener;
                Url = url;
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
        }

        _loop = Task.Run(LoopAsync);
    }

    public Uri Url { get; }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context
                .Request.Headers.AllKeys.Where(k => k is not null)
                .ToDictionary(
                    k => k!,
                    k => context.Request.Headers[k]!,
                    StringComparer.OrdinalIgnoreCase
                );
            var request = new RecordedRequest(
                context.Request.HttpMethod,
                context.Request.Url!.AbsolutePath,
                context.Request.Url.Query,
                headers,
                body
            );
            lock (_gate)
            {
                _requests.Add(request);
            }

            (int Status, string ContentType, string Body) answer;
            try
            {
                answer = _handler(request);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A failed check in the handler becomes a 599 the client reports; the spec then asserts on Problems.
                answer = (599, "text/plain", e.Message);
                lock (_gate)
                {
                    Problems.Add(e.Message);
                }
            }

            var bytes = Encoding.UTF8.GetBytes(answer.Body);
            context.Response.StatusCode = answer.Status;
            context.Response.ContentType = answer.ContentType;
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    /// <summary>Assertion failures raised inside the handler.</summary>
    public List<string> Problems { get; } = [];

    public async ValueTask DisposeAsync()
    {
        try
        {
            _listener.Stop();
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // Closing reports the port's shared registration going away; the listener is stopped either way.
        }

        await _loop;
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
