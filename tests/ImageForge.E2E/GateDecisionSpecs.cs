using System.Text.Json;
using Shouldly;
using Xunit;

namespace ImageForge.E2E;

/// <summary>The gate decision of the shipped image, from the shared golden builds.</summary>
[Collection(GoldenImageGroup.Name)]
public sealed class GateDecisionSpecs(GoldenImageFixture fixture)
{
    [Fact(Timeout = 60_000)]
    public async Task The_shipped_image_is_recorded_with_a_passing_gate_decision()
    {
        // Arrange
        fixture.Warm.ExitCode.ShouldBe(0, fixture.Warm.ToString());
        var version = await SbomAndFindingsSpecs.LatestAsync(fixture.Run, "debian-11-cis");

        // Act
        using var decision = JsonDocument.Parse(
            await File.ReadAllTextAsync(version.Files["gate-decision"])
        );

        // Assert
        decision
            .RootElement.GetProperty("decision")
            .GetString()
            .ShouldBe("pass", decision.RootElement.ToString());
        decision.RootElement.GetProperty("baseline").GetString().ShouldBe("debian-11-anssi");
        decision.RootElement.GetProperty("reasons").GetArrayLength().ShouldBeGreaterThan(10);
    }
}
