using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using ImageForge.Application.Access;
using ImageForge.Core.Telemetry;
using ImageForge.Storage;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests.Telemetry;

public sealed partial class TelemetrySpecs
{
    [Fact(Timeout = 120_000)]
    public async Task The_worker_process_logs_one_JSON_object_a_line_on_stdout_with_the_build_trace_and_no_secret()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var build = new FakePackerBuild(Transcript, exitCode: 1);
        using var content = SecretBuild(build, receiver);
        var secret = ApiTokens.Generate();
        await using (var catalog = await Catalog.OpenAsync(build.DataDir, TimeProvider.System))
        {
            await catalog.CreateTokenAsync(
                "log-spec",
                ApiRoles.Builder,
                ApiTokens.Hash(secret),
                TimeProvider.System.GetUtcNow()
            );
        }
        var port = FreePort();
        var stdout = new List<string>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(100));
        var spec = build.ImageforgeProcess(
            "worker",
            "--urls",
            $"http://127.0.0.1:{port}",
            "--definitions",
            Path.Combine(content.Path, "templates", "images")
        );
        var exited = Task.Run(async () =>
        {
            try
            {
                await foreach (
                    var e in new ProcessRunner(TimeProvider.System).StreamAsync(spec, stop.Token)
                )
                {
                    if (e is OutputLine line)
                    {
                        lock (stdout)
                        {
                            stdout.Add(line.Text);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The spec stopped the worker (SIGTERM, then its grace period).
            }
        });

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        string buildId;
        while (true)
        {
            try
            {
                using var queued = await http.PostAsJsonAsync(
                    "/api/builds",
                    new { image = "debian-11-cis", reason = "log spec" }
                );
                var answer = await queued.Content.ReadAsStringAsync();
                queued.IsSuccessStatusCode.ShouldBeTrue(answer);
                using var json = JsonDocument.Parse(answer);
                buildId = json.RootElement.GetProperty("build").GetProperty("id").GetString()!;
                break;
            }
            catch (HttpRequestException) when (!exited.IsCompleted)
            {
                await Task.Delay(200);
            }
        }
        while (true)
        {
            using var state = JsonDocument.Parse(
                await http.GetStringAsync($"/api/builds/{buildId}")
            );
            if (
                state.RootElement.TryGetProperty("ended_at", out var ended)
                && ended.ValueKind != JsonValueKind.Null
            )
            {
                break;
            }
            await Task.Delay(100);
        }
        // SIGTERM: the worker stops as an operator's would, flushing what the SDK holds.
        await stop.CancelAsync();
        await exited;

        var root = receiver
            .Spans()
            .Where(s => s.Name == ImageForgeTelemetry.Spans.Build)
            .ShouldHaveSingleItem();
        var traceId = Convert.ToHexStringLower(root.TraceId.ToByteArray());
        List<string> lines;
        lock (stdout)
        {
            lines = [.. stdout];
        }
        lines.ShouldNotBeEmpty();
        var objects = lines
            .Select(l =>
            {
                using var json = JsonDocument.Parse(l);
                json.RootElement.ValueKind.ShouldBe(JsonValueKind.Object, l);
                return json.RootElement.Clone();
            })
            .ToList();
        foreach (var o in objects)
        {
            foreach (
                var field in (string[])["Timestamp", "LogLevel", "Category", "Message", "Scopes"]
            )
            {
                o.TryGetProperty(field, out _).ShouldBeTrue($"{field} missing in {o}");
            }
        }
        var started = objects
            .Where(o =>
                o.GetProperty("Message").GetString() is { } m
                && m.Contains($"build {buildId} of", StringComparison.Ordinal)
            )
            .ShouldHaveSingleItem();
        var scopes = started.GetProperty("Scopes").EnumerateArray().ToList();
        scopes.ShouldContain(
            s => s.ValueKind == JsonValueKind.Object && HasTrace(s, traceId),
            started.ToString()
        );
        string.Join('\n', lines).ShouldNotContain("s3cr3t");
    }

    private static bool HasTrace(JsonElement scope, string traceId) =>
        scope.TryGetProperty("TraceId", out var trace)
        && trace.GetString() == traceId
        && scope.TryGetProperty("SpanId", out var span)
        && span.GetString() is { Length: 16 };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
