using System.Text.RegularExpressions;
using ImageForge.Core.Providers;
using ImageForge.TestSupport;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Definitions;

/// <summary>A target's per-channel options (targets[].channels), checked by its provider's rules.</summary>
public sealed class TargetChannelSpecs : IDisposable
{
    private readonly ContentFixture _content = new();

    private readonly ProviderRegistry _providers = new([
        .. TestProviders.Shipped.Modules,
        new SharingCloud(),
    ]);

    public void Dispose() => _content.Dispose();

    private string Write(string channels) =>
        _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition
                + "  - provider: sharing\n"
                + "    base_image: any\n"
                + "    regions: [north-1]\n"
                + channels
        );

    [Fact]
    public void Channel_options_are_read_per_channel_with_their_defaults()
    {
        Write(
            """
                channels:
                  prod: { accounts: "111111111111" }
                  dev: {}

            """
        );

        var set = _content.Load(_providers);

        set.ShouldHaveNoProblems();
        var target = set.FindImage("web").ShouldNotBeNull().FindTarget("sharing").ShouldNotBeNull();
        target.ChannelOption("prod", "accounts").ShouldBe("111111111111");
        target.ChannelOption("prod", "tag").ShouldBe("yes");
        target.ChannelOption("dev", "accounts").ShouldBeNull();
        target.ChannelOption("staging", "tag").ShouldBeNull();
    }

    [Theory]
    [InlineData("    channels:\n      qa: {}\n", 14, "targets[1].channels.qa", "unknown key 'qa'")]
    [InlineData(
        "    channels:\n      prod: { accounts: bob }\n",
        14,
        "targets[1].channels.prod.accounts",
        "12 digits"
    )]
    [InlineData(
        "    channels:\n      prod: { region: x }\n",
        14,
        "targets[1].channels.prod.region",
        "unknown key 'region'"
    )]
    public void A_bad_channel_option_is_a_problem_at_its_line(
        string channels,
        int line,
        string field,
        string message
    )
    {
        var file = Write(channels);

        _content.Load(_providers).ShouldHaveProblem(file, line, field, message);
    }

    [Fact]
    public void A_provider_without_channel_options_refuses_them()
    {
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + "    channels:\n      prod: {}\n"
        );

        _content
            .Load(_providers)
            .ShouldHaveProblem(file, 11, "targets[0].channels", "takes no channel options");
    }

    private sealed class SharingCloud : ProviderModule
    {
        public override ProviderRules Rules { get; } =
            new()
            {
                Name = "sharing",
                HasRegions = true,
                RegionPattern = new Regex("^[a-z]+-[0-9]$"),
                RegionExample = "north-1",
                BaseImageExpectation = "anything",
                CheckBaseImage = (_, _) => null,
                Options = [],
                SecretVariables = [],
                ChannelOptions =
                [
                    OptionRule.Matching("accounts", new Regex("^[0-9]{12}$"), "12 digits"),
                    new OptionRule("tag", OptionValue.Ok, _ => "yes"),
                ],
            };
    }
}
