using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Promotion;
using ImageForge.Providers.Local;
using ImageForge.Signing;
using ImageForge.Storage;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests.Promotion;

/// <summary>
/// Skipping promotion rules: only the rules named, only those the baseline marks skippable, only by an admin, each
/// audited on its own; and a refusal that lists every unmet rule at once.
/// </summary>
public sealed class SkippedRuleSpecs : IDisposable
{
    private static readonly string[] Path3 = ["dev", "staging", "prod"];
    private static readonly Actor Root = new("root", Role.Admin);
    private static readonly Actor Alice = new("alice", Role.ReleaseManager);

    // As the shipped baseline: prod takes a day in staging and one approval; only the path may be skipped.
    private static readonly PromotionRules Shipped = new(
        new Dictionary<string, ChannelRule> { ["prod"] = new(TimeSpan.FromHours(24), 1) }
    );

    private readonly TempDirectory _dir = new("imageforge-skips");
    private readonly ManualTimeProvider _clock = new(
        new DateTimeOffset(2026, 1, 2, 9, 0, 0, TimeSpan.Zero)
    );

    private string DataDir => _dir.Combine("data");

    [Fact(Timeout = 60_000)]
    public async Task Skipping_the_previous_channel_does_not_wave_the_soak_through()
    {
        var (services, catalog, v) = await StartAsync();
        await using var _ = catalog;
        await services.Promotions.ApproveAsync(
            v.Image,
            v.Version,
            "prod",
            Path3,
            Shipped.For("prod"),
            Alice,
            null
        );

        var result = await services.Promotions.PromoteAsync(
            Request(v, Root, Shipped, PromotionRuleNames.PreviousChannel)
        );

        result.Assignment.ShouldBeNull();
        result.Refusals.ShouldHaveSingleItem().ShouldContain("has not soaked in staging");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_rule_the_baseline_does_not_mark_skippable_cannot_be_skipped()
    {
        var (services, catalog, v) = await StartAsync();
        await using var _ = catalog;

        var result = await services.Promotions.PromoteAsync(
            Request(
                v,
                Root,
                Shipped,
                PromotionRuleNames.PreviousChannel,
                PromotionRuleNames.Soak,
                PromotionRuleNames.Approvals
            )
        );

        result.Assignment.ShouldBeNull();
        result.Refusals.ShouldContain(r =>
            r.Contains("the baseline does not let soak, approvals be skipped for prod")
            && r.Contains("skippable there: previous-channel")
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task Rules_the_baseline_marks_skippable_are_skipped_by_name_and_each_is_audited()
    {
        var (services, catalog, v) = await StartAsync();
        await using var _ = catalog;
        var hotfix = new PromotionRules(
            new Dictionary<string, ChannelRule>
            {
                ["prod"] = new(TimeSpan.FromHours(24), 1)
                {
                    Skippable = new HashSet<string>(PromotionRuleNames.All),
                },
            }
        );

        var result = await services.Promotions.PromoteAsync(
            Request(
                v,
                Root,
                hotfix,
                PromotionRuleNames.PreviousChannel,
                PromotionRuleNames.Soak,
                PromotionRuleNames.Approvals
            )
        );
        var skips = (await catalog.ReadAuditAsync(v.Image))
            .Where(e => e.Entry.Action == "promote-skip")
            .ToList();

        result.Assignment.ShouldNotBeNull(string.Join("\n", result.Refusals));
        result.Skipped.ShouldBe([
            PromotionRuleNames.PreviousChannel,
            PromotionRuleNames.Soak,
            PromotionRuleNames.Approvals,
        ]);
        skips.Count.ShouldBe(3);
        skips.ShouldAllBe(e => e.Entry.Reason == "outage" && e.Entry.Actor == "root");
        skips[1].Entry.Details!.ShouldContain("\"rule\":\"soak\"");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_refusal_lists_every_unmet_rule_at_once()
    {
        var (services, catalog, v) = await StartAsync();
        await using var _ = catalog;

        var result = await services.Promotions.PromoteAsync(Request(v, Alice, Shipped));

        result.Refusals.Count.ShouldBe(3, string.Join("\n", result.Refusals));
        result.Refusals[0].ShouldContain("has never been in staging, the channel before prod");
        result.Refusals[1].ShouldContain("has not soaked in staging");
        result.Refusals[2].ShouldContain("prod needs 1 approval(s)");
    }

    [Fact(Timeout = 60_000)]
    public async Task Skipping_is_for_admins_and_needs_a_reason_and_a_known_rule()
    {
        var (services, catalog, v) = await StartAsync();
        await using var _ = catalog;

        var byManager = await services.Promotions.PromoteAsync(
            Request(v, Alice, Shipped, PromotionRuleNames.PreviousChannel)
        );
        var noReason = Should.ThrowAsync<InvalidInputException>(() =>
            services.Promotions.PromoteAsync(
                Request(v, Root, Shipped, PromotionRuleNames.PreviousChannel) with
                {
                    SkipReason = null,
                }
            )
        );
        var unknown = Should.ThrowAsync<InvalidInputException>(() =>
            services.Promotions.PromoteAsync(Request(v, Root, Shipped, "gates"))
        );

        byManager.Refusals.ShouldContain(r => r.StartsWith("only an admin may skip staging"));
        (await noReason).Message.ShouldContain("needs a reason");
        (await unknown).Message.ShouldContain("unknown rule 'gates'");
    }

    public void Dispose() => _dir.Dispose();

    private async Task<(PromotionServices, Catalog, ImageVersion)> StartAsync()
    {
        var v = await SignedVersions.RecordAsync(DataDir, _clock);
        var catalog = await Catalog.OpenAsync(DataDir, _clock);
        var services = new PromotionServices(
            catalog,
            catalog,
            catalog,
            [new LocalRegistry(DataDir, _clock)],
            async (version, ct) =>
                (await VersionVerifier.VerifyAsync(version, null, null, ct)).Problems,
            _clock
        );
        var dev = new PromoteRequest(v.Image, v.Version, "dev", Path3, Shipped, Root, false);
        (await services.Promotions.PromoteAsync(dev)).Assignment.ShouldNotBeNull();
        return (services, catalog, v);
    }

    // Promotes to prod, skipping the given rules with a reason.
    private static PromoteRequest Request(
        ImageVersion v,
        Actor actor,
        PromotionRules rules,
        params string[] skip
    ) =>
        new(v.Image, v.Version, "prod", Path3, rules, actor, false, false, "outage")
        {
            Skip = new HashSet<string>(skip, StringComparer.Ordinal),
        };
}
