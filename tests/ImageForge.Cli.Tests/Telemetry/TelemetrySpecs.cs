using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using ImageForge.Application.Access;
using ImageForge.Cli.Tests.Promotion;
using ImageForge.Core.Builds;
using ImageForge.Core.Telemetry;
using ImageForge.Core.Worker;
using ImageForge.Server;
using ImageForge.TestUtils;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Trace.V1;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests.Telemetry;

/// <summary>
/// The worker's telemetry (docs/telemetry.md) with fakepacker: what it exports over OTLP/HTTP to a receiver on
/// loopback for a build queued through the API, and what <c>/metrics</c> shows while a build runs.
/// </summary>
/// <remarks>
/// ImageForge's activity source and meter are static: a worker's SDK would also see the builds other specs run in
/// this process at the same time, so these specs run alone.
/// </remarks>
[Collection(nameof(TelemetrySpecs))]
public sealed partial class TelemetrySpecs
{
    // The sensitive-variable spec's transcript (BuildCommandSpecs), with the template's stage markers.
    private const string WebhookSecretVariable = "IMAGEFORGE_TEST_OTEL_WEBHOOK_SECRET";

    private const string Transcript = """
        1795329434,,ui,say,==> null.local: Running local shell script: /tmp/packer-shell22965757
        1795329434,,ui,message,    null.local: imageforge-step: bootstrap | mmdebstrap bullseye
        1795329434,,ui,message,    null.local: auth is {{SECRET}} here
        1795329434,,ui,message,    null.local: imageforge-step: harden | running the profile
        1795329434,,ui,error,Build 'null.local' errored: mirror said 401 for {{SECRET}}
        1795329434,null.local,error,401 Unauthorized with {{SECRET}}
        """;

    [Fact(Timeout = 90_000)]
    public async Task A_build_queued_through_the_API_exports_one_trace_from_the_request_through_its_stages_with_metrics_and_log_lines_and_no_secret()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var build = new FakePackerBuild(Transcript, exitCode: 1);
        using var content = SecretBuild(build, receiver);

        await using var hooks = new FakeHttpServer(_ => (200, "text/plain", "ok"));
        Environment.SetEnvironmentVariable(WebhookSecretVariable, "telemetry-hook-secret");
        var config = WorkerConfig.Default with
        {
            Webhooks = new WebhookSettings(
                3,
                [
                    new WebhookEndpoint(
                        new Uri(hooks.Url, "hook"),
                        [WorkerEventTypes.BuildFinished],
                        WebhookSecretVariable
                    ),
                ]
            ),
        };

        string buildId;
        var worker = await build.StartWorkerAsync(config, content.Path);
        await using (worker)
        {
            using var http = await ClientAsync(worker, ApiRoles.Builder);
            using var queued = await http.PostAsJsonAsync(
                "/api/builds",
                new { image = "debian-11-cis", reason = "telemetry spec" }
            );
            var answer = await queued.Content.ReadAsStringAsync();
            queued.IsSuccessStatusCode.ShouldBeTrue(answer);
            using (var json = System.Text.Json.JsonDocument.Parse(answer))
            {
                buildId = json.RootElement.GetProperty("build").GetProperty("id").GetString()!;
            }

            while ((await worker.Catalog.GetBuildAsync(buildId))!.EndedAt is null)
            {
                await Task.Delay(50);
            }

            while (hooks.Requests.Count == 0)
            {
                await Task.Delay(50);
            }

            // Stopping the host flushes what the SDK still holds.
            await worker.App.StopAsync();
        }

        receiver.Refused.ShouldBeEmpty();
        var spans = receiver.Spans();
        var root = spans
            .Where(s => s.Name == ImageForgeTelemetry.Spans.Build)
            .ShouldHaveSingleItem();
        var trace = spans.Where(s => s.TraceId == root.TraceId).ToList();
        var api = trace.Where(s => s.ParentSpanId.IsEmpty).ShouldHaveSingleItem();
        api.Kind.ShouldBe(Span.Types.SpanKind.Server);
        Attribute(api, "http.route").ShouldBe("/api/builds/");
        Attribute(api, "http.request.method").ShouldBe("POST");
        root.ParentSpanId.ShouldBe(api.SpanId);
        Attribute(root, ImageForgeTelemetry.Attributes.BuildId).ShouldBe(buildId);
        Attribute(root, ImageForgeTelemetry.Attributes.Outcome).ShouldBe("failed");
        root.Status.Code.ShouldBe(Status.Types.StatusCode.Error);

