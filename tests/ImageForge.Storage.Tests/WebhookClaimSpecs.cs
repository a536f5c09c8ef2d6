using ImageForge.Core.Worker;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

/// <summary>
/// Webhook deliveries claimed like builds (docs/cluster.md): racing dispatchers claim each due delivery once, a live
/// claim keeps it from the others, one that ran out makes it due again, and an attempt recorded under a claim taken
/// since is refused with nothing written. Claim times are the database's clock, so these specs wait real
/// milliseconds.
/// </summary>
public abstract class WebhookClaimSpecs(CatalogBackend backend) : IDisposable
{
    private static readonly DateTimeOffset Nine = new(2025, 3, 4, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Long = TimeSpan.FromHours(1);

    private readonly TempDataDirectory _data = new(backend);

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    private static async Task<WebhookDelivery> AddAsync(Catalog catalog, int n) =>
        (await catalog.AddAsync($"ev-{n}", "build.finished", "{}", ["https://h.example"], Nine))[0];

    [Fact(Timeout = 60_000)]
    public async Task Racing_dispatchers_claim_each_due_delivery_exactly_once()
    {
        // Arrange: 40 due deliveries, five dispatchers (each its own catalog and connections) claiming 3 at a time.
        const int count = 40;
        var catalogs = new List<Catalog>();
        for (var i = 0; i < 5; i++)
        {
            catalogs.Add(await _data.OpenAsync());
        }

        for (var n = 0; n < count; n++)
        {
            await AddAsync(catalogs[0], n);
        }

        // Act: each claims until nothing is left for it.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var claimers = catalogs
            .Select(
                (catalog, i) =>
                    Task.Run(async () =>
                    {
                        await gate.Task;
                        var mine = new List<WebhookDelivery>();
                        while (
                            await catalog.ClaimDueAsync(Nine, 3, $"dispatcher-{i}", Long)
                                is { Count: > 0 } batch
                        )
                        {
                            mine.AddRange(batch);
                        }

                        return mine;
                    })
            )
            .ToList();
        gate.SetResult();
        var claimed = (await Task.WhenAll(claimers)).SelectMany(c => c).ToList();

        // Assert
        claimed.Count.ShouldBe(count);
        claimed.Select(d => d.Id).Distinct().Count().ShouldBe(count, "no delivery claimed twice");
        claimed.ShouldAllBe(d => d.Claim!.Epoch == 1 && d.Claim.DeliveryId == d.Id);
        (await catalogs[0].ClaimDueAsync(Nine, 100, "late", Long)).ShouldBeEmpty();
        var log = await catalogs[0].ListAsync(100);
        log.Select(d => d.ClaimedBy)
            .ShouldBe(claimed.OrderByDescending(d => long.Parse(d.Id)).Select(d => d.ClaimedBy));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_live_claim_keeps_the_delivery_and_one_that_ran_out_is_due_again()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var delivery = await AddAsync(catalog, 1);
        var first = (await catalog.ClaimDueAsync(Nine, 10, "w1", Short)).ShouldHaveSingleItem();

        // Act
        var whileLive = await catalog.ClaimDueAsync(Nine, 10, "w2", Long);
        await Task.Delay(Short * 2);
        var afterExpiry = await catalog.ClaimDueAsync(Nine, 10, "w2", Long);

        // Assert
        first.Claim.ShouldBe(new WebhookClaim(delivery.Id, 1));
        first.ClaimedBy.ShouldBe("w1");
        whileLive.ShouldBeEmpty("w1's claim has not run out");
        var again = afterExpiry.ShouldHaveSingleItem();
        again.Claim.ShouldBe(new WebhookClaim(delivery.Id, 2));
        again.ClaimedBy.ShouldBe("w2");
        again.Attempts.ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_stopping_dispatcher_gives_its_claims_back_and_cannot_record_under_them()
    {
        // Arrange: w1 holds long claims on two deliveries, w3 on a third.
        var catalog = await _data.OpenAsync();
        await AddAsync(catalog, 1);
        await AddAsync(catalog, 2);
        var held = await catalog.ClaimDueAsync(Nine, 2, "w1", Long);
        await AddAsync(catalog, 3);
        var other = await catalog.ClaimDueAsync(Nine, 10, "w3", Long);

        // Act: w1 stops cleanly.
        var released = await catalog.ReleaseClaimsAsync("w1");
        var taken = await catalog.ClaimDueAsync(Nine, 10, "w2", Long);

        // Assert: w2 takes w1's two at once, not w3's; w1's old claims record nothing.
        released.ShouldBe(2);
        held.Count.ShouldBe(2);
        other.ShouldHaveSingleItem();
        taken.Select(d => d.Id).Order().ShouldBe(held.Select(d => d.Id).Order());
        taken.ShouldAllBe(d => d.Claim!.Epoch == 2);
        await Should.ThrowAsync<WebhookClaimLostException>(() =>
            catalog.RecordAttemptAsync(held[0].Claim!, true, 200, null, Nine.AddSeconds(1), null)
        );
        (await catalog.ReleaseClaimsAsync("w1")).ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_claim_taken_since_cannot_record_and_the_new_claim_does()
    {
        // Arrange: w1's claim runs out mid-send and w2 claims the delivery.
        var catalog = await _data.OpenAsync();
        var delivery = await AddAsync(catalog, 1);
        var stale = (await catalog.ClaimDueAsync(Nine, 10, "w1", Short)).Single().Claim!;
        await Task.Delay(Short * 2);
        var current = (await catalog.ClaimDueAsync(Nine, 10, "w2", Long)).Single().Claim!;

        // Act
        var refused = await Should.ThrowAsync<WebhookClaimLostException>(() =>
            catalog.RecordAttemptAsync(stale, true, 200, null, Nine.AddSeconds(1), null)
        );
        var untouched = (await catalog.ListAsync(10)).Single();
        await catalog.RecordAttemptAsync(current, true, 204, null, Nine.AddSeconds(2), null);

        // Assert
        refused.Message.ShouldBe(
            $"Webhook delivery {delivery.Id} is no longer this dispatcher's: its claim ran out and another "
                + "dispatcher claimed it (claim 2, this one holds 1); the attempt was not recorded."
        );
        untouched.State.ShouldBe("pending");
        untouched.Attempts.ShouldBe(0);
        untouched.History.ShouldBeEmpty();
        var done = (await catalog.ListAsync(10)).Single();
        done.State.ShouldBe("delivered");
        done.ClaimedBy.ShouldBe("w2");
        done.History.ShouldBe([new WebhookAttempt(1, Nine.AddSeconds(2), 204, null)]);
        (await catalog.ClaimDueAsync(Nine.AddDays(1), 10, "w3", Long)).ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_attempt_releases_the_claim_so_the_retry_is_due_at_its_time()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        await AddAsync(catalog, 1);
        var claim = (await catalog.ClaimDueAsync(Nine, 10, "w1", Long)).Single().Claim!;

        // Act
        await catalog.RecordAttemptAsync(claim, false, 500, "HTTP 500", Nine, Nine.AddSeconds(10));

        // Assert: due again at its retry time (not held by w1's hour-long claim), and not before.
        (await catalog.ClaimDueAsync(Nine.AddSeconds(9), 10, "w2", Long)).ShouldBeEmpty();
        var retry = (
            await catalog.ClaimDueAsync(Nine.AddSeconds(10), 10, "w2", Long)
        ).ShouldHaveSingleItem();
        retry.Claim!.Epoch.ShouldBe(2);
        retry.Attempts.ShouldBe(1);
    }
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class WebhookClaimSpecsOnSqlite() : WebhookClaimSpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class WebhookClaimSpecsOnPostgres() : WebhookClaimSpecs(CatalogBackend.Postgres);
