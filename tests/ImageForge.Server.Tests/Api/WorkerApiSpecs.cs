using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImageForge.Application;
using ImageForge.Core.Worker;
using ImageForge.Server.Queue;
using ImageForge.Server.Scheduling;
using ImageForge.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Api;

/// <summary>/api/schedules and /api/webhooks/deliveries over the real catalog.</summary>
public sealed class WorkerApiSpecs : IAsyncLifetime, IDisposable
{
    private readonly ScheduleApiFactory _api = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task Schedules_list_the_next_run_in_each_images_time_zone()
    {
        using var viewer = _api.ClientFor("viewer");

        var schedules = await viewer.GetFromJsonAsync<JsonElement>("/api/schedules");

        var debian = schedules
            .EnumerateArray()
            .Single(s => s.GetProperty("image").GetString() == "debian-11-cis");
        debian.GetProperty("cron").GetString().ShouldBe("0 2 * * *");
        debian.GetProperty("time_zone").GetString().ShouldBe("Europe/Berlin");
        // 2026-11-22 10:00Z: the next 02:00 in Berlin (CET, +01:00) is 2026-11-23T01:00Z.
        debian
            .GetProperty("next_run")
            .GetDateTimeOffset()
            .ShouldBe(new DateTimeOffset(2026, 11, 23, 1, 0, 0, TimeSpan.Zero));
        debian.GetProperty("last_firing").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact]
    public async Task Running_a_schedule_now_needs_a_builder_and_records_the_firing()
    {
        using var viewer = _api.ClientFor("viewer");
        using var builder = _api.ClientFor("builder");

        using var refused = await viewer.PostAsync("/api/schedules/debian-11-cis/run", null);
        using var unknown = await builder.PostAsync("/api/schedules/no-such-image/run", null);
        using var ran = await builder.PostAsync(
            "/api/schedules/debian-11-cis/run?force=true",
            null
        );

        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        ran.StatusCode.ShouldBe(HttpStatusCode.OK, await ran.Content.ReadAsStringAsync());
        var firing = await ran.Content.ReadFromJsonAsync<JsonElement>();
        firing.GetProperty("outcome").GetString().ShouldBe("queued");
        firing.GetProperty("reason").GetString().ShouldBe("forced");
        var queued = (await _api.Catalog.ListQueuedAsync()).ShouldHaveSingleItem();
        queued.Id.ShouldBe(firing.GetProperty("build_id").GetString());
        var audited = (await _api.Catalog.ReadAuditAsync()).Single(e =>
            e.Entry.Action == "schedule-run"
        );
        audited.Entry.Role.ShouldBe("builder");
        audited.Entry.Details.ShouldBe($"queued, forced, build {queued.Id}");
        var listed = await viewer.GetFromJsonAsync<JsonElement>("/api/schedules");
        var last = listed
            .EnumerateArray()
            .Single(s => s.GetProperty("image").GetString() == "debian-11-cis")
            .GetProperty("last_firing");
        last.GetProperty("outcome").GetString().ShouldBe("queued");
        last.GetProperty("build_id").GetString().ShouldBe(queued.Id);
    }

    [Fact]
    public async Task The_webhook_delivery_log_is_for_admins()
    {
        await ((IWebhookLog)_api.Catalog).AddAsync(
            "event-1",
            "promoted",
            """{"id":"event-1"}""",
            ["http://127.0.0.1:9/hook"],
            _api.Time.GetUtcNow()
        );
        await _api.Catalog.ClaimDueAsync(
            _api.Time.GetUtcNow(),
            10,
            "build-01-0123456789ab",
            TimeSpan.FromMinutes(1)
        );
        using var releaseManager = _api.ClientFor("release-manager");
        using var admin = _api.ClientFor("admin");

        using var refused = await releaseManager.GetAsync("/api/webhooks/deliveries");
        var log = await admin.GetFromJsonAsync<JsonElement>("/api/webhooks/deliveries");

        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var delivery = log.EnumerateArray().ShouldHaveSingleItem();
        delivery.GetProperty("event_type").GetString().ShouldBe("promoted");
        delivery.GetProperty("state").GetString().ShouldBe("pending");
        delivery.GetProperty("attempts").GetInt32().ShouldBe(0);
        delivery.GetProperty("claimed_by").GetString().ShouldBe("build-01-0123456789ab");
    }

    // The API with the real schedule firing over the factory's catalog; no resolver, so no mirror is asked.
    private sealed class ScheduleApiFactory : ApiFactory
    {
        protected override void ConfigureServices(IServiceCollection services)
        {
            services.AddSingleton(
                new Pipeline(
                    new PipelineHost(
                        Paths,
                        Time,
                        _ => null,
                        Data.Root,
                        new Dictionary<string, string>()
                    )
                    {
                        Resolvers = [],
                    },
                    TestProviders.Shipped
                )
            );
            services.AddSingleton<QueueSignal>();
            services.AddSingleton<ScheduledBuilds>();
        }
    }
}