        // The webhook delivery continues the build's trace, and tells the receiver so.
        var publish = trace
            .Where(s => s.Name == ImageForgeTelemetry.Spans.BuildPublish)
            .ShouldHaveSingleItem();
        publish.ParentSpanId.ShouldBe(root.SpanId);
        var delivery = trace
            .Where(s => s.Name == ImageForgeTelemetry.Spans.WebhookDelivery)
            .ShouldHaveSingleItem();
        delivery.ParentSpanId.ShouldBe(publish.SpanId);
        hooks
            .Requests.ShouldHaveSingleItem()
            .Headers.Single(h => h.Key.Equals("traceparent", StringComparison.OrdinalIgnoreCase))
            .Value.ShouldBe(
                $"00-{Convert.ToHexStringLower(root.TraceId.ToByteArray())}-{Convert.ToHexStringLower(delivery.SpanId.ToByteArray())}-01"
            );

        var stages = trace
            .Where(s =>
                s.ParentSpanId == root.SpanId
                && Attribute(s, ImageForgeTelemetry.Attributes.Stage) is not null
            )
            .OrderBy(s => s.StartTimeUnixNano)
            .ToList();
        stages.Select(s => s.Name).ShouldBe(["prepare", "packer", "bootstrap", "harden", "record"]);
        foreach (var stage in stages)
        {
            Attribute(stage, ImageForgeTelemetry.Attributes.Stage).ShouldBe(stage.Name);
            Attribute(stage, ImageForgeTelemetry.Attributes.BuildId).ShouldBe(buildId);
            Attribute(stage, ImageForgeTelemetry.Attributes.Image).ShouldBe("debian-11-cis");
            Attribute(stage, ImageForgeTelemetry.Attributes.Target).ShouldBe("local");
            Attribute(stage, ImageForgeTelemetry.Attributes.Trigger).ShouldBe("manual");
            stage.EndTimeUnixNano.ShouldBeGreaterThanOrEqualTo(stage.StartTimeUnixNano);
        }

        var metrics = receiver.ImageForgeMetrics();
        metrics
            .Select(m => m.Name)
            .Distinct()
            .ShouldBeSubsetOf([
                ImageForgeTelemetry.Metrics.BuildsStarted,
                ImageForgeTelemetry.Metrics.BuildsEnded,
                ImageForgeTelemetry.Metrics.BuildDuration,
                ImageForgeTelemetry.Metrics.StageDuration,
                ImageForgeTelemetry.Metrics.QueueWait,
                ImageForgeTelemetry.Metrics.QueueDepth,
                ImageForgeTelemetry.Metrics.WebhookAttempts,
            ]);
        var ended = metrics.Last(m => m.Name == ImageForgeTelemetry.Metrics.BuildsEnded);
        var point = ended.Sum.DataPoints.ShouldHaveSingleItem();
        point.AsInt.ShouldBe(1);
        Attribute(point.Attributes, ImageForgeTelemetry.Attributes.Outcome).ShouldBe("failed");
        Attribute(point.Attributes, ImageForgeTelemetry.Attributes.BuildId).ShouldBeNull();
        metrics
            .Last(m => m.Name == ImageForgeTelemetry.Metrics.StageDuration)
            .Histogram.DataPoints.Select(p =>
                Attribute(p.Attributes, ImageForgeTelemetry.Attributes.Stage)
            )
            .ShouldBe(["prepare", "packer", "bootstrap", "harden", "record"], ignoreOrder: true);
        metrics
            .Last(m => m.Name == ImageForgeTelemetry.Metrics.QueueWait)
            .Histogram.DataPoints.ShouldHaveSingleItem()
            .Count.ShouldBe(1UL);
        metrics.ShouldContain(m => m.Name == ImageForgeTelemetry.Metrics.QueueDepth);

        var records = receiver
            .Logs.SelectMany(l => l.ResourceLogs)
            .SelectMany(r => r.ScopeLogs)
            .SelectMany(s => s.LogRecords)
            .ToList();
        var lines = records
            .Where(r => Attribute(r.Attributes, ImageForgeTelemetry.Attributes.BuildId) == buildId)
            .ToList();
        lines.ShouldNotBeEmpty();
        lines.ShouldAllBe(r => r.TraceId == root.TraceId);
        var stored = await StoredLogAsync(build, buildId);
        lines.Select(r => r.Body.StringValue).ShouldBe(stored);
        lines.ShouldContain(r => r.Body.StringValue.Contains("auth is <redacted> here"));
        lines.ShouldContain(r =>
            Attribute(r.Attributes, ImageForgeTelemetry.Attributes.LogStream) == "error"
        );

