using System.Text.Json;
using ImageForge.Core.Worker;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Webhooks;

public sealed class WebhookPublisherSpecs
{
    private sealed record PromotedData(string ImageName, int Version, string ToChannel);

    [Fact]
    public async Task An_event_records_one_due_delivery_per_subscribed_endpoint_with_the_documented_body()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        var settings = new WebhookSettings(
            8,
            [
                new(new Uri("https://a.example.com/hook"), [WorkerEventTypes.Promoted], "A_SECRET"),
                new(
                    new Uri("https://b.example.com/hook"),
                    [WorkerEventTypes.BuildFinished],
                    "B_SECRET"
                ),
                new(new Uri("https://c.example.com/hook"), WorkerEventTypes.All, "C_SECRET"),
            ]
        );

        await fixture
            .Publisher(settings)
            .PublishAsync(
                WorkerEventTypes.Promoted,
                new PromotedData("debian-11-base", 7, "prod"),
                CancellationToken.None
            );

        var deliveries = await fixture.Catalog.DueAsync(WebhookFixture.Start, 10);
        deliveries
            .Select(d => d.Url)
            .ShouldBe(
                ["https://a.example.com/hook", "https://c.example.com/hook"],
                ignoreOrder: true
            );
        deliveries.ShouldAllBe(d =>
            d.State == "pending" && d.Attempts == 0 && d.EventType == "promoted"
        );
        deliveries.Select(d => d.Payload).Distinct().ShouldHaveSingleItem();

        var body = JsonDocument.Parse(deliveries[0].Payload).RootElement;
        body.EnumerateObject().Select(p => p.Name).ShouldBe(["id", "type", "time", "data"]);
        Guid.TryParse(body.GetProperty("id").GetString(), out _).ShouldBeTrue();
        body.GetProperty("id").GetString().ShouldBe(deliveries[0].EventId);
        body.GetProperty("type").GetString().ShouldBe("promoted");
        body.GetProperty("time").GetString().ShouldBe("2026-03-01T12:00:00.000Z");
        var data = body.GetProperty("data");
        data.GetProperty("image_name").GetString().ShouldBe("debian-11-base");
        data.GetProperty("version").GetInt32().ShouldBe(7);
        data.GetProperty("to_channel").GetString().ShouldBe("prod");
        deliveries[0].Payload.ShouldNotContain("SECRET");
    }

    [Fact]
    public async Task An_event_no_endpoint_takes_records_nothing()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        var settings = new WebhookSettings(
            8,
            [new(new Uri("https://a.example.com/hook"), [WorkerEventTypes.Promoted], "A_SECRET")]
        );

        await fixture
            .Publisher(settings)
            .PublishAsync(WorkerEventTypes.Revoked, new { Version = 3 }, CancellationToken.None);

        (await fixture.Catalog.ListAsync(10)).ShouldBeEmpty();
    }

    [Fact]
    public async Task An_unknown_event_type_is_a_programming_error()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        var publisher = fixture.Publisher(
            WebhookFixture.Settings(8, new Uri("https://a.example.com/"))
        );

        await Should.ThrowAsync<ArgumentOutOfRangeException>(() =>
            publisher.PublishAsync("build.started", new { }, CancellationToken.None)
        );
    }

    [Fact]
    public void Worker_yaml_accepts_exactly_the_event_types_the_worker_publishes()
    {
        WorkerConfigParser.EventTypes.ShouldBe(WorkerEventTypes.All);
    }
}
