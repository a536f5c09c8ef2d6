using System.Net;
using System.Net.Sockets;
using System.Text;
using ImageForge.Core.Worker;
using ImageForge.Server.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Webhooks;

public sealed class WebhookDispatcherSpecs
{
    private static readonly object BuildData = new
    {
        BuildId = "42",
        Image = "debian-11-base",
        Status = "succeeded",
    };

    [Fact(Timeout = 30_000)]
    public async Task A_delivery_reaches_a_real_receiver_signed_with_the_endpoint_secret()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var settings = WebhookFixture.Settings(8, receiver.Url);
        await fixture
            .Publisher(settings)
            .PublishAsync(WorkerEventTypes.BuildFinished, BuildData, CancellationToken.None);
        using var dispatcher = fixture.Dispatcher(settings);

        (await dispatcher.RunOnceAsync()).ShouldBe(1);

        var request = receiver.Requests.ShouldHaveSingleItem();
        var delivery = await fixture.OnlyDeliveryAsync();
        WebhookSignature
            .Verify(WebhookFixture.Secret, request.Body, request.Signature)
            .ShouldBeTrue();
        request.Signature.ShouldBe(WebhookSignature.Sign(WebhookFixture.Secret, request.Body));
        Encoding.UTF8.GetString(request.Body).ShouldBe(delivery.Payload);
        request.ContentType.ShouldBe("application/json");
        request.Event.ShouldBe("build.finished");
        request.Delivery.ShouldBe(delivery.Id);
        delivery.State.ShouldBe("delivered");
        delivery.Attempts.ShouldBe(1);
        delivery.LastStatusCode.ShouldBe(200);
        delivery.DeliveredAt.ShouldBe(WebhookFixture.Start);
        (await dispatcher.RunOnceAsync()).ShouldBe(0);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_receiver_failing_twice_is_retried_after_10_s_and_30_s_and_then_delivered()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync(statuses: [500, 500]);
        var settings = WebhookFixture.Settings(8, receiver.Url);
        await fixture
            .Publisher(settings)
            .PublishAsync(WorkerEventTypes.BuildFinished, BuildData, CancellationToken.None);
        using var dispatcher = fixture.Dispatcher(settings);

        (await dispatcher.RunOnceAsync()).ShouldBe(1);
        var first = await fixture.OnlyDeliveryAsync();
        first.State.ShouldBe("pending");
        first.LastStatusCode.ShouldBe(500);
        first.LastError.ShouldNotBeNull().ShouldContain("500");
        first.NextAttemptAt.ShouldBe(WebhookFixture.Start.AddSeconds(10));

        fixture.Clock.Advance(TimeSpan.FromSeconds(9));
        (await dispatcher.RunOnceAsync()).ShouldBe(0, "not due before the first backoff of 10 s");
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        (await dispatcher.RunOnceAsync()).ShouldBe(1);
        (await fixture.OnlyDeliveryAsync()).NextAttemptAt.ShouldBe(
            WebhookFixture.Start.AddSeconds(40)
        );

        fixture.Clock.Advance(TimeSpan.FromSeconds(29));
        (await dispatcher.RunOnceAsync()).ShouldBe(0, "not due before the second backoff of 30 s");
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        (await dispatcher.RunOnceAsync()).ShouldBe(1);

