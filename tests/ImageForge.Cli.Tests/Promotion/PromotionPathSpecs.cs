using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;
using ImageForge.Providers.Local;
using ImageForge.Signing;
using ImageForge.Storage;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests.Promotion;

/// <summary>
/// Promotion, rollback and revocation through the service over the real SQLite catalog, signed versions, the local
/// registry and a clock moved by hand.
/// </summary>
public sealed class PromotionPathSpecs : IDisposable
{
    private static readonly string[] Path3 = ["dev", "staging", "prod"];

    private static readonly PromotionRules Rules = new(
        new Dictionary<string, ChannelRule>
        {
            ["staging"] = new(TimeSpan.FromHours(24), 1),
            ["prod"] = new(TimeSpan.FromHours(48), 2),
        }
    );

    private static readonly Actor Carol = new("carol", Role.Builder);
    private static readonly Actor Alice = new("alice", Role.ReleaseManager);
    private static readonly Actor Bob = new("bob", Role.ReleaseManager);
    private static readonly Actor Root = new("root", Role.Admin);

    private readonly TempDirectory _dir = new("imageforge-promotion");
    private readonly ManualTimeProvider _clock = new(
        new DateTimeOffset(2026, 1, 2, 9, 0, 0, TimeSpan.Zero)
    );

    private string DataDir => _dir.Combine("data");