        foreach (var body in receiver.Bodies)
        {
            Encoding.Latin1.GetString(body).ShouldNotContain("s3cr3t");
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task Metrics_scraped_during_a_running_build_parse_as_Prometheus_text_and_show_the_queue_and_the_stages()
    {
        using var build = new FakePackerBuild(
            "1795329432,,ui,message,    null.local: imageforge-step: bootstrap | mmdebstrap bullseye\n"
        ).Hanging();
        await using var worker = await build.StartWorkerAsync(
            WorkerConfig.Default with
            {
                Shutdown = ShutdownMode.Cancel,
            }
        );
        var requests = worker.App.Services.GetRequiredService<IBuildRequests>();
        await requests.QueueAsync(
            new BuildSubmission("debian-11-cis", null, BuildTrigger.Manual, "tester", "spec", null),
            CancellationToken.None
        );
        await build.WaitForFakePackerAsync(CancellationToken.None);
        // A CVE rebuild is never joined to a queued build: it waits behind the running one (one local build at a time).
        await requests.QueueAsync(
            new BuildSubmission("debian-11-cis", null, BuildTrigger.Cve, "tester", "spec", null),
            CancellationToken.None
        );
        using var http = await ClientAsync(worker, null);

        // The bootstrap marker ends the packer stage; wait for the build's sink to have seen it.
        Dictionary<string, List<(Dictionary<string, string> Labels, double Value)>> samples;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            using var answer = await http.GetAsync("/metrics");
            answer.IsSuccessStatusCode.ShouldBeTrue();
            answer.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
            samples = ParsePrometheus(await answer.Content.ReadAsStringAsync());
            if (
                samples.TryGetValue("imageforge_build_stage_duration_seconds_count", out var stages)
                && stages.Any(s => s.Labels["imageforge_stage"] == "packer")
            )
            {
                break;
            }

            await Task.Delay(100);
        } while (waited.Elapsed < TimeSpan.FromSeconds(30));

        samples["imageforge_queue_depth"].ShouldHaveSingleItem().Value.ShouldBe(1);
        samples["imageforge_builds_started_total"].ShouldHaveSingleItem().Value.ShouldBe(1);
        samples["imageforge_queue_wait_seconds_count"].ShouldHaveSingleItem().Value.ShouldBe(1);
        var durations = samples["imageforge_build_stage_duration_seconds_count"];
        durations
            .Select(s => s.Labels["imageforge_stage"])
            .ShouldBe(["prepare", "packer"], ignoreOrder: true);
        durations.ShouldAllBe(s =>
            s.Labels["imageforge_image"] == "debian-11-cis"
            && s.Labels["imageforge_target"] == "local"
        );
        samples.ShouldNotContainKey("imageforge_builds_ended_total");
        await worker.App.StopAsync();
    }

