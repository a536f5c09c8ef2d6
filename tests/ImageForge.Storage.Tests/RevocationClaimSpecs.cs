using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

/// <summary>
/// A due scheduled revocation claimed by several appliers at once (two workers' due-revocations jobs, a promotion
/// command) is applied once: one claim wins, one revocation and one audit event, the others change nothing.
/// </summary>
public abstract class RevocationClaimSpecs(CatalogBackend backend) : IDisposable
{
    private readonly TempDataDirectory _data = new(backend);

    [Fact(Timeout = 120_000)]
    public async Task Of_two_appliers_claiming_one_due_revocation_at_once_exactly_one_applies_it()
    {
        var setup = await _data.OpenAsync();
        var first = await _data.OpenAsync();
        var second = await _data.OpenAsync();
        const int Rounds = 20;
        for (var round = 0; round < Rounds; round++)
        {
            var v = await setup.BuildVersionAsync("web", _data.Time.GetUtcNow());
            var due = await ScheduleAsync(setup, v.Version);
            using var start = new ManualResetEventSlim();
            var claims = new[] { first, second }
                .Select(catalog =>
                    Task.Run(async () =>
                    {
                        start.Wait();
                        return await catalog.ClaimScheduledRevocationAsync(
                            due,
                            _data.Time.GetUtcNow(),
                            Audit(v.Version, due.Id)
                        );
                    })
                )
                .ToList();
            start.Set();
            var outcomes = await Task.WhenAll(claims);

            outcomes.Count(c => c.Claimed).ShouldBe(1, $"round {round}");
            outcomes.Single(c => c.Claimed).Record.ShouldNotBeNull();
            outcomes.Single(c => !c.Claimed).ShouldBe(ScheduledRevocationClaim.AppliedElsewhere);
            (await setup.GetVersionAsync("web", v.Version))!.Status.ShouldBe(VersionStatus.Revoked);
            (await setup.ReadAuditAsync("web", limit: 10_000))
                .Count(e => e.Entry.Action == "revoke" && e.Entry.Version == v.Version)
                .ShouldBe(1, $"revoke events of {v.Version}");
        }

        (await setup.DueRevocationsAsync(_data.Time.GetUtcNow())).ShouldBeEmpty();
        (await setup.VerifyAuditAsync()).Ok.ShouldBeTrue();
    }

    [Fact]
    public async Task A_claim_of_a_version_revoked_meanwhile_marks_it_applied_without_a_second_revocation()
    {
        var catalog = await _data.OpenAsync();
        var v = await catalog.BuildVersionAsync("web", _data.Time.GetUtcNow());
        var due = await ScheduleAsync(catalog, v.Version);
        await catalog.RevokeAsync("web", v.Version, "now", Audit(v.Version, 0));

        var claim = await catalog.ClaimScheduledRevocationAsync(
            due,
            _data.Time.GetUtcNow(),
            Audit(v.Version, due.Id)
        );
        var again = await catalog.ClaimScheduledRevocationAsync(
            due,
            _data.Time.GetUtcNow(),
            Audit(v.Version, due.Id)
        );

        claim.ShouldBe(ScheduledRevocationClaim.NothingToRevoke);
        again.ShouldBe(ScheduledRevocationClaim.AppliedElsewhere);
        (await catalog.ReadAuditAsync("web")).Count(e => e.Entry.Action == "revoke").ShouldBe(1);
        (await catalog.DueRevocationsAsync(_data.Time.GetUtcNow())).ShouldBeEmpty();
    }

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    // Scheduled a minute ago, so due now.
    private async Task<ScheduledRevocation> ScheduleAsync(Catalog catalog, string version)
    {
        var at = _data.Time.GetUtcNow();
        await catalog.ScheduleRevocationAsync(
            new ScheduledRevocation(
                0,
                "web",
                version,
                "end of support",
                at,
                "rita",
                "release-manager"
            ),
            Audit(version, 0) with
            {
                Action = "revoke-scheduled",
            }
        );
        _data.Time.Advance(TimeSpan.FromMinutes(1));
        return (await catalog.DueRevocationsAsync(_data.Time.GetUtcNow())).Single(r =>
            r.Version == version
        );
    }

    private AuditEntry Audit(string version, long scheduled) =>
        new()
        {
            Action = "revoke",
            Actor = "rita",
            Role = "release-manager",
            Time = _data.Time.GetUtcNow(),
            Image = "web",
            Version = version,
            Reason = "end of support",
            Details = AuditChain.Details(("scheduled", scheduled)),
        };
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class RevocationClaimSpecsOnSqlite() : RevocationClaimSpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class RevocationClaimSpecsOnPostgres()
    : RevocationClaimSpecs(CatalogBackend.Postgres);