    [Fact(Timeout = 60_000)]
    public async Task A_version_travels_dev_staging_prod_only_after_soak_and_approvals_and_is_published_in_each_channel()
    {
        var v = await SignedVersions.RecordAsync(DataDir, _clock);
        await using var catalog = await Catalog.OpenAsync(DataDir, _clock);
        var service = Service(catalog);

        var dev = await service.Promotions.PromoteAsync(Request(v, "dev", Carol));
        var stagingTooEarly = await service.Promotions.PromoteAsync(Request(v, "staging", Carol));
        _clock.Advance(TimeSpan.FromHours(25));
        await service.Promotions.ApproveAsync(
            v.Image,
            v.Version,
            "staging",
            Path3,
            Rules.For("staging"),
            Alice,
            "looks good"
        );
        var staging = await service.Promotions.PromoteAsync(Request(v, "staging", Carol));
        var prodByBuilder = await service.Promotions.PromoteAsync(
            Request(v, "prod", Carol, restricted: true)
        );
        _clock.Advance(TimeSpan.FromHours(47));
        await service.Promotions.ApproveAsync(
            v.Image,
            v.Version,
            "prod",
            Path3,
            Rules.For("prod"),
            Alice,
            null
        );
        await service.Promotions.ApproveAsync(
            v.Image,
            v.Version,
            "prod",
            Path3,
            Rules.For("prod"),
            Bob,
            null
        );
        var prodTooEarly = await service.Promotions.PromoteAsync(
            Request(v, "prod", Alice, restricted: true)
        );
        _clock.Advance(TimeSpan.FromHours(2));
        var prod = await service.Promotions.PromoteAsync(
            Request(v, "prod", Alice, restricted: true)
        );

        dev.Assignment.ShouldNotBeNull(string.Join("\n", dev.Refusals));
        stagingTooEarly.Assignment.ShouldBeNull();
        stagingTooEarly.Refusals.ShouldContain(r =>
            r.Contains("has soaked in dev for 0 min; staging needs 24 h")
        );
        stagingTooEarly.Refusals.ShouldContain(r => r.Contains("staging needs 1 approval(s)"));
        staging.Assignment.ShouldNotBeNull(string.Join("\n", staging.Refusals));
        prodByBuilder.Refusals.ShouldContain(r =>
            r.Contains("prod is restricted to release managers; carol is builder")
        );
        prodTooEarly
            .Refusals.ShouldHaveSingleItem()
            .ShouldContain("has soaked in staging for 47 h; prod needs 48 h");
        prod.Assignment.ShouldNotBeNull(string.Join("\n", prod.Refusals));
        var history = await catalog.GetHistoryAsync(v.Image);
        history
            .Select(h => (h.Channel, h.Version, h.Action))
            .ShouldBe([
                ("dev", v.Version, "promote"),
                ("staging", v.Version, "promote"),
                ("prod", v.Version, "promote"),
            ]);
        var registry = new LocalRegistry(DataDir, _clock);
        foreach (var channel in Path3)
        {
            registry.StateOf(v.Image, channel, v.Version).ShouldBe("published");
            File.Exists(
                    System.IO.Path.Combine(
                        registry.ChannelDirectory(v.Image, channel),
                        v.Version,
                        "local-local-disk.raw"
                    )
                )
                .ShouldBeTrue();
        }

        var actions = (await catalog.ReadAuditAsync(v.Image)).Select(e => e.Entry.Action).ToList();
        actions.Count(a => a == "promote").ShouldBe(3);
        actions.Count(a => a == "approve").ShouldBe(3);
        (await catalog.VerifyAuditAsync()).Ok.ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_promotion_whose_second_step_fails_leaves_the_channel_and_resume_runs_only_that_step()
    {
        var v1 = await SignedVersions.RecordAsync(
            DataDir,
            _clock,
            places: [("local", "local"), ("flaky", "eu-1")]
        );
        var v2 = await SignedVersions.RecordAsync(
            DataDir,
            _clock,
            places: [("local", "local"), ("flaky", "eu-1")]
        );
        await using var catalog = await Catalog.OpenAsync(DataDir, _clock);
        var flaky = new FlakyTarget();
        var counting = new CountingTarget(new LocalRegistry(DataDir, _clock));
        var service = Service(catalog, counting, flaky);
        (
            await service.Promotions.PromoteAsync(Request(v1, "dev", Root))
        ).Assignment.ShouldNotBeNull();
        flaky.FailNext = true;

        var failed = await service.Promotions.PromoteAsync(Request(v2, "dev", Root));
        var channelAfterFailure = (await catalog.GetChannelsAsync(v2.Image)).Single().Version;
        var plainRetry = await service.Promotions.PromoteAsync(Request(v2, "dev", Root));
        var localRunsBeforeResume = counting.Published;
        var resumed = await service.Promotions.PromoteAsync(
            Request(v2, "dev", Root) with
            {
                Resume = true,
            }
        );

        failed.Assignment.ShouldBeNull();
        failed
            .Steps.Select(s => (s.Step.Target, s.Step.Status))
            .ShouldBe([("local", StepStatus.Succeeded), ("flaky", StepStatus.Failed)]);
        channelAfterFailure.ShouldBe(v1.Version);
        plainRetry.Refusals.ShouldHaveSingleItem().ShouldContain("rerun with --resume");
        resumed.Assignment.ShouldNotBeNull(string.Join("\n", resumed.Refusals));
        resumed
            .Steps.Select(s => (s.Step.Target, s.RanNow))
            .ShouldBe([("local", false), ("flaky", true)]);
        counting.Published.ShouldBe(localRunsBeforeResume);
        (await catalog.GetChannelsAsync(v2.Image)).Single().Version.ShouldBe(v2.Version);
        resumed.Assignment!.PreviousVersion.ShouldBe(v1.Version);
    }

    [Fact(Timeout = 60_000)]
    public async Task Revoking_the_version_in_prod_rolls_every_channel_back_to_the_last_good_one_flags_descendants_and_marks_the_registry()
    {
        var v1 = await SignedVersions.RecordAsync(DataDir, _clock);
        var v2 = await SignedVersions.RecordAsync(DataDir, _clock);
        var child = await SignedVersions.RecordAsync(DataDir, _clock);
        await using var catalog = await Catalog.OpenAsync(DataDir, _clock);
        var service = Service(catalog);
        foreach (var v in new[] { v1, v2 })
        {
            foreach (var channel in Path3)
            {
                (
                    await service.Promotions.PromoteAsync(
                        Request(v, channel, Root, rules: PromotionRules.None)
                    )
                ).Assignment.ShouldNotBeNull();
            }
        }

        await catalog.RecordLineageAsync(
            new Lineage(child.Image, child.Version, null, v2.Image, v2.Version)
        );

        var result = await service.Revocations.RevokeAsync(
            v2.Image,
            v2.Version,
            "CVE-2026-0001 in the kernel",
            null,
            Alice
        );

        result.Record!.Channels.ShouldBe([
            new ChannelMove("dev", v2.Version, v1.Version),
            new ChannelMove("prod", v2.Version, v1.Version),
            new ChannelMove("staging", v2.Version, v1.Version),
        ]);
        (await catalog.GetChannelsAsync(v1.Image)).ShouldAllBe(c => c.Version == v1.Version);
        (await catalog.GetVersionAsync(v2.Image, v2.Version))!.Status.ShouldBe(
            VersionStatus.Revoked
        );
        result.Record.FlaggedDescendants.ShouldBe([(child.Image, child.Version)]);
        (await catalog.GetFlagsAsync(child.Image, child.Version))
            .ShouldHaveSingleItem()
            .Flag.ShouldBe("parent-revoked");
        result.Deprecations.ShouldHaveSingleItem().Outcome.Succeeded.ShouldBeTrue();
        var registry = new LocalRegistry(DataDir, _clock);
        foreach (var channel in Path3)
        {
            registry.StateOf(v2.Image, channel, v2.Version).ShouldBe("revoked");
            registry.StateOf(v1.Image, channel, v1.Version).ShouldBe("published");
        }

        var again = await service.Promotions.PromoteAsync(
            Request(v2, "dev", Root, rules: PromotionRules.None)
        );
        again.Refusals.ShouldHaveSingleItem().ShouldContain("is revoked");
    }

    [Fact(Timeout = 60_000)]
    public async Task Revoking_the_only_version_of_a_channel_empties_it_and_says_so()
    {
        var v1 = await SignedVersions.RecordAsync(DataDir, _clock);
        await using var catalog = await Catalog.OpenAsync(DataDir, _clock);
        var service = Service(catalog);
        await service.Promotions.PromoteAsync(Request(v1, "dev", Root));

        var result = await service.Revocations.RevokeAsync(
            v1.Image,
            v1.Version,
            "bad",
            null,
            Alice
        );

        result.Record!.Channels.ShouldBe([new ChannelMove("dev", v1.Version, null)]);
        (await catalog.GetChannelsAsync(v1.Image)).Single().Version.ShouldBeNull();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_scheduled_revocation_takes_effect_only_once_its_time_has_come()
    {
        var v1 = await SignedVersions.RecordAsync(DataDir, _clock);
        await using var catalog = await Catalog.OpenAsync(DataDir, _clock);
        var service = Service(catalog);

        var scheduled = await service.Revocations.RevokeAsync(
            v1.Image,
            v1.Version,
            "end of support",
            _clock.GetUtcNow().AddDays(2),
            Alice
        );
        var early = await service.Revocations.ApplyDueRevocationsAsync();
        var statusBefore = (await catalog.GetVersionAsync(v1.Image, v1.Version))!.Status;
        _clock.Advance(TimeSpan.FromDays(2));
        var due = await service.Revocations.ApplyDueRevocationsAsync();

        scheduled.Scheduled.ShouldNotBeNull();
        early.ShouldBeEmpty();
        statusBefore.ShouldBe(VersionStatus.Built);
        due.ShouldHaveSingleItem().Record!.Version.ShouldBe(v1.Version);
        (await catalog.GetVersionAsync(v1.Image, v1.Version))!.Status.ShouldBe(
            VersionStatus.Revoked
        );
        (await service.Revocations.ApplyDueRevocationsAsync()).ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task Rollback_returns_to_the_previous_version_in_one_step_and_never_to_a_revoked_one()
    {
        var v1 = await SignedVersions.RecordAsync(DataDir, _clock);
        var v2 = await SignedVersions.RecordAsync(DataDir, _clock);
        var v3 = await SignedVersions.RecordAsync(DataDir, _clock);
        await using var catalog = await Catalog.OpenAsync(DataDir, _clock);
        var service = Service(catalog);
        foreach (var v in new[] { v1, v2, v3 })
        {
            await service.Promotions.PromoteAsync(Request(v, "dev", Root));
        }

        await catalog.RevokeAsync(v2.Image, v2.Version, "bad", Audit());
        var back = await service.Rollbacks.RollbackAsync(
            v3.Image,
            "dev",
            null,
            Path3,
            Carol,
            false,
            "regression"
        );
        var toRevoked = await Should.ThrowAsync<RefusedException>(
            service.Rollbacks.RollbackAsync(v3.Image, "dev", v2.Version, Path3, Carol, false, null)
        );

        back.Version.ShouldBe(v1.Version);
        back.PreviousVersion.ShouldBe(v3.Version);
        toRevoked.Message.ShouldContain("is revoked");
        (await catalog.GetChannelsAsync(v1.Image)).Single().Version.ShouldBe(v1.Version);
    }

    [Fact(Timeout = 60_000)]
    public async Task Retention_keeps_the_newest_and_what_channels_point_at_and_deletes_the_rest_only_with_apply()
    {
        var versions = new List<ImageVersion>();
        for (var i = 0; i < 4; i++)
        {
            versions.Add(await SignedVersions.RecordAsync(DataDir, _clock));
        }

        await using var catalog = await Catalog.OpenAsync(DataDir, _clock);
        var service = Service(catalog);
        await service.Promotions.PromoteAsync(Request(versions[0], "dev", Root));

        var dry = await service.Retention.CollectGarbageAsync(
            2,
            TimeSpan.FromDays(30),
            false,
            Carol,
            new DataPaths(DataDir)
        );
        var applied = await service.Retention.CollectGarbageAsync(
            2,
            TimeSpan.FromDays(30),
            true,
            Root,
            new DataPaths(DataDir)
        );

        dry.Removed.Select(r => r.Version).ShouldBe([versions[1].Version]);
        dry.Kept.ShouldContain(k =>
            k.Version.Version == versions[0].Version && k.Why == "dev points at it"
        );
        applied.Removed.Select(r => r.Version).ShouldBe([versions[1].Version]);
        (await catalog.GetVersionAsync(versions[1].Image, versions[1].Version))!.Status.ShouldBe(
            VersionStatus.Deleted
        );
        File.Exists(versions[1].Artifacts[0].Location).ShouldBeFalse();
        File.Exists(versions[0].Artifacts[0].Location).ShouldBeTrue();
        await Should.ThrowAsync<RefusedException>(
            service.Retention.CollectGarbageAsync(
                2,
                TimeSpan.FromDays(30),
                true,
                Carol,
                new DataPaths(DataDir)
            )
        );
    }

    public void Dispose() => _dir.Dispose();

    private PromotionServices Service(Catalog catalog, params IDistributionTarget[] targets) =>
        new(
            catalog,
            catalog,
            catalog,
            targets.Length > 0 ? targets : [new LocalRegistry(DataDir, _clock)],
            async (v, ct) => (await VersionVerifier.VerifyAsync(v, null, null, ct)).Problems,
            _clock
        );

    private static PromoteRequest Request(
        ImageVersion v,
        string channel,
        Actor actor,
        bool restricted = false,
        PromotionRules? rules = null
    ) => new(v.Image, v.Version, channel, Path3, rules ?? Rules, actor, restricted);

    private Core.Audit.AuditEntry Audit() =>
        new()
        {
            Action = "revoke",
            Actor = "alice",
            Role = "release-manager",
            Time = _clock.GetUtcNow(),
        };

    private sealed class FlakyTarget : IDistributionTarget
    {
        public bool FailNext { get; set; }

        public string Target => "flaky";

        public Task<StepOutcome> PublishAsync(
            ImageVersion version,
            string channel,
            DistributionStep planned,
            CancellationToken cancellationToken = default
        )
        {
            var fail = FailNext;
            FailNext = false;
            return Task.FromResult(
                fail ? StepOutcome.Failed("eu-1 quota exceeded") : StepOutcome.Done("shared")
            );
        }

        public Task<StepOutcome> DeprecateAsync(
            ImageVersion version,
            string reason,
            CancellationToken cancellationToken = default
        ) => Task.FromResult(StepOutcome.Done("deprecated"));

        public Task<StepOutcome> DeleteAsync(
            ImageVersion version,
            CancellationToken cancellationToken = default
        ) => Task.FromResult(StepOutcome.Done("deleted"));
    }

    private sealed class CountingTarget(LocalRegistry inner) : IDistributionTarget
    {
        public int Published { get; private set; }

        public string Target => inner.Target;

        public Task<StepOutcome> PublishAsync(
            ImageVersion version,
            string channel,
            DistributionStep planned,
            CancellationToken cancellationToken = default
        )
        {
            Published++;
            return inner.PublishAsync(version, channel, planned, cancellationToken);
        }

        public Task<StepOutcome> DeprecateAsync(
            ImageVersion version,
            string reason,
            CancellationToken cancellationToken = default
        ) => inner.DeprecateAsync(version, reason, cancellationToken);

        public Task<StepOutcome> DeleteAsync(
            ImageVersion version,
            CancellationToken cancellationToken = default
        ) => inner.DeleteAsync(version, cancellationToken);
    }
}
