using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImageForge.Server.Tests.Webhooks;

/// <summary>One POST as the receiver saw it.</summary>
internal sealed record ReceivedRequest(
    byte[] Body,
    string? ContentType,
    string? Signature,
    string? Event,
    string? Delivery
);

/// <summary>
/// A real HTTP webhook receiver (Kestrel on a free loopback port) that answers each POST with the next scripted status
/// code (200 once the script is used up) after an optional delay, and keeps what it received.
/// </summary>
internal sealed class TestReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _statuses;
    private readonly TimeSpan _delay;

    private TestReceiver(WebApplication app, IEnumerable<int> statuses, TimeSpan delay)
    {
        _app = app;
        _statuses = new(statuses);
        _delay = delay;
    }

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    public Uri Url { get; private set; } = null!;

    public static async Task<TestReceiver> StartAsync(
        IEnumerable<int>? statuses = null,
        TimeSpan? delay = null
    )
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new TestReceiver(app, statuses ?? [], delay ?? TimeSpan.Zero);
        app.MapPost("/hook", receiver.HandleAsync);
        await app.StartAsync();
        var address = app
            .Services.GetRequiredService<IServer>()
            .Features.GetRequiredFeature<IServerAddressesFeature>()
            .Addresses.Single();
        receiver.Url = new Uri(new Uri(address), "/hook");
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var headers = context.Request.Headers;
        Requests.Enqueue(
            new ReceivedRequest(
                body.ToArray(),
                context.Request.ContentType,
                headers["X-ImageForge-Signature"].SingleOrDefault(),
                headers["X-ImageForge-Event"].SingleOrDefault(),
                headers["X-ImageForge-Delivery"].SingleOrDefault()
            )
        );
        if (_delay > TimeSpan.Zero)
        {
            await Task.Delay(_delay, context.RequestAborted);
        }
        context.Response.StatusCode = _statuses.TryDequeue(out var status) ? status : 200;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
