using ImageForge.Core.Audit;
using ImageForge.Core.Promotion;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

/// <summary>A release manager's rejection of a version for a channel, as the catalog keeps it.</summary>
public abstract class RejectionSpecs(CatalogBackend backend) : IDisposable
{
    private readonly TempDataDirectory _data = new(backend);

    [Fact]
    public async Task A_rejection_is_kept_per_channel_with_its_audit_event_and_rejecting_again_replaces_it()
    {
        var catalog = await _data.OpenAsync();
        var v = await catalog.BuildVersionAsync("web", _data.Time.GetUtcNow());

        await catalog.RejectAsync(Rejection(v.Version, "rita", "CVE-1"), Audit(v.Version, "CVE-1"));
        _data.Time.Advance(TimeSpan.FromMinutes(5));
        await catalog.RejectAsync(Rejection(v.Version, "rob", "CVE-2"), Audit(v.Version, "CVE-2"));

        var stored = await catalog.GetRejectionAsync("web", v.Version, "prod");
        stored.ShouldBe(Rejection(v.Version, "rob", "CVE-2"));
        (await catalog.GetRejectionAsync("web", v.Version, "staging")).ShouldBeNull();
        (await catalog.ReadAuditAsync("web"))
            .Where(e => e.Entry.Action == "reject-promotion")
            .Select(e => e.Entry.Reason)
            .ShouldBe(["CVE-1", "CVE-2"]);
        (await catalog.VerifyAuditAsync()).Ok.ShouldBeTrue();
    }

    [Fact]
    public async Task A_rejection_that_cannot_be_written_leaves_no_audit_event()
    {
        var catalog = await _data.OpenAsync();
        var v = await catalog.BuildVersionAsync("web", _data.Time.GetUtcNow());
        await _data.RefuseInsertsAsync("promotion_rejections");

        await Should.ThrowAsync<Exception>(() =>
            catalog.RejectAsync(Rejection(v.Version, "rita", "CVE-1"), Audit(v.Version, "CVE-1"))
        );

        await _data.AllowInsertsAsync("promotion_rejections");
        (await catalog.GetRejectionAsync("web", v.Version, "prod")).ShouldBeNull();
        (await catalog.ReadAuditAsync("web")).ShouldNotContain(e =>
            e.Entry.Action == "reject-promotion"
        );
    }

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    private Rejection Rejection(string version, string actor, string reason) =>
        new("web", version, "prod", actor, "release-manager", _data.Time.GetUtcNow(), reason);

    private AuditEntry Audit(string version, string reason) =>
        new()
        {
            Action = "reject-promotion",
            Actor = "rita",
            Role = "release-manager",
            Time = _data.Time.GetUtcNow(),
            Image = "web",
            Version = version,
            Channel = "prod",
            Reason = reason,
        };
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class RejectionSpecsOnSqlite() : RejectionSpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class RejectionSpecsOnPostgres() : RejectionSpecs(CatalogBackend.Postgres);