        var delivery = await fixture.OnlyDeliveryAsync();
        delivery.Attempts.ShouldBe(3);
        delivery.LastStatusCode.ShouldBe(200);
        delivery.State.ShouldBe("delivered");
        delivery.DeliveredAt.ShouldBe(WebhookFixture.Start.AddSeconds(40));
        // The log keeps every attempt: two refusals at 0 s and 10 s, the delivery at 40 s.
        delivery
            .History.Select(a => (a.Attempt, a.At, a.StatusCode))
            .ShouldBe([
                (1, WebhookFixture.Start, (int?)500),
                (2, WebhookFixture.Start.AddSeconds(10), (int?)500),
                (3, WebhookFixture.Start.AddSeconds(40), (int?)200),
            ]);
        delivery.NextAttemptAt.ShouldBeNull();
        receiver.Requests.Count.ShouldBe(3);
        receiver.Requests.Select(r => r.Delivery).Distinct().ShouldHaveSingleItem();
        receiver.Requests.ShouldAllBe(r =>
            WebhookSignature.Verify(WebhookFixture.Secret, r.Body, r.Signature)
        );
    }

    [Fact(Timeout = 30_000)]
    public async Task A_receiver_that_always_fails_is_given_up_after_max_attempts()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync(
            statuses: Enumerable.Repeat(503, 10)
        );
        var settings = WebhookFixture.Settings(4, receiver.Url);
        await fixture
            .Publisher(settings)
            .PublishAsync(WorkerEventTypes.GateFailed, BuildData, CancellationToken.None);
        using var dispatcher = fixture.Dispatcher(settings);

        // Backoff 10 s, 30 s, 90 s: attempts at +0, +10, +40 and +130 s.
        foreach (var wait in new[] { 0, 10, 30, 90 })
        {
            fixture.Clock.Advance(TimeSpan.FromSeconds(wait));
            (await dispatcher.RunOnceAsync()).ShouldBe(1);
        }
        fixture.Clock.Advance(TimeSpan.FromDays(2));
        (await dispatcher.RunOnceAsync()).ShouldBe(0, "a failed delivery is not tried again");

        var delivery = await fixture.OnlyDeliveryAsync();
        delivery.State.ShouldBe("failed");
        delivery.Attempts.ShouldBe(4);
        delivery.LastStatusCode.ShouldBe(503);
        delivery.NextAttemptAt.ShouldBeNull();
        delivery.DeliveredAt.ShouldBeNull();
        receiver.Requests.Count.ShouldBe(4);
        fixture.Logger.Entries.ShouldContain(e =>
            e.Level == LogLevel.Error && e.Text.Contains("failed 4 times and is given up")
        );
    }

    [Fact(Timeout = 30_000)]
    public async Task A_refused_connection_is_recorded_with_its_error_and_retried()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        var settings = WebhookFixture.Settings(8, new Uri($"http://127.0.0.1:{UnusedPort()}/hook"));
        await fixture
            .Publisher(settings)
            .PublishAsync(WorkerEventTypes.Revoked, BuildData, CancellationToken.None);
        using var dispatcher = fixture.Dispatcher(settings);

        await dispatcher.RunOnceAsync();

        var delivery = await fixture.OnlyDeliveryAsync();
        delivery.State.ShouldBe("pending");
        delivery.LastStatusCode.ShouldBeNull();
        delivery.LastError.ShouldNotBeNull().ShouldContain("refused", Case.Insensitive);
        delivery.NextAttemptAt.ShouldBe(WebhookFixture.Start.AddSeconds(10));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_receiver_that_does_not_answer_in_time_is_a_failed_attempt()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync(delay: TimeSpan.FromSeconds(5));
        var settings = WebhookFixture.Settings(8, receiver.Url);
        await fixture
            .Publisher(settings)
            .PublishAsync(WorkerEventTypes.RolledBack, BuildData, CancellationToken.None);
        using var dispatcher = fixture.Dispatcher(settings, TimeSpan.FromMilliseconds(300));

        await dispatcher.RunOnceAsync();

        var delivery = await fixture.OnlyDeliveryAsync();
        delivery.State.ShouldBe("pending");
        delivery.LastStatusCode.ShouldBeNull();
        delivery.LastError.ShouldBe("no answer within 0.3 s");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_missing_secret_variable_fails_the_attempt_and_is_logged_once()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var settings = WebhookFixture.Settings(8, receiver.Url);
        fixture.Environment.Clear();
        var publisher = fixture.Publisher(settings);
        await publisher.PublishAsync(WorkerEventTypes.Promoted, BuildData, CancellationToken.None);
        await publisher.PublishAsync(WorkerEventTypes.Revoked, BuildData, CancellationToken.None);
        using var dispatcher = fixture.Dispatcher(settings);

        (await dispatcher.RunOnceAsync()).ShouldBe(2);
        fixture.Clock.Advance(TimeSpan.FromSeconds(10));
        (await dispatcher.RunOnceAsync()).ShouldBe(2);

        receiver.Requests.ShouldBeEmpty();
        var deliveries = await fixture.Catalog.ListAsync(10);
        deliveries.ShouldAllBe(d =>
            d.State == "pending"
            && d.Attempts == 2
            && d.LastError == $"secret variable {WebhookFixture.SecretEnv} is not set"
        );
        fixture
            .Logger.Entries.Where(e => e.Level == LogLevel.Error)
            .ShouldHaveSingleItem()
            .Text.ShouldContain($"{WebhookFixture.SecretEnv} is not set");
    }

    [Fact(Timeout = 30_000)]
    public async Task The_secret_never_appears_in_the_stored_payload_the_catalog_or_the_log()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync(statuses: [500, 404]);
        var settings = WebhookFixture.Settings(2, receiver.Url);
        await fixture
            .Publisher(settings)
            .PublishAsync(WorkerEventTypes.BuildFinished, BuildData, CancellationToken.None);
        using var dispatcher = fixture.Dispatcher(settings);

        await dispatcher.RunOnceAsync();
        fixture.Clock.Advance(TimeSpan.FromSeconds(10));
        await dispatcher.RunOnceAsync();

        var delivery = await fixture.OnlyDeliveryAsync();
        delivery.State.ShouldBe("failed");
        receiver.Requests.Count.ShouldBe(2);
        fixture.Logger.Entries.ShouldNotBeEmpty();
        delivery.Payload.ShouldNotContain(WebhookFixture.Secret);
        delivery.LastError.ShouldNotBeNull().ShouldNotContain(WebhookFixture.Secret);
        fixture.Logger.Texts.ShouldAllBe(t => !t.Contains(WebhookFixture.Secret));
        receiver.Requests.ShouldAllBe(r =>
            !Encoding.UTF8.GetString(r.Body).Contains(WebhookFixture.Secret)
        );
        await fixture.Catalog.DisposeAsync();
        foreach (
            var file in Directory.EnumerateFiles(
                fixture.Directory.Path,
                "*",
                SearchOption.AllDirectories
            )
        )
        {
            Encoding
                .UTF8.GetString(await File.ReadAllBytesAsync(file))
                .ShouldNotContain(WebhookFixture.Secret);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_delivery_whose_endpoint_left_worker_yaml_is_given_up()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        await fixture
            .Publisher(WebhookFixture.Settings(8, new Uri("https://gone.example.com/hook")))
            .PublishAsync(WorkerEventTypes.Promoted, BuildData, CancellationToken.None);
        using var dispatcher = fixture.Dispatcher(
            WebhookFixture.Settings(8, new Uri("https://other.example.com/hook"))
        );

        await dispatcher.RunOnceAsync();

        var delivery = await fixture.OnlyDeliveryAsync();
        delivery.State.ShouldBe("failed");
        delivery.Attempts.ShouldBe(1);
        delivery.LastError.ShouldNotBeNull().ShouldContain("no endpoint with this URL");
    }

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 30)]
    [InlineData(3, 90)]
    [InlineData(4, 270)]
    [InlineData(7, 7290)]
    [InlineData(12, 86400)]
    [InlineData(500, 86400)]
    public void The_wait_after_each_failure_triples_up_to_a_day(int failedAttempts, int seconds)
    {
        WebhookDispatcher.RetryDelay(failedAttempts).ShouldBe(TimeSpan.FromSeconds(seconds));
    }

    [Fact(Timeout = 30_000)]
    public async Task The_hosted_dispatcher_sends_what_the_published_event_recorded_within_seconds()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var secretEnv = $"IMAGEFORGE_TEST_SECRET_{Guid.NewGuid():N}".ToUpperInvariant();
        Environment.SetEnvironmentVariable(secretEnv, WebhookFixture.Secret);
        try
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton<IWebhookLog>(fixture.Catalog);
            builder.Services.AddWebhooks(
                new WebhookSettings(8, [new(receiver.Url, [WorkerEventTypes.Promoted], secretEnv)])
            );
            using var host = builder.Build();
            await host.StartAsync();

            await host
                .Services.GetRequiredService<IWorkerEvents>()
                .PublishAsync(WorkerEventTypes.Promoted, BuildData, CancellationToken.None);
            while (receiver.Requests.IsEmpty)
            {
                await Task.Delay(50);
            }
            await host.StopAsync();

            var request = receiver.Requests.ShouldHaveSingleItem();
            WebhookSignature
                .Verify(WebhookFixture.Secret, request.Body, request.Signature)
                .ShouldBeTrue();
        }
        finally
        {
            Environment.SetEnvironmentVariable(secretEnv, null);
        }
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
