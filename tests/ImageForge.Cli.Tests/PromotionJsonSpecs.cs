using System.Text.Json;
using ImageForge.Cli.Tests.Promotion;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// <c>--output json</c> of promote, approve, rollback, revoke, gc and channels show: one snake_case document on
/// stdout, the same shapes the worker's API answers with, and on a refusal (exit 1) <c>{ error, reasons }</c>.
/// </summary>
public sealed class PromotionJsonSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-promotion-json");

    private string DataDir => _dir.Combine("data");

    [Fact(Timeout = 60_000)]
    public async Task Promote_prints_the_promotion_with_its_steps_and_then_already_current()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);

        var (promote, json) = await JsonAsync("alice", "promote", Ref(v.Version), "--to", "dev");
        var (again, second) = await JsonAsync("alice", "promote", Ref(v.Version), "--to", "dev");

        promote.ExitCode.ShouldBe(0, promote.ToString());
        json.GetProperty("image").GetString().ShouldBe("debian-11-cis");
        json.GetProperty("version").GetString().ShouldBe(v.Version);
        json.GetProperty("channel").GetString().ShouldBe("dev");
        json.GetProperty("status").GetString().ShouldBe("promoted");
        json.GetProperty("promotion_id").GetInt64().ShouldBeGreaterThan(0);
        json.GetProperty("previous_version").ValueKind.ShouldBe(JsonValueKind.Null);
        var step = json.GetProperty("steps").EnumerateArray().ShouldHaveSingleItem();
        step.GetProperty("target").GetString().ShouldBe("local");
        step.GetProperty("region").GetString().ShouldBe("local");
        step.GetProperty("status").GetString().ShouldBe("succeeded");
        step.GetProperty("attempts").GetInt32().ShouldBe(1);
        step.GetProperty("ran_now").GetBoolean().ShouldBeTrue();
        json.GetProperty("refusals").GetArrayLength().ShouldBe(0);
        again.ExitCode.ShouldBe(0, again.ToString());
        second.GetProperty("status").GetString().ShouldBe("already_current");
        second.GetProperty("promotion_id").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_refused_promotion_exits_1_with_the_error_and_every_reason()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);

        var (result, json) = await JsonAsync("alice", "promote", Ref(v.Version), "--to", "staging");

        result.ExitCode.ShouldBe(1, result.ToString());
        json.GetProperty("error")
            .GetString()
            .ShouldBe(
                $"promotion of debian-11-cis@{v.Version} to staging refused; nothing changed"
            );
        json.GetProperty("reasons")
            .EnumerateArray()
            .ShouldHaveSingleItem()
            .GetString()!
            .ShouldContain("has never been in dev, the channel before staging");
        result.Error.ShouldContain("has never been in dev");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_role_refusal_exits_1_with_the_error_as_json()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        await File.WriteAllTextAsync(
            Path.Combine(DataDir, "roles.yaml"),
            "actors:\n  alice: release-manager\n  bob: builder\n"
        );

        var (result, json) = await JsonAsync("bob", "approve", Ref(v.Version), "--for", "dev");

        result.ExitCode.ShouldBe(1, result.ToString());
        json.GetProperty("error").GetString()!.ShouldContain("bob is builder and cannot approve");
        json.GetProperty("reasons").GetArrayLength().ShouldBe(1);
    }

    [Fact(Timeout = 60_000)]
    public async Task Approve_prints_the_approval_and_the_count()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        await File.WriteAllTextAsync(
            Path.Combine(DataDir, "roles.yaml"),
            "actors:\n  alice: release-manager\n"
        );

        var (result, json) = await JsonAsync(
            "alice",
            "approve",
            Ref(v.Version),
            "--for",
            "prod",
            "--reason",
            "looks good"
        );

        result.ExitCode.ShouldBe(0, result.ToString());
        json.GetProperty("image").GetString().ShouldBe("debian-11-cis");
        json.GetProperty("version").GetString().ShouldBe(v.Version);
        json.GetProperty("channel").GetString().ShouldBe("prod");
        json.GetProperty("actor").GetString().ShouldBe("alice");
        json.GetProperty("role").GetString().ShouldBe("release-manager");
        json.GetProperty("reason").GetString().ShouldBe("looks good");
        json.GetProperty("approvals").GetInt32().ShouldBe(1);
        json.TryGetProperty("at", out _).ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task Rollback_and_revoke_print_where_the_channel_went()
    {
        var v1 = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        var v2 = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        await RunAsync("alice", "promote", Ref(v1.Version), "--to", "dev");
        await RunAsync("alice", "promote", Ref(v2.Version), "--to", "dev");

        var (rollback, moved) = await JsonAsync(
            "alice",
            "rollback",
            "debian-11-cis",
            "--channel",
            "dev",
            "--reason",
            "bad build"
        );
        await RunAsync("alice", "promote", Ref(v2.Version), "--to", "dev");
        var (revoke, revoked) = await JsonAsync(
            "alice",
            "revoke",
            Ref(v2.Version),
            "--reason",
            "broken sshd"
        );

        rollback.ExitCode.ShouldBe(0, rollback.ToString());
        moved.GetProperty("image").GetString().ShouldBe("debian-11-cis");
        moved.GetProperty("channel").GetString().ShouldBe("dev");
        moved.GetProperty("version").GetString().ShouldBe(v1.Version);
        moved.GetProperty("previous_version").GetString().ShouldBe(v2.Version);
        moved.GetProperty("action").GetString().ShouldBe("rollback");
        moved.GetProperty("actor").GetString().ShouldBe("alice");
        moved.GetProperty("reason").GetString().ShouldBe("bad build");
        revoke.ExitCode.ShouldBe(0, revoke.ToString());
        revoked.GetProperty("status").GetString().ShouldBe("revoked");
        revoked.GetProperty("reason").GetString().ShouldBe("broken sshd");
        var channel = revoked.GetProperty("channels").EnumerateArray().ShouldHaveSingleItem();
        channel.GetProperty("channel").GetString().ShouldBe("dev");
        channel.GetProperty("from").GetString().ShouldBe(v2.Version);
        channel.GetProperty("to").GetString().ShouldBe(v1.Version);
        revoked.GetProperty("flagged").GetArrayLength().ShouldBe(0);
        var deprecation = revoked
            .GetProperty("deprecations")
            .EnumerateArray()
            .ShouldHaveSingleItem();
        deprecation.GetProperty("target").GetString().ShouldBe("local");
        deprecation.GetProperty("succeeded").GetBoolean().ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_revocation_in_the_future_prints_status_scheduled_with_its_time()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);

        var (result, json) = await JsonAsync(
            "alice",
            "revoke",
            Ref(v.Version),
            "--reason",
            "end of support",
            "--at",
            "2999-01-01T00:00Z"
        );

        result.ExitCode.ShouldBe(0, result.ToString());
        json.GetProperty("status").GetString().ShouldBe("scheduled");
        json.GetProperty("effective_at").GetDateTimeOffset().Year.ShouldBe(2999);
        json.GetProperty("channels").GetArrayLength().ShouldBe(0);
        json.GetProperty("deprecations").GetArrayLength().ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task Channels_show_prints_every_channel_of_the_path_and_with_history_every_assignment()
    {
        var v = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        await RunAsync("alice", "promote", Ref(v.Version), "--to", "dev");

        var (plain, channels) = await JsonAsync("alice", "channels", "show", "debian-11-cis");
        var (_, withHistory) = await JsonAsync(
            "alice",
            "channels",
            "show",
            "debian-11-cis",
            "--history"
        );

        plain.ExitCode.ShouldBe(0, plain.ToString());
        channels.GetProperty("image").GetString().ShouldBe("debian-11-cis");
        var list = channels.GetProperty("channels").EnumerateArray().ToList();
        list.Select(c => c.GetProperty("channel").GetString()).ShouldBe(["dev", "staging", "prod"]);
        list[0].GetProperty("version").GetString().ShouldBe(v.Version);
        list[0].GetProperty("since").ValueKind.ShouldBe(JsonValueKind.String);
        list[0].GetProperty("restricted").GetBoolean().ShouldBeFalse();
        list[1].GetProperty("version").ValueKind.ShouldBe(JsonValueKind.Null);
        list[2].GetProperty("restricted").GetBoolean().ShouldBeTrue();
        channels.GetProperty("history").ValueKind.ShouldBe(JsonValueKind.Null);
        var assignment = withHistory.GetProperty("history").EnumerateArray().ShouldHaveSingleItem();
        assignment.GetProperty("channel").GetString().ShouldBe("dev");
        assignment.GetProperty("version").GetString().ShouldBe(v.Version);
        assignment.GetProperty("previous_version").ValueKind.ShouldBe(JsonValueKind.Null);
        assignment.GetProperty("action").GetString().ShouldBe("promote");
        assignment.GetProperty("actor").GetString().ShouldBe("alice");
    }

    [Fact(Timeout = 60_000)]
    public async Task Gc_prints_what_it_keeps_with_why_and_what_it_would_delete()
    {
        var v1 = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        var v2 = await SignedVersions.RecordAsync(DataDir, TimeProvider.System);

        var (result, json) = await JsonAsync("alice", "gc", "--keep", "1", "--window", "0");

        result.ExitCode.ShouldBe(0, result.ToString());
        json.GetProperty("applied").GetBoolean().ShouldBeFalse();
        json.GetProperty("keep").GetInt32().ShouldBe(1);
        json.GetProperty("window_days").GetInt32().ShouldBe(0);
        var kept = json.GetProperty("kept").EnumerateArray().ShouldHaveSingleItem();
        kept.GetProperty("version").GetString().ShouldBe(v2.Version);
        kept.GetProperty("why").GetString().ShouldBe("among the newest 1");
        var removed = json.GetProperty("removed").EnumerateArray().ShouldHaveSingleItem();
        removed.GetProperty("version").GetString().ShouldBe(v1.Version);
        removed.GetProperty("status").GetString().ShouldBe("built");
        json.GetProperty("problems").GetArrayLength().ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task Gc_apply_by_a_non_admin_is_refused_as_json()
    {
        await SignedVersions.RecordAsync(DataDir, TimeProvider.System);
        await File.WriteAllTextAsync(
            Path.Combine(DataDir, "roles.yaml"),
            "actors:\n  alice: release-manager\n"
        );

        var (result, json) = await JsonAsync("alice", "gc", "--apply");

        result.ExitCode.ShouldBe(1, result.ToString());
        json.GetProperty("error").GetString()!.ShouldContain("cannot gc --apply");
    }

    public void Dispose() => _dir.Dispose();

    private static string Ref(string version) => $"debian-11-cis@{version}";

    private Task<CliResult> RunAsync(string actor, params string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            new Dictionary<string, string> { ["IMAGEFORGE_ACTOR"] = actor },
            CancellationToken.None,
            [.. args, "--data-dir", DataDir]
        );

    // Runs with --output json; stdout must be exactly one JSON document.
    private async Task<(CliResult Result, JsonElement Json)> JsonAsync(
        string actor,
        params string[] args
    )
    {
        var result = await RunAsync(actor, [.. args, "--output", "json"]);
        result.Out.ShouldNotBeNullOrWhiteSpace(result.ToString());
        using var document = JsonDocument.Parse(result.Out);
        return (result, document.RootElement.Clone());
    }
}