    // Prometheus text exposition format 0.0.4: HELP and TYPE comments, then samples of declared families.
    private static Dictionary<
        string,
        List<(Dictionary<string, string> Labels, double Value)>
    > ParsePrometheus(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new Dictionary<string, List<(Dictionary<string, string>, double)>>(
            StringComparer.Ordinal
        );
        foreach (var line in text.Split('\n').Where(l => l.Length > 0))
        {
            if (line.StartsWith('#'))
            {
                var comment = Comment().Match(line);
                comment.Success.ShouldBeTrue($"not a HELP or TYPE line: {line}");
                if (comment.Groups["kind"].Value == "TYPE")
                {
                    comment
                        .Groups["rest"]
                        .Value.ShouldBeOneOf("counter", "gauge", "histogram", "summary", "untyped");
                    types[comment.Groups["name"].Value] = comment.Groups["rest"].Value;
                }

                continue;
            }

            var sample = Sample().Match(line);
            sample.Success.ShouldBeTrue($"not a sample line: {line}");
            var name = sample.Groups["name"].Value;
            var family = types
                .Keys.Where(f => name == f || name.StartsWith(f + "_", StringComparison.Ordinal))
                .MaxBy(f => f.Length);
            family.ShouldNotBeNull($"{name} has no TYPE line before it");
            var labels = sample
                .Groups["label"]
                .Captures.Zip(sample.Groups["value"].Captures)
                .ToDictionary(
                    p => p.First.Value,
                    p => Regex.Unescape(p.Second.Value),
                    StringComparer.Ordinal
                );
            var value = sample.Groups["number"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var n => double.Parse(n, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            if (!samples.TryGetValue(name, out var list))
            {
                samples[name] = list = [];
            }

            list.Add((labels, value));
        }

        return samples;
    }

    [GeneratedRegex("^# (?<kind>HELP|TYPE) (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<rest>.*)$")]
    private static partial Regex Comment();

    [GeneratedRegex(
        """^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?<label>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(\\.|[^"\\])*)",?)*\})? (?<number>[-+]?(\d+(\.\d*)?([eE][-+]?\d+)?|Inf|NaN))( -?\d+)?$"""
    )]
    private static partial Regex Sample();

    [Fact(Timeout = 90_000)]
    public async Task Promotions_rollbacks_and_revocations_through_the_API_export_their_spans_under_the_request_with_their_steps()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var build = new FakePackerBuild(Transcript, exitCode: 1);
        foreach (var (name, value) in receiver.Environment())
        {
            build.Environment[name] = value;
        }

        var first = await SignedVersions.RecordAsync(
            build.DataDir,
            TimeProvider.System,
            findings: new Dictionary<string, int> { ["critical"] = 1, ["high"] = 3 }
        );
        var second = await SignedVersions.RecordAsync(
            build.DataDir,
            TimeProvider.System,
            findings: new Dictionary<string, int> { ["high"] = 1 }
        );
        var image = first.Image;
        var worker = await build.StartWorkerAsync(WorkerConfig.Default);
        await using (worker)
        {
            using var http = await ClientAsync(worker, ApiRoles.ReleaseManager);
            foreach (var version in new[] { first, second })
            {
                using var promoted = await http.PostAsJsonAsync(
                    $"/api/images/{image}/versions/{version.Version}/promote",
                    new { channel = "dev" }
                );
                promoted.IsSuccessStatusCode.ShouldBeTrue(
                    await promoted.Content.ReadAsStringAsync()
                );
            }

            using var rolledBack = await http.PostAsJsonAsync(
                $"/api/images/{image}/channels/dev/rollback",
                new { reason = "telemetry spec" }
            );
            rolledBack.IsSuccessStatusCode.ShouldBeTrue(
                await rolledBack.Content.ReadAsStringAsync()
            );
            using var revoked = await http.PostAsJsonAsync(
                $"/api/images/{image}/versions/{second.Version}/revoke",
                new { reason = "telemetry spec" }
            );
            revoked.IsSuccessStatusCode.ShouldBeTrue(await revoked.Content.ReadAsStringAsync());
            await worker.App.StopAsync();
        }

        receiver.Refused.ShouldBeEmpty();
        var spans = receiver.Spans();
        Span ParentOf(Span span) => spans.Single(s => s.SpanId == span.ParentSpanId);

        var promotions = spans
            .Where(s => s.Name == ImageForgeTelemetry.Spans.Promotion)
            .OrderBy(s => s.StartTimeUnixNano)
            .ToList();
        promotions
            .Select(p => Attribute(p, ImageForgeTelemetry.Attributes.Version))
            .ShouldBe([first.Version, second.Version]);
        foreach (var promotion in promotions)
        {
            Attribute(promotion, ImageForgeTelemetry.Attributes.Image).ShouldBe(image);
            Attribute(promotion, ImageForgeTelemetry.Attributes.Channel).ShouldBe("dev");
            Attribute(promotion, ImageForgeTelemetry.Attributes.Outcome).ShouldBe("promoted");
            var request = ParentOf(promotion);
            request.Kind.ShouldBe(Span.Types.SpanKind.Server);
            Attribute(request, "http.route")
                .ShouldBe("/api/images/{image}/versions/{version}/promote");
            var step = spans
                .Where(s =>
                    s.ParentSpanId == promotion.SpanId
                    && s.Name == ImageForgeTelemetry.Spans.PromotionStep
                )
                .ShouldHaveSingleItem();
            Attribute(step, ImageForgeTelemetry.Attributes.Target).ShouldBe("local");
            Attribute(step, ImageForgeTelemetry.Attributes.Outcome).ShouldBe("succeeded");
        }

        var rollback = spans
            .Where(s => s.Name == ImageForgeTelemetry.Spans.Rollback)
            .ShouldHaveSingleItem();
        Attribute(rollback, ImageForgeTelemetry.Attributes.Channel).ShouldBe("dev");
        Attribute(rollback, ImageForgeTelemetry.Attributes.Version).ShouldBe(first.Version);
        Attribute(rollback, ImageForgeTelemetry.Attributes.Outcome).ShouldBe("rolled-back");
        ParentOf(rollback).Kind.ShouldBe(Span.Types.SpanKind.Server);

        var revocation = spans
            .Where(s => s.Name == ImageForgeTelemetry.Spans.Revocation)
            .ShouldHaveSingleItem();
        Attribute(revocation, ImageForgeTelemetry.Attributes.Version).ShouldBe(second.Version);
        Attribute(revocation, ImageForgeTelemetry.Attributes.Outcome).ShouldBe("revoked");
        var deprecation = spans
            .Where(s => s.ParentSpanId == revocation.SpanId)
            .ShouldHaveSingleItem();
        deprecation.Name.ShouldBe(ImageForgeTelemetry.Spans.RevocationStep);
        Attribute(deprecation, ImageForgeTelemetry.Attributes.Target).ShouldBe("local");
        Attribute(deprecation, ImageForgeTelemetry.Attributes.Outcome).ShouldBe("succeeded");

        var steps = receiver
            .ImageForgeMetrics()
            .Last(m => m.Name == ImageForgeTelemetry.Metrics.PromotionSteps);
        var point = steps.Sum.DataPoints.ShouldHaveSingleItem();
        point.AsInt.ShouldBe(2);
        Attribute(point.Attributes, ImageForgeTelemetry.Attributes.Target).ShouldBe("local");
        Attribute(point.Attributes, ImageForgeTelemetry.Attributes.Outcome).ShouldBe("succeeded");

        // dev is back on the first version: its findings, one series per severity.
        var onDev = receiver
            .ImageForgeMetrics()
            .Last(m => m.Name == ImageForgeTelemetry.Metrics.PromotedFindings)
            .Gauge.DataPoints;
        onDev.ShouldAllBe(p =>
            Attribute(p.Attributes, ImageForgeTelemetry.Attributes.Channel) == "dev"
            && Attribute(p.Attributes, ImageForgeTelemetry.Attributes.Version) == first.Version
        );
        onDev
            .ToDictionary(
                p => Attribute(p.Attributes, ImageForgeTelemetry.Attributes.Severity) ?? "",
                p => p.AsInt
            )
            .ShouldBe(
                new Dictionary<string, long>
                {
                    ["critical"] = 1,
                    ["high"] = 3,
                    ["medium"] = 0,
                    ["low"] = 0,
                    ["negligible"] = 0,
                    ["unknown"] = 0,
                },
                ignoreOrder: true
            );
    }

    private static async Task<IReadOnlyList<string>> StoredLogAsync(
        FakePackerBuild build,
        string buildId
    )
    {
        var logs = await build.RunAsync(
            CancellationToken.None,
            "builds",
            "logs",
            buildId,
            "--output",
            "json"
        );
        logs.ExitCode.ShouldBe(0, logs.ToString());
        return
        [
            .. logs
                .Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l =>
                    System
                        .Text.Json.JsonDocument.Parse(l)
                        .RootElement.GetProperty("text")
                        .GetString()!
                ),
        ];
    }

