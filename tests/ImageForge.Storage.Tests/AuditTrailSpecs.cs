using ImageForge.Core.Audit;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

/// <summary>The hash-chained audit trail, tampered with directly in the database file.</summary>
public abstract class AuditTrailSpecs(CatalogBackend backend) : IDisposable
{
    private readonly TempDataDirectory _data = new(backend);

    [Fact]
    public async Task An_untouched_trail_verifies()
    {
        var catalog = await FiveEventsAsync();

        var result = await catalog.VerifyAuditAsync();

        result.Ok.ShouldBeTrue(result.Problem);
        result.Checked.ShouldBe(5);
    }

    [Fact]
    public async Task Editing_an_event_in_the_database_names_that_event()
    {
        var catalog = await FiveEventsAsync();
        await using (var db = await _data.RawAsync())
        {
            await Raw.ExecuteAsync(
                db,
                "UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 3"
            );
        }

        var result = await catalog.VerifyAuditAsync();

        result.FirstBadSequence.ShouldBe(3);
        result.Problem!.ShouldContain("was edited");
    }

    [Fact]
    public async Task Deleting_an_event_names_the_missing_sequence_number()
    {
        var catalog = await FiveEventsAsync();
        await using (var db = await _data.RawAsync())
        {
            await Raw.ExecuteAsync(db, "DELETE FROM audit_events WHERE seq = 2");
        }

        var result = await catalog.VerifyAuditAsync();

        result.FirstBadSequence.ShouldBe(2);
        result.Problem!.ShouldContain("missing");
    }

    [Fact]
    public async Task Deleting_the_last_event_is_noticed_through_the_head()
    {
        var catalog = await FiveEventsAsync();
        await using (var db = await _data.RawAsync())
        {
            await Raw.ExecuteAsync(db, "DELETE FROM audit_events WHERE seq = 5");
        }

        var result = await catalog.VerifyAuditAsync();

        result.FirstBadSequence.ShouldBe(5);
    }

    [Fact]
    public async Task Swapping_two_events_names_the_first_of_them()
    {
        var catalog = await FiveEventsAsync();
        await using (var db = await _data.RawAsync())
        {
            // Renumber 2 and 4 through a free number, keeping each row's content and hashes.
            await Raw.ExecuteAsync(
                db,
                "UPDATE audit_events SET seq = 100 WHERE seq = 2; UPDATE audit_events SET seq = 2 WHERE seq = 4; "
                    + "UPDATE audit_events SET seq = 4 WHERE seq = 100"
            );
        }

        var result = await catalog.VerifyAuditAsync();

        result.FirstBadSequence.ShouldBe(2);
    }

    [Fact]
    public async Task The_log_lists_events_of_one_image_in_order()
    {
        var catalog = await FiveEventsAsync();

        var events = await catalog.ReadAuditAsync("img-b");

        events.Select(e => e.Sequence).ShouldBe([2L, 4L]);
        events[0].PreviousHash.ShouldNotBe(AuditChain.Genesis);
    }

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    private async Task<Catalog> FiveEventsAsync()
    {
        var catalog = await _data.OpenAsync();
        for (var i = 1; i <= 5; i++)
        {
            await catalog.AppendAsync(
                new AuditEntry
                {
                    Action = "promote",
                    Actor = "alice",
                    Role = "release-manager",
                    Time = _data.Time.GetUtcNow().AddMinutes(i),
                    Image = i % 2 == 0 ? "img-b" : "img-a",
                    Reason = $"event {i}",
                }
            );
        }

        return catalog;
    }
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class AuditTrailSpecsOnSqlite() : AuditTrailSpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class AuditTrailSpecsOnPostgres() : AuditTrailSpecs(CatalogBackend.Postgres);
