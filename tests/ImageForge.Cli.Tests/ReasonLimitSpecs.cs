using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// The texts the commands store have the API's limits: a reason of more than 1,000 characters is refused while
/// parsing (exit 2 naming the option), before a catalog is opened or anything is written.
/// </summary>
[Trait(BadInput.Trait, BadInput.Limits)]
public sealed class ReasonLimitSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-limits");

    private string DataDir => _dir.Combine("data");

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string[]> Commands =>
        new()
        {
            { "--reason", ["build", "debian-11-cis", "--reason"] },
            { "--reason", ["approve", "debian-11-cis@2026.01.02.1", "--for", "prod", "--reason"] },
            { "--reason", ["revoke", "debian-11-cis@2026.01.02.1", "--reason"] },
            { "--reason", ["rollback", "debian-11-cis", "--channel", "dev", "--reason"] },
            {
                "--skip-reason",
                ["promote", "debian-11-cis@2026.01.02.1", "--to", "staging", "--skip-reason"]
            },
        };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Commands))]
    public async Task A_reason_over_1000_characters_exits_2_naming_the_option_and_writes_nothing(
        string option,
        string[] command
    )
    {
        var result = await RunAsync([.. command, new string('r', 1001)]);

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain($"error: {option}: at most 1000 characters; this one has 1001");
        Directory.Exists(DataDir).ShouldBeFalse("nothing is written for bad input");

        // 1,000 characters pass the parser (the command then fails or succeeds on its own terms).
        var atTheLimit = await RunAsync([.. command, new string('r', 1000)]);
        atTheLimit.Error.ShouldNotContain("at most 1000 characters");
    }

    private Task<CliResult> RunAsync(string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            new Dictionary<string, string>
            {
                ["IMAGEFORGE_ACTOR"] = "alice",
                // A build at the limit must not reach Packer.
                ["IMAGEFORGE_PACKER"] = "/nonexistent/packer",
            },
            CancellationToken.None,
            [.. args, "--data-dir", DataDir]
        );
}
