using ImageForge.Core.Audit;
using ImageForge.Core.Promotion;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

/// <summary>Two processes (separate catalog instances) promoting the same channel at the same moment.</summary>
public abstract class ChannelConcurrencySpecs(CatalogBackend backend) : IDisposable
{
    private readonly TempDataDirectory _data = new(backend);

    [Fact(Timeout = 120_000)]
    public async Task Of_two_promotions_of_one_channel_started_at_once_exactly_one_wins_and_no_assignment_is_lost()
    {
        var setup = await _data.OpenAsync();
        var versions = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            versions.Add((await setup.BuildVersionAsync("web", _data.Time.GetUtcNow())).Version);
        }

        var first = await _data.OpenAsync();
        var second = await _data.OpenAsync();
        const int Rounds = 40;
        var wins = 0;

        for (var round = 0; round < Rounds; round++)
        {
            using var start = new ManualResetEventSlim();
            var attempts = new[] { (first, versions[0]), (second, versions[1]) }
                .Select(p =>
                    Task.Run(async () =>
                    {
                        start.Wait();
                        try
                        {
                            var promotion = await p.Item1.StartPromotionAsync(
                                "web",
                                p.Item2,
                                "dev",
                                "alice",
                                null,
                                [new DistributionStep("local", "local", [])],
                                Audit(p.Item2)
                            );
                            await p.Item1.RecordStepAsync(
                                promotion.Id,
                                0,
                                StepStatus.Succeeded,
                                "ok",
                                _data.Time.GetUtcNow()
                            );
                            await p.Item1.CompletePromotionAsync(promotion.Id, Audit(p.Item2));
                            return (Won: true, Error: (string?)null);
                        }
                        catch (PromotionConflictException e)
                        {
                            return (Won: false, Error: e.Message);
                        }
                    })
                )
                .ToArray();
            start.Set();
            var outcomes = await Task.WhenAll(attempts);

            // The loser may lose to a finished winner (then it is free to run after) or to a running one (conflict).
            outcomes.Count(o => o.Won).ShouldBeGreaterThanOrEqualTo(1);
            foreach (var lost in outcomes.Where(o => !o.Won))
            {
                lost.Error!.ShouldContain("conflict: promotion #");
            }

            wins += outcomes.Count(o => o.Won);
        }

        var history = await setup.GetHistoryAsync("web", "dev");
        history.Count.ShouldBe(wins);
        history.Select(h => h.Id).ShouldBeUnique();
        // Each assignment's previous version is the one before it: nothing was overwritten unseen.
        for (var i = 1; i < history.Count; i++)
        {
            history[i].PreviousVersion.ShouldBe(history[i - 1].Version);
        }

        (await setup.GetChannelsAsync("web")).Single().Version.ShouldBe(history[^1].Version);
        (await setup.VerifyAuditAsync()).Ok.ShouldBeTrue();
    }

    [Fact]
    public async Task A_second_promotion_while_one_runs_is_a_conflict_and_changes_nothing()
    {
        var catalog = await _data.OpenAsync();
        var a = (await catalog.BuildVersionAsync("web", _data.Time.GetUtcNow())).Version;
        var b = (await catalog.BuildVersionAsync("web", _data.Time.GetUtcNow())).Version;
        var other = await _data.OpenAsync();
        await catalog.StartPromotionAsync(
            "web",
            a,
            "dev",
            "alice",
            null,
            [new DistributionStep("local", "local", [])],
            Audit(a)
        );
        var eventsBefore = (await catalog.ReadAuditAsync()).Count;

        var conflict = await Should.ThrowAsync<PromotionConflictException>(
            other.StartPromotionAsync(
                "web",
                b,
                "dev",
                "bob",
                null,
                [new DistributionStep("local", "local", [])],
                Audit(b)
            )
        );

        conflict.Message.ShouldContain($"promotion #1 of web@{a} to dev by alice is running");
        (await catalog.ReadAuditAsync()).Count.ShouldBe(eventsBefore);
        (await catalog.GetChannelsAsync("web")).ShouldBeEmpty();
    }

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    private AuditEntry Audit(string version) =>
        new()
        {
            Action = "promote",
            Actor = "alice",
            Role = "release-manager",
            Time = _data.Time.GetUtcNow(),
            Image = "web",
            Version = version,
            Channel = "dev",
        };
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class ChannelConcurrencySpecsOnSqlite()
    : ChannelConcurrencySpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class ChannelConcurrencySpecsOnPostgres()
    : ChannelConcurrencySpecs(CatalogBackend.Postgres);
