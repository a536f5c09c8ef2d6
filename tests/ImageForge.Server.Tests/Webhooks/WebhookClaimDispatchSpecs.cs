using ImageForge.Server.Webhooks;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Webhooks;

/// <summary>
/// The dispatcher's side of claimed deliveries (docs/cluster.md): it claims under its worker's name, and an attempt
/// that could outlast its claim is not started (the delivery stays claimed until the claim runs out, then it is due
/// again), so a slow batch never sends after another dispatcher could have claimed the same delivery.
/// </summary>
public sealed class WebhookClaimDispatchSpecs
{
    private static readonly object Data = new { BuildId = "7" };

    [Fact(Timeout = 30_000)]
    public async Task An_attempt_that_could_outlast_the_claim_is_not_started()
    {
        // Arrange: five deliveries, a receiver answering after 500 ms, and a dispatcher whose monotonic clock the
        // spec moves: four attempts start at once, the fifth waits for a free slot.
        await using var fixture = await WebhookFixture.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync(
            delay: TimeSpan.FromMilliseconds(500)
        );
        var settings = WebhookFixture.Settings(8, receiver.Url);
        var publisher = fixture.Publisher(settings);
        for (var i = 0; i < 5; i++)
        {
            await publisher.PublishAsync(
                WorkerEventTypes.BuildFinished,
                Data,
                CancellationToken.None
            );
        }

        var clock = new SteppedClock(WebhookFixture.Start);
        using var dispatcher = new WebhookDispatcher(
            fixture.Catalog,
            settings,
            clock,
            name => fixture.Environment.TryGetValue(name, out var value) ? value : null,
            fixture.Logger,
            TimeSpan.FromSeconds(2),
            () => "w1-0123456789ab"
        );

        // Act: while the first four are at the receiver, the claim's time (less one attempt) passes.
        var run = dispatcher.RunOnceAsync();
        while (receiver.Requests.Count < 4)
        {
            await Task.Delay(10);
        }

        clock.Step(dispatcher.ClaimDuration - TimeSpan.FromSeconds(2));
        var claimed = await run;

        // Assert: five claimed, four sent; the fifth is still claimed (no other dispatcher takes it) and unsent.
        claimed.ShouldBe(5);
        receiver.Requests.Count.ShouldBe(4);
        var log = await fixture.Catalog.ListAsync(10);
        log.Count(d => d.State == "delivered").ShouldBe(4);
        var unsent = log.Single(d => d.State == "pending");
        unsent.Attempts.ShouldBe(0);
        unsent.ClaimedBy.ShouldBe("w1-0123456789ab");
        (
            await fixture.Catalog.ClaimDueAsync(
                WebhookFixture.Start,
                10,
                "w2-0123456789ab",
                TimeSpan.FromMinutes(1)
            )
        ).ShouldBeEmpty();
        log.Where(d => d.State == "delivered").ShouldAllBe(d => d.ClaimedBy == "w1-0123456789ab");
    }

    [Fact]
    public async Task A_claim_covers_four_rounds_of_attempts_and_a_margin()
    {
        await using var fixture = await WebhookFixture.CreateAsync();
        using var dispatcher = fixture.Dispatcher(WebhookFixture.Settings(8));

        dispatcher.ClaimDuration.ShouldBe(TimeSpan.FromSeconds(70));
    }

    // A clock whose wall time stands still and whose monotonic time moves only when the spec steps it.
    private sealed class SteppedClock(DateTimeOffset now) : TimeProvider
    {
        private long _ticks;

        public override DateTimeOffset GetUtcNow() => now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Step(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
