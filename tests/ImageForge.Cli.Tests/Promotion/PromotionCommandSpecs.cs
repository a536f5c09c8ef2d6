using ImageForge.Storage;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests.Promotion;

/// <summary>The promotion commands end to end in-process: exit codes, messages, and that refusals change nothing.</summary>
public sealed class PromotionCommandSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-promote-cli");

    private string DataDir => _dir.Combine("data");

    [Fact(Timeout = 60_000)]
    public async Task Promote_publishes_to_dev_and_channels_history_and_the_audit_trail_show_it()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);

        var promote = await RunAsync(
            "alice",
            "promote",
            $"debian-11-cis@{v.Version}",
            "--to",
            "dev"
        );
        var again = await RunAsync("alice", "promote", $"debian-11-cis@{v.Version}", "--to", "dev");
        var show = await RunAsync("alice", "channels", "show", "debian-11-cis", "--history");
        var log = await RunAsync("alice", "audit", "log", "--image", "debian-11-cis");
        var verify = await RunAsync("alice", "audit", "verify");

        promote.ExitCode.ShouldBe(0, promote.ToString());
        promote.Out.ShouldContain($"dev now points at debian-11-cis@{v.Version} (was empty)");
        again.Out.ShouldContain("already points at");
        show.Out.ShouldMatch($@"(?m)^dev\s+{v.Version.Replace(".", @"\.")}");
        show.Out.ShouldMatch(@"(?m)^prod\s+-\s+-\s+\(release managers\)");
        show.Out.ShouldContain($"promote   - -> {v.Version}  by alice");
        log.Out.ShouldContain("alice (admin)  promote");
        verify.ExitCode.ShouldBe(0, verify.ToString());
        verify.Out.ShouldContain("audit trail intact");
        File.Exists(Path.Combine(DataDir, "registry", "debian-11-cis", "dev", "manifest.json"))
            .ShouldBeTrue();
    }

    [Theory(Timeout = 60_000)]
    [InlineData(
        "unknown image",
        2,
        "no image definition named 'no-such-image'",
        "promote",
        "no-such-image@2026.01.02.1",
        "--to",
        "dev"
    )]
    [InlineData(
        "unknown version",
        2,
        "has no version 2026.01.02.99",
        "promote",
        "debian-11-cis@2026.01.02.99",
        "--to",
        "dev"
    )]
    [InlineData(
        "unknown channel",
        2,
        "has no channel 'qa'; its channels are dev -> staging -> prod",
        "promote",
        "VERSION",
        "--to",
        "qa"
    )]
    [InlineData(
        "version missing",
        2,
        "name the version",
        "promote",
        "debian-11-cis",
        "--to",
        "dev"
    )]
    [InlineData(
        "skipping a channel",
        1,
        "has never been in dev, the channel before staging",
        "promote",
        "VERSION",
        "--to",
        "staging"
    )]
    [InlineData(
        "skipping without being admin",
        1,
        "only an admin may skip dev",
        "promote",
        "VERSION",
        "--to",
        "staging",
        "--skip-reason",
        "hotfix",
        "--as",
        "bob"
    )]
    [InlineData(
        "a viewer promoting",
        1,
        "dave is viewer and cannot promote",
        "promote",
        "VERSION",
        "--to",
        "dev",
        "--as",
        "dave"
    )]
    [InlineData(
        "an unlisted actor",
        1,
        "mallory is viewer and cannot promote",
        "promote",
        "VERSION",
        "--to",
        "dev",
        "--as",
        "mallory"
    )]
    [InlineData(
        "a builder approving",
        1,
        "bob is builder and cannot approve for dev",
        "approve",
        "VERSION",
        "--for",
        "dev",
        "--as",
        "bob"
    )]
    [InlineData(
        "a builder revoking",
        1,
        "bob is builder and cannot revoke",
        "revoke",
        "VERSION",
        "--reason",
        "x",
        "--as",
        "bob"
    )]
    [InlineData(
        "rolling back an empty channel",
        1,
        "is empty; there is nothing to roll back",
        "rollback",
        "debian-11-cis",
        "--channel",
        "dev"
    )]
    public async Task Bad_commands_fail_with_a_clear_error_and_change_nothing(
        string what,
        int exit,
        string message,
        params string[] args
    )
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        await File.WriteAllTextAsync(
            Path.Combine(DataDir, "roles.yaml"),
            "actors:\n  alice: admin\n  bob: builder\n  dave: viewer\n"
        );
        var actor = "alice";
        var list = args.Select(a => a == "VERSION" ? $"debian-11-cis@{v.Version}" : a).ToList();
        var at = list.IndexOf("--as");
        if (at >= 0)
        {
            actor = list[at + 1];
            list.RemoveRange(at, 2);
        }

        var before = await SnapshotAsync();

        var result = await RunAsync(actor, [.. list]);

        result.ExitCode.ShouldBe(exit, $"{what}: {result}");
        result.Error.ShouldContain(message);
        (await SnapshotAsync()).ShouldBe(before, what);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_admin_may_skip_a_channel_with_a_reason_which_the_audit_trail_keeps()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);

        var result = await RunAsync(
            "root",
            "promote",
            $"debian-11-cis@{v.Version}",
            "--to",
            "staging",
            "--skip-reason",
            "hotfix for an outage"
        );
        var log = await RunAsync("root", "audit", "log");

        result.ExitCode.ShouldBe(0, result.ToString());
        log.Out.ShouldContain("\"hotfix for an outage\"");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_shipped_baselines_promotion_rules_hold_prod_back_until_soaked_and_approved()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        await RunAsync("alice", "promote", $"debian-11-cis@{v.Version}", "--to", "dev");
        await RunAsync("alice", "promote", $"debian-11-cis@{v.Version}", "--to", "staging");

        var result = await RunAsync(
            "alice",
            "promote",
            $"debian-11-cis@{v.Version}",
            "--to",
            "prod"
        );

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Error.ShouldContain("soak");
        result.Error.ShouldContain("approval");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_rejected_version_is_refused_with_the_gate_named()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System, decision: "fail");

        var result = await RunAsync(
            "alice",
            "promote",
            $"debian-11-cis@{v.Version}",
            "--to",
            "dev"
        );

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Error.ShouldContain("is rejected; only built versions are promoted");
    }

    [Fact(Timeout = 60_000)]
    public async Task Revoke_from_the_command_line_reports_the_rolled_back_channels_and_the_deprecation()
    {
        var v1 = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        var v2 = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        await RunAsync("alice", "promote", $"debian-11-cis@{v1.Version}", "--to", "dev");
        await RunAsync("alice", "promote", $"debian-11-cis@{v2.Version}", "--to", "dev");

        var result = await RunAsync(
            "alice",
            "revoke",
            $"debian-11-cis@{v2.Version}",
            "--reason",
            "broken sshd"
        );
        var gc = await RunAsync("alice", "gc", "--keep", "1");

        result.ExitCode.ShouldBe(0, result.ToString());
        result.Out.ShouldContain($"dev: rolled back {v2.Version} -> {v1.Version}");
        result.Out.ShouldContain("deprecated local: marked revoked in dev");
        gc.ExitCode.ShouldBe(0, gc.ToString());
        gc.Out.ShouldContain("dry run:");
    }

    public void Dispose() => _dir.Dispose();

    private Task<CliResult> RunAsync(string actor, params string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            new Dictionary<string, string> { ["IMAGEFORGE_ACTOR"] = actor },
            CancellationToken.None,
            [.. args, "--data-dir", DataDir]
        );

    // Everything a refused command must leave alone: channels, promotions, approvals, statuses, the audit trail.
    private async Task<string> SnapshotAsync()
    {
        await using var catalog = await Catalog.OpenAsync(DataDir, TimeProvider.System);
        var channels = await catalog.GetHistoryAsync("debian-11-cis");
        var audit = await catalog.ReadAuditAsync();
        var versions = await catalog.ListVersionsAsync("debian-11-cis");
        return $"{channels.Count}|{audit.Count}|{string.Join(",", versions.Select(x => x.Status))}|"
            + $"{Directory.Exists(Path.Combine(DataDir, "registry"))}";
    }
}