    /// <summary>
    /// The sensitive-variable setup exporting to <paramref name="receiver"/>: a copy of the content whose
    /// debian-11-cis target has the secret variable, which fakepacker prints; the copy is returned.
    /// </summary>
    private static TempDirectory SecretBuild(FakePackerBuild build, OtlpReceiver receiver)
    {
        var content = new TempDirectory("imageforge-otel");
        ContentCopy.Create(content.Path);
        ContentCopy.Edit(
            content.Path,
            Path.Combine("templates", "images", "debian-11-cis.yaml"),
            definition =>
                ClosedLoopback.WithClosedMirrors(FakePackerBuild.WithMirrorAuthSecret(definition))
        );
        build.WithMirrorAuth(BuildCommandSpecs.SensitiveSecret);
        foreach (var (name, value) in receiver.Environment())
        {
            build.Environment[name] = value;
        }
        return content;
    }

    private static async Task<HttpClient> ClientAsync(WorkerHost worker, string? role)
    {
        var url = worker
            .App.Services.GetRequiredService<IServer>()
            .Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        var http = new HttpClient { BaseAddress = new Uri(url) };
        if (role is not null)
        {
            var secret = ApiTokens.Generate();
            await worker.Catalog.CreateTokenAsync(
                "telemetry-spec",
                role,
                ApiTokens.Hash(secret),
                TimeProvider.System.GetUtcNow()
            );
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
                "Bearer",
                secret
            );
        }

        return http;
    }

    private static string? Attribute(Span span, string key) => Attribute(span.Attributes, key);

    private static string? Attribute(IEnumerable<KeyValue> attributes, string key) =>
        attributes.FirstOrDefault(a => a.Key == key)?.Value.StringValue;
}

[CollectionDefinition(nameof(TelemetrySpecs), DisableParallelization = true)]
public sealed class RunsAlone;
