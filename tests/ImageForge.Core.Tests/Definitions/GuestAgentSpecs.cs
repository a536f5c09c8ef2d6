using ImageForge.Core.Definitions;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Definitions;

/// <summary>
/// <c>targets[].guest_agent</c>: a cloud target may add its guest agent to its own flavour of the disk, as the Debian
/// package of its cloud and the image's release; an agent the release does not ship is refused at its line, saying
/// what to do instead.
/// </summary>
public sealed class GuestAgentSpecs : IDisposable
{
    private readonly ContentFixture _content = new();

    private static readonly string Shipped = File.ReadAllText(
        Path.Combine(RepoPaths.Root, "templates", "images", "debian-11-cis-multicloud.yaml")
    );

    public void Dispose() => _content.Dispose();

    // The shipped multi-cloud definition with `guest_agent: <value>` added to the target of the provider; returns the
    // file and the line of the added key.
    private (string File, int Line) WriteWithAgent(string provider, string value = "true")
    {
        var marker = $"  - provider: {provider}\n";
        Shipped.ShouldContain(marker);
        var yaml = Shipped.Replace(
            marker,
            $"{marker}    guest_agent: {value}\n",
            StringComparison.Ordinal
        );
        var line =
            yaml[..yaml.IndexOf("guest_agent", StringComparison.Ordinal)].Count(c => c == '\n') + 1;
        return (_content.Definition("debian-11-cis-multicloud.yaml", yaml), line);
    }

    [Fact]
    public void The_shipped_multicloud_definition_adds_no_agent()
    {
        _content.Definition("debian-11-cis-multicloud.yaml", Shipped);

        var set = _content.Load();

        set.ShouldHaveNoProblems();
        set.FindImage("debian-11-cis-multicloud")!.Targets.ShouldAllBe(t => t.GuestAgent == null);
    }

    [Fact]
    public void Guest_agent_on_azure_adds_waagent_to_the_azure_target_only()
    {
        WriteWithAgent("azure");

        var set = _content.Load();

        set.ShouldHaveNoProblems();
        var image = set.FindImage("debian-11-cis-multicloud")!;
        image.FindTarget("azure")!.GuestAgent.ShouldBe("waagent");
        image.Targets.Where(t => t.Provider != "azure").ShouldAllBe(t => t.GuestAgent == null);
    }

    [Fact]
    public void Guest_agent_false_adds_nothing()
    {
        WriteWithAgent("azure", "false");

        var set = _content.Load();

        set.ShouldHaveNoProblems();
        set.FindImage("debian-11-cis-multicloud")!.FindTarget("azure")!.GuestAgent.ShouldBeNull();
    }

    [Theory]
    [InlineData(
        "gcp",
        "true",
        "google-guest-agent is not in Debian 11",
        "bookworm",
        "remove guest_agent"
    )]
    [InlineData("aws", "true", "Debian packages no AWS guest agent", "remove guest_agent")]
    [InlineData("local", "true", "has no guest agent to add", "remove it")]
    [InlineData("azure", "yes", "expected true or false, found 'yes'")]
    public void An_agent_the_release_does_not_ship_is_refused_at_its_line(
        string provider,
        string value,
        params string[] message
    )
    {
        var (file, line) = WriteWithAgent(provider, value);
        var index = Shipped
            .Split("  - provider: ")[1..]
            .Select((t, i) => (t, i))
            .Single(p => p.t.StartsWith(provider + "\n", StringComparison.Ordinal))
            .i;

        var set = _content.Load();

        set.ShouldHaveProblem(file, line, $"targets[{index}].guest_agent", message);
        set.FindImage("debian-11-cis-multicloud")
            .ShouldBeNull("an invalid definition is not built");
    }

    [Fact]
    public void A_native_target_cannot_take_a_flavour()
    {
        var (file, line) = WriteWithAgent("azure");
        File.WriteAllText(
            file,
            File.ReadAllText(file)
                .Replace(
                    "  - provider: azure\n    guest_agent: true\n    build: import\n",
                    "  - provider: azure\n    guest_agent: true\n    build: native\n",
                    StringComparison.Ordinal
                )
        );

        _content
            .Load()
            .ShouldHaveProblem(
                file,
                line,
                "targets[2].guest_agent",
                "builds natively",
                "build: import"
            );
    }

    [Theory]
    [InlineData("azure", "11", "waagent")]
    [InlineData("azure", "12", "waagent")]
    [InlineData("gcp", "12", "google-guest-agent")]
    [InlineData("gcp", "11", null)]
    [InlineData("aws", "12", null)]
    public void The_agent_packages_follow_the_debian_archive(
        string provider,
        string release,
        string? package
    )
    {
        var (found, refusal) = GuestAgents.For(
            TestProviders.Shipped.Find(provider)!.Rules,
            new OsSpec("debian", release)
        );

        found.ShouldBe(package);
        (refusal is null).ShouldBe(package is not null);
    }
}
