using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ImageForge.TestUtils;

/// <summary>One request as the fake received it.</summary>
public sealed record RecordedRequest(
    string Method,
    string Path,
    string Query,
    IReadOnlyDictionary<string, string> Headers,
    string Body
);

/// <summary>An answer of the fake with a body of any bytes (a gzip file, a .deb).</summary>
public sealed record FakeHttpResponse(int Status, string ContentType, byte[] Body)
{
    /// <summary>A 404 with a short text body.</summary>
    public static FakeHttpResponse NotFound { get; } =
        new(404, "text/plain", Encoding.UTF8.GetBytes("not found"));
}

/// <summary>
/// A real HTTP server on 127.0.0.1 (HttpListener) that records every request and answers with a handler, so HTTP
/// clients (cloud key services, apt mirrors) are exercised over the wire, headers and all.
/// </summary>
public sealed class FakeHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<RecordedRequest, FakeHttpResponse> _handler;
    private readonly Task _loop;
    private readonly List<RecordedRequest> _requests = [];
    private readonly Lock _gate = new();

    /// <summary>A server whose handler answers with text.</summary>
    public FakeHttpServer(
        Func<RecordedRequest, (int Status, string ContentType, string Body)> handler
    )
        : this(request =>
        {
            var (status, contentType, body) = handler(request);
            return new FakeHttpResponse(status, contentType, Encoding.UTF8.GetBytes(body));
        }) { }

    /// <summary>A server whose handler answers with bytes.</summary>
    public FakeHttpServer(Func<RecordedRequest, FakeHttpResponse> handler)
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

    /// <summary>The server's root, ending in '/'.</summary>
    public Uri Url { get; }

    /// <summary>Every request received so far, in order.</summary>
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

    /// <summary>Assertion failures raised inside the handler.</summary>
    public List<string> Problems { get; } = [];

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

            FakeHttpResponse answer;
            try
            {
                answer = _handler(request);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A failed check in the handler becomes a 599 the client reports; the spec then asserts on Problems.
                answer = new FakeHttpResponse(599, "text/plain", Encoding.UTF8.GetBytes(e.Message));
                lock (_gate)
                {
                    Problems.Add(e.Message);
                }
            }

            try
            {
                context.Response.StatusCode = answer.Status;
                context.Response.ContentType = answer.ContentType;
                context.Response.ContentLength64 = answer.Body.Length;
                await context.Response.OutputStream.WriteAsync(answer.Body);
                context.Response.Close();
            }
            catch (HttpListenerException)
            {
                // The client went away (cancelled or timed out) before the answer was written.
            }
        }
    }

    /// <summary>Stops listening and waits for the request loop to end.</summary>
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
