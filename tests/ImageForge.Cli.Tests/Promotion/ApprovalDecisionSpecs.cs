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
/// A release manager's decision on a version for a channel, through the service over the real SQLite catalog: four
/// eyes (the version's requester may not approve it) and a rejection with its reason, which refuses the promotion.
/// </summary>
public sealed class ApprovalDecisionSpecs : IDisposable
{
    private static readonly string[] Path3 = ["dev", "staging", "prod"];
    private static readonly Actor Requester = new(SignedVersions.Requester, Role.ReleaseManager);
    private static readonly Actor Rita = new("rita", Role.ReleaseManager);
    private static readonly Actor Bob = new("bob", Role.Builder);
    private static readonly Actor Root = new("root", Role.Admin);

    private static readonly ChannelRule FourEyes = new(TimeSpan.Zero, 1) { FourEyes = true };

    private static readonly PromotionRules Rules = new(
        new Dictionary<string, ChannelRule> { ["prod"] = FourEyes }
    );

    private readonly TempDirectory _dir = new("imageforge-decisions");
    private readonly ManualTimeProvider _clock = new(
        new DateTimeOffset(2026, 1, 2, 9, 0, 0, TimeSpan.Zero)
    );

    private string DataDir => _dir.Combine("data");

    [Fact(Timeout = 60_000)]
    public async Task With_four_eyes_the_requester_cannot_approve_and_another_release_manager_can()
    {
        var (services, catalog, v) = await InStagingAsync();
        await using var _ = catalog;

        var requester = await services.Promotions.RequesterAsync(v);
        var refused = await Should.ThrowAsync<RefusedException>(() =>
            ApproveAsync(services, v, Requester)
        );
        var afterRefusal = await catalog.GetApprovalsAsync(v.Image, v.Version, "prod");
        await ApproveAsync(services, v, Rita);
        var promoted = await services.Promotions.PromoteAsync(Request(v, Rita));

        requester.ShouldBe(SignedVersions.Requester);
        refused.Message.ShouldContain(
            $"four eyes: {SignedVersions.Requester} requested the build of {v.Image}@{v.Version} and cannot approve it for prod"
        );
        refused.ExitCode.ShouldBe(1);
        afterRefusal.ShouldBeEmpty();
        promoted.Assignment.ShouldNotBeNull(string.Join("\n", promoted.Refusals));
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_four_eyes_the_requester_may_approve_their_own_version()
    {
        var (services, catalog, v) = await InStagingAsync();
        await using var _ = catalog;

        await services.Promotions.ApproveAsync(
            v.Image,
            v.Version,
            "prod",
            Path3,
            FourEyes with
            {
                FourEyes = false,
            },
            Requester,
            null
        );

        (await catalog.GetApprovalsAsync(v.Image, v.Version, "prod"))
            .ShouldHaveSingleItem()
            .Actor.ShouldBe(SignedVersions.Requester);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_rejection_refuses_the_promotion_naming_who_and_why_even_with_approvals_and_an_admins_skip()
    {
        var (services, catalog, v) = await InStagingAsync();
        await using var _ = catalog;
        await ApproveAsync(services, v, Rita);

        var rejection = await services.Promotions.RejectAsync(
            v.Image,
            v.Version,
            "prod",
            Path3,
            Rita,
            "CVE-2026-0001 is exploitable here"
        );
        var byRelease = await services.Promotions.PromoteAsync(Request(v, Rita));
        var byAdmin = await services.Promotions.PromoteAsync(
            Request(v, Root) with
            {
                SkipReason = "outage",
                Skip = new HashSet<string>([PromotionRuleNames.PreviousChannel]),
            }
        );
        var approveAgain = await Should.ThrowAsync<RefusedException>(() =>
            ApproveAsync(services, v, Root)
        );

        rejection.Actor.ShouldBe("rita");
        var expected =
            $"{v.Image}@{v.Version} was rejected for prod by rita (release-manager) at 2026-01-02T09:00:00.000Z: "
            + "CVE-2026-0001 is exploitable here";
        byRelease.Assignment.ShouldBeNull();
        byRelease.Refusals.ShouldHaveSingleItem().ShouldStartWith(expected);
        byAdmin.Refusals.ShouldContain(r => r.StartsWith(expected, StringComparison.Ordinal));
        approveAgain.Message.ShouldStartWith(expected);
        (await catalog.GetChannelsAsync(v.Image)).ShouldNotContain(c => c.Channel == "prod");
        var audit = await catalog.ReadAuditAsync(v.Image);
        audit.ShouldContain(e =>
            e.Entry.Action == "reject-promotion"
            && e.Entry.Actor == "rita"
            && e.Entry.Channel == "prod"
            && e.Entry.Reason == "CVE-2026-0001 is exploitable here"
        );
        (await catalog.VerifyAuditAsync()).Ok.ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_rejection_holds_only_its_channel()
    {
        var (services, catalog, v) = await InStagingAsync(toStaging: false);
        await using var _ = catalog;

        await services.Promotions.RejectAsync(
            v.Image,
            v.Version,
            "prod",
            Path3,
            Rita,
            "not for prod"
        );
        var staging = await services.Promotions.PromoteAsync(
            Request(v, Rita) with
            {
                Channel = "staging",
            }
        );

        staging.Assignment.ShouldNotBeNull(string.Join("\n", staging.Refusals));
    }

    [Fact(Timeout = 60_000)]
    public async Task Rejecting_takes_a_release_manager_and_a_reason_and_a_refused_one_records_nothing()
    {
        var (services, catalog, v) = await InStagingAsync();
        await using var _ = catalog;

        var byBuilder = await Should.ThrowAsync<RefusedException>(() =>
            services.Promotions.RejectAsync(v.Image, v.Version, "prod", Path3, Bob, "no")
        );
        var blank = await Should.ThrowAsync<InvalidInputException>(() =>
            services.Promotions.RejectAsync(v.Image, v.Version, "prod", Path3, Rita, "  ")
        );
        var unknownChannel = await Should.ThrowAsync<InvalidInputException>(() =>
            services.Promotions.RejectAsync(v.Image, v.Version, "qa", Path3, Rita, "no")
        );

        byBuilder.Message.ShouldContain("bob is builder and cannot reject for prod");
        blank.Message.ShouldContain("rejecting a version needs a reason");
        blank.ExitCode.ShouldBe(2);
        unknownChannel.Message.ShouldContain("has no channel 'qa'");
        (await catalog.GetRejectionAsync(v.Image, v.Version, "prod")).ShouldBeNull();
        (await catalog.ReadAuditAsync(v.Image)).ShouldNotContain(e =>
            e.Entry.Action == "reject-promotion"
        );
    }

    public void Dispose() => _dir.Dispose();

    private async Task<(PromotionServices, Catalog, ImageVersion)> InStagingAsync(
        bool toStaging = true
    )
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
        foreach (var channel in toStaging ? Path3[..2] : Path3[..1])
        {
            var result = await services.Promotions.PromoteAsync(
                Request(v, Rita) with
                {
                    Channel = channel,
                }
            );
            result.Assignment.ShouldNotBeNull(string.Join("\n", result.Refusals));
        }

        return (services, catalog, v);
    }

    private static Task<Approval> ApproveAsync(
        PromotionServices services,
        ImageVersion v,
        Actor actor
    ) => services.Promotions.ApproveAsync(v.Image, v.Version, "prod", Path3, FourEyes, actor, null);

    private static PromoteRequest Request(ImageVersion v, Actor actor) =>
        new(v.Image, v.Version, "prod", Path3, Rules, actor, Restricted: true);
}
