using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Definitions;

public sealed class BaselinePromotionSpecs : IDisposable
{
    private readonly ContentFixture _content = new(withBaseline: false);

    public void Dispose() => _content.Dispose();

    private string WriteBaseline(string promotion) =>
        _content.Baseline("debian-11-anssi.yaml", ContentFixture.ValidBaseline + promotion);

    [Fact]
    public void Promotion_rules_give_each_channel_its_soak_and_approvals()
    {
        WriteBaseline(
            """
            promotion:
              staging: { soak: 30m }
              prod: { soak: 3d, approvals: 2, rescan: true }
            """
        );

        var set = _content.Load();

        set.ShouldHaveNoProblems();
        var rules = set.FindBaseline("debian-11-anssi").ShouldNotBeNull().Promotion;
        rules.For("staging").ShouldBe(new(TimeSpan.FromMinutes(30), 0));
        rules.For("prod").ShouldBe(new(TimeSpan.FromDays(3), 2, Rescan: true));
        rules.For("dev").ShouldBe(new(TimeSpan.Zero, 0));
    }

    [Fact]
    public void Four_eyes_is_off_unless_the_channel_asks_for_it()
    {
        WriteBaseline(
            """
            promotion:
              staging: { approvals: 1 }
              prod: { approvals: 1, four_eyes: true }
            """
        );

        var rules = _content.Load().FindBaseline("debian-11-anssi").ShouldNotBeNull().Promotion;

        rules.For("prod").FourEyes.ShouldBeTrue();
        rules.For("staging").FourEyes.ShouldBeFalse();
        rules.For("dev").FourEyes.ShouldBeFalse();
    }

    [Fact]
    public void A_channel_names_the_rules_an_admin_may_skip_and_by_default_only_the_path()
    {
        WriteBaseline(
            """
            promotion:
              hotfix: { soak: 1h, skippable: [previous-channel, soak] }
              prod: { soak: 1d }
            """
        );

        var rules = _content.Load().FindBaseline("debian-11-anssi").ShouldNotBeNull().Promotion;

        rules.For("hotfix").Skippable.ShouldBe(["previous-channel", "soak"], ignoreOrder: true);
        rules.For("prod").Skippable.ShouldBe(["previous-channel"]);
        rules.For("dev").Skippable.ShouldBe(["previous-channel"]);
    }

    [Theory]
    [InlineData(
        "  prod: { soak: 3 days }\n",
        "promotion.prod.soak",
        "a duration like 30m, 24h or 3d"
    )]
    [InlineData(
        "  prod: { approvals: -1 }\n",
        "promotion.prod.approvals",
        "a whole number of approvals"
    )]
    [InlineData("  prod: { soak: 1h, quorum: 2 }\n", "promotion.prod.quorum", "unknown")]
    [InlineData("  prod: { rescan: yes please }\n", "promotion.prod.rescan", "true or false")]
    [InlineData("  prod: { four_eyes: maybe }\n", "promotion.prod.four_eyes", "true or false")]
    [InlineData("  Prod!: { soak: 1h }\n", "promotion.Prod!", "channel name")]
    [InlineData(
        "  prod: { skippable: [soak, gates] }\n",
        "promotion.prod.skippable[1]",
        "unknown rule 'gates'"
    )]
    [InlineData("  prod: { skippable: soak }\n", "promotion.prod.skippable", "list")]
    public void A_bad_promotion_rule_is_a_problem_at_its_line(
        string rule,
        string field,
        string message
    )
    {
        var file = WriteBaseline("promotion:\n" + rule);

        var set = _content.Load();

        // The rule sits on the line after "promotion:" (line numbers count from 1).
        var ruleLine = Array.IndexOf(File.ReadAllLines(file), "promotion:") + 2;
        set.ShouldHaveProblem(file, ruleLine, field, message);
    }
}
