using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using ImageForge.Application.Access;
using ImageForge.Application.Views;
using ImageForge.Cli.Tests.Promotion;
using ImageForge.Core.Builds;
using ImageForge.Signing;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Api;

/// <summary>
/// Promotion over HTTP: the same operations as the command line, acted by the token's name with its role, audited,
/// and published as webhook events. Each spec has its own API (its own catalog): they all move debian-11-cis, the
/// image the repository defines.
/// </summary>
public sealed class PromotionApiSpecs
{
    private const string Image = "debian-11-cis";

    [Fact(Timeout = 60_000)]
    public async Task A_viewer_cannot_promote_a_release_manager_can_and_the_audit_trail_names_the_token()
    {
        await using var api = new ApiFactory();
        var v = await RecordSignedVersionAsync(api);
        using var viewer = api.ClientFor(ApiRoles.Viewer, "vera");
        using var manager = api.ClientFor(ApiRoles.ReleaseManager, "rita");

        using var refused = await viewer.PostAsJsonAsync(Promote(v), new { channel = "dev" });
        var before = await ChannelsAsync(viewer);
        using var promoted = await manager.PostAsJsonAsync(Promote(v), new { channel = "dev" });
        var body = await JsonAsync(promoted);
        var after = await ChannelsAsync(viewer);
        var audit = await JsonAsync(await viewer.GetAsync($"/api/audit?image={Image}"));

        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        before[0].GetProperty("version").ValueKind.ShouldBe(JsonValueKind.Null);
        promoted.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        body.GetProperty("status").GetString().ShouldBe("promoted");
        body.GetProperty("steps")[0].GetProperty("status").GetString().ShouldBe("succeeded");
        after[0].GetProperty("channel").GetString().ShouldBe("dev");
        after[0].GetProperty("version").GetString().ShouldBe(v.Version);
        var promote = audit
            .EnumerateArray()
            .Single(e => e.GetProperty("action").GetString() == "promote");
        promote.GetProperty("actor").GetString().ShouldBe("rita");
        promote.GetProperty("role").GetString().ShouldBe("release-manager");
        promote.GetProperty("channel").GetString().ShouldBe("dev");
        var (type, data) = api.Events.Published.ShouldHaveSingleItem();
        type.ShouldBe(WorkerEventTypes.Promoted);
        var published = Data(data);
        published.GetProperty("image").GetString().ShouldBe(Image);
        published.GetProperty("version").GetString().ShouldBe(v.Version);
        published.GetProperty("channel").GetString().ShouldBe("dev");
        published.GetProperty("actor").GetString().ShouldBe("rita");
        var step = published.GetProperty("steps").EnumerateArray().ShouldHaveSingleItem();
        step.GetProperty("target").GetString().ShouldBe("local");
        step.GetProperty("status").GetString().ShouldBe("succeeded");
        step.GetProperty("ran_now").GetBoolean().ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_builder_follows_the_command_lines_rules_unrestricted_channels_yes_the_restricted_one_no()
    {
        await using var api = new ApiFactory();
        var v = await RecordSignedVersionAsync(api);
        using var builder = api.ClientFor(ApiRoles.Builder, "bob");

        using var dev = await builder.PostAsJsonAsync(Promote(v), new { channel = "dev" });
        using var staging = await builder.PostAsJsonAsync(Promote(v), new { channel = "staging" });
        using var prod = await builder.PostAsJsonAsync(Promote(v), new { channel = "prod" });
        using var rollback = await builder.PostAsJsonAsync(
            $"/api/images/{Image}/channels/prod/rollback",
            new { }
        );

        dev.StatusCode.ShouldBe(HttpStatusCode.OK, await dev.Content.ReadAsStringAsync());
        staging.StatusCode.ShouldBe(HttpStatusCode.OK, await staging.Content.ReadAsStringAsync());
        // prod is restricted (the default: the last channel of the path) to release managers, and says so.
        var refusal = await prod.Content.ReadAsStringAsync();
        prod.StatusCode.ShouldBe(HttpStatusCode.Forbidden, refusal);
        refusal.ShouldContain(
            "prod is restricted to release managers; bob is builder",
            Case.Sensitive,
            refusal
        );
        rollback.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact(Timeout = 60_000)]
    public async Task Skipping_a_channel_is_refused_for_a_release_manager_and_allowed_for_an_admin_with_a_reason()
    {
        await using var api = new ApiFactory();
        var v = await RecordSignedVersionAsync(api);
        using var manager = api.ClientFor(ApiRoles.ReleaseManager, "rita");
        using var admin = api.ClientFor(ApiRoles.Admin, "ada");

        using var unskipped = await manager.PostAsJsonAsync(
            Promote(v),
            new { channel = "staging" }
        );
        using var skippedByManager = await manager.PostAsJsonAsync(
            Promote(v),
            new { channel = "staging", skip_reason = "hotfix" }
        );
        var refusal = await JsonAsync(skippedByManager);
        using var skippedByAdmin = await admin.PostAsJsonAsync(
            Promote(v),
            new { channel = "staging", skip_reason = "hotfix for an outage" }
        );
        var audit = await JsonAsync(await admin.GetAsync($"/api/audit?image={Image}"));

        unskipped.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await JsonAsync(unskipped))
            .GetProperty("reasons")[0]
            .GetString()!
            .ShouldContain("has never been in dev, the channel before staging");
        skippedByManager.StatusCode.ShouldBe(HttpStatusCode.Forbidden, refusal.ToString());
        refusal.GetProperty("reasons")[0].GetString()!.ShouldContain("only an admin may skip dev");
        skippedByAdmin.StatusCode.ShouldBe(HttpStatusCode.OK);
        var promote = audit
            .EnumerateArray()
            .Single(e => e.GetProperty("action").GetString() == "promote");
        promote.GetProperty("actor").GetString().ShouldBe("ada");
        promote.GetProperty("role").GetString().ShouldBe("admin");
        promote.GetProperty("channel").GetString().ShouldBe("staging");
        promote.GetProperty("reason").GetString().ShouldBe("hotfix for an outage");
        api.Events.Published.ShouldHaveSingleItem().Type.ShouldBe(WorkerEventTypes.Promoted);
    }

    [Fact(Timeout = 60_000)]
    public async Task Rollback_over_HTTP_moves_the_channel_back_and_publishes_rolled_back()
    {
        await using var api = new ApiFactory();
        var v1 = await RecordSignedVersionAsync(api);
        var v2 = await RecordSignedVersionAsync(api);
        using var manager = api.ClientFor(ApiRoles.ReleaseManager, "rita");
        (
            await manager.PostAsJsonAsync(Promote(v1), new { channel = "dev" })
        ).EnsureSuccessStatusCode();
        (
            await manager.PostAsJsonAsync(Promote(v2), new { channel = "dev" })
        ).EnsureSuccessStatusCode();

        using var response = await manager.PostAsJsonAsync(
            $"/api/images/{Image}/channels/dev/rollback",
            new { reason = "sshd broken" }
        );
        var moved = await JsonAsync(response);
        using var again = await manager.PostAsJsonAsync(
            $"/api/images/{Image}/channels/dev/rollback",
            new { to = v1.Version }
        );
        var channels = await ChannelsAsync(manager);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, moved.ToString());
        moved.GetProperty("channel").GetString().ShouldBe("dev");
        moved.GetProperty("version").GetString().ShouldBe(v1.Version);
        moved.GetProperty("previous_version").GetString().ShouldBe(v2.Version);
        moved.GetProperty("action").GetString().ShouldBe("rollback");
        moved.GetProperty("actor").GetString().ShouldBe("rita");
        again.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await JsonAsync(again))
            .GetProperty("detail")
            .GetString()!
            .ShouldContain("already points at");
        channels[0].GetProperty("version").GetString().ShouldBe(v1.Version);
        var (type, data) = api.Events.Published[^1];
        type.ShouldBe(WorkerEventTypes.RolledBack);
        Data(data).GetProperty("version").GetString().ShouldBe(v1.Version);
        Data(data).GetProperty("previous_version").GetString().ShouldBe(v2.Version);
        Data(data).GetProperty("actor").GetString().ShouldBe("rita");
    }

    [Fact(Timeout = 60_000)]
    public async Task Revoke_over_HTTP_rolls_the_channel_back_deprecates_and_publishes_revoked()
    {
        await using var api = new ApiFactory();
        var v1 = await RecordSignedVersionAsync(api);
        var v2 = await RecordSignedVersionAsync(api);
        using var manager = api.ClientFor(ApiRoles.ReleaseManager, "rita");
        using var builder = api.ClientFor(ApiRoles.Builder, "bob");
        (
            await manager.PostAsJsonAsync(Promote(v1), new { channel = "dev" })
        ).EnsureSuccessStatusCode();
        (
            await manager.PostAsJsonAsync(Promote(v2), new { channel = "dev" })
        ).EnsureSuccessStatusCode();

        using var byBuilder = await builder.PostAsJsonAsync(
            Revoke(v2),
            new { reason = "broken sshd" }
        );
        using var withoutReason = await manager.PostAsJsonAsync(Revoke(v2), new { });
        using var response = await manager.PostAsJsonAsync(
            Revoke(v2),
            new { reason = "broken sshd" }
        );
        var revoked = await JsonAsync(response);
        var audit = await JsonAsync(await manager.GetAsync($"/api/audit?image={Image}"));

        byBuilder.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        withoutReason.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, revoked.ToString());
        revoked.GetProperty("status").GetString().ShouldBe("revoked");
        var move = revoked.GetProperty("channels")[0];
        move.GetProperty("channel").GetString().ShouldBe("dev");
        move.GetProperty("from").GetString().ShouldBe(v2.Version);
        move.GetProperty("to").GetString().ShouldBe(v1.Version);
        revoked.GetProperty("deprecations")[0].GetProperty("succeeded").GetBoolean().ShouldBeTrue();
        var revoke = audit
            .EnumerateArray()
            .Single(e => e.GetProperty("action").GetString() == "revoke");
        revoke.GetProperty("actor").GetString().ShouldBe("rita");
        revoke.GetProperty("reason").GetString().ShouldBe("broken sshd");
        var (type, data) = api.Events.Published[^1];
        type.ShouldBe(WorkerEventTypes.Revoked);
        Data(data).GetProperty("version").GetString().ShouldBe(v2.Version);
        Data(data).GetProperty("reason").GetString().ShouldBe("broken sshd");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_version_signed_by_an_untrusted_key_is_refused_naming_its_fingerprint_until_the_key_is_trusted()
    {
        await using var api = new ApiFactory();
        using var keys = new TempDirectory();
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forgerKey = keys.Combine("forger.pem");
        var forgerPublic = keys.Combine("forger.pub.pem");
        await File.WriteAllTextAsync(forgerKey, forger.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(forgerPublic, forger.ExportSubjectPublicKeyInfoPem());
        var fingerprint = TrustStore.Fingerprint(forger.ExportSubjectPublicKeyInfoPem());
        var v = await SignedVersions.RecordAsync(
            api.Data.Root,
            api.Time,
            signingKey: $"file:{forgerKey}"
        );
        using var manager = api.ClientFor(ApiRoles.ReleaseManager, "rita");
        var admit = new { provider = "local", image_id = "sha256:" + v.Artifacts[0].Sha256 };

        using var refused = await manager.PostAsJsonAsync(Promote(v), new { channel = "dev" });
        var refusal = await JsonAsync(refused);
        TrustStore.Open(null, api.Data.Root, api.Data.Root).Add(forgerPublic);
        using var promoted = await manager.PostAsJsonAsync(Promote(v), new { channel = "dev" });
        var admitted = await JsonAsync(await manager.PostAsJsonAsync("/api/admit", admit));
        TrustStore.Open(null, api.Data.Root, api.Data.Root).Remove(fingerprint);
        var notAdmitted = await JsonAsync(await manager.PostAsJsonAsync("/api/admit", admit));

        refused.StatusCode.ShouldBe(HttpStatusCode.Conflict, refusal.ToString());
        refusal
            .GetProperty("reasons")
            .EnumerateArray()
            .ShouldContain(
                r => r.GetString()!.Contains($"signed with the key {fingerprint}"),
                refusal.ToString()
            );
        promoted.StatusCode.ShouldBe(HttpStatusCode.OK);
        admitted.GetProperty("admitted").GetBoolean().ShouldBeTrue(admitted.ToString());
        notAdmitted.GetProperty("admitted").GetBoolean().ShouldBeFalse();
        notAdmitted
            .GetProperty("images")[0]
            .GetProperty("reasons")[0]
            .GetString()!
            .ShouldContain($"signed with the key {fingerprint}");
    }

    [Fact(Timeout = 60_000)]
    public async Task Approvals_count_toward_a_channel_and_a_viewer_may_ask_whether_an_image_is_admitted()
    {
        await using var api = new ApiFactory();
        var v = await RecordSignedVersionAsync(api);
        using var manager = api.ClientFor(ApiRoles.ReleaseManager, "rita");
        using var viewer = api.ClientFor(ApiRoles.Viewer, "vera");
        var digest = "sha256:" + v.Artifacts[0].Sha256;

        using var approve = await manager.PostAsJsonAsync(
            $"/api/images/{Image}/versions/{v.Version}/approve",
            new { channel = "prod", reason = "reviewed" }
        );
        var approval = await JsonAsync(approve);
        var notYet = await JsonAsync(
            await viewer.PostAsJsonAsync(
                "/api/admit",
                new
                {
                    provider = "local",
                    image_id = digest,
                    channel = "dev",
                }
            )
        );
        (
            await manager.PostAsJsonAsync(Promote(v), new { channel = "dev" })
        ).EnsureSuccessStatusCode();
        using var admit = await viewer.PostAsJsonAsync(
            "/api/admit",
            new
            {
                provider = "local",
                image_id = digest,
                channel = "dev",
            }
        );
        var admitted = await JsonAsync(admit);
        using var badProvider = await viewer.PostAsJsonAsync(
            "/api/admit",
            new { provider = "vmware", image_id = digest }
        );

        approve.StatusCode.ShouldBe(HttpStatusCode.OK, approval.ToString());
        approval.GetProperty("actor").GetString().ShouldBe("rita");
        approval.GetProperty("approvals").GetInt32().ShouldBe(1);
        notYet.GetProperty("admitted").GetBoolean().ShouldBeFalse();
        notYet
            .GetProperty("images")[0]
            .GetProperty("reasons")[0]
            .GetString()!
            .ShouldContain("is not what dev points at");
        admit.StatusCode.ShouldBe(HttpStatusCode.OK, admitted.ToString());
        admitted.GetProperty("admitted").GetBoolean().ShouldBeTrue();
        admitted
            .GetProperty("images")[0]
            .GetProperty("version")
            .GetString()
            .ShouldBe($"{Image}@{v.Version}");
        badProvider.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_rejection_refuses_the_promotion_with_409_and_the_requesters_own_approval_is_409_under_four_eyes()
    {
        await using var api = new ApiFactory();
        var v = await RecordSignedVersionAsync(api);
        using var manager = api.ClientFor(ApiRoles.ReleaseManager, "rita");
        using var requester = api.ClientFor(ApiRoles.ReleaseManager, SignedVersions.Requester);
        using var builder = api.ClientFor(ApiRoles.Builder, "bob");
        var reject = $"/api/images/{Image}/versions/{v.Version}/reject";

        using var own = await requester.PostAsJsonAsync(
            $"/api/images/{Image}/versions/{v.Version}/approve",
            new { channel = "prod" }
        );
        var ownProblem = await JsonAsync(own);
        using var noReason = await manager.PostAsJsonAsync(reject, new { channel = "prod" });
        using var byBuilder = await builder.PostAsJsonAsync(
            reject,
            new { channel = "prod", reason = "no" }
        );
        using var rejected = await manager.PostAsJsonAsync(
            reject,
            new { channel = "prod", reason = "CVE-2026-0001" }
        );
        var rejection = await JsonAsync(rejected);
        using var admin = api.ClientFor(ApiRoles.Admin, "root");
        using var promote = await admin.PostAsJsonAsync(
            Promote(v),
            new { channel = "prod", skip_reason = "hotfix" }
        );
        var refusal = await JsonAsync(promote);

        own.StatusCode.ShouldBe(HttpStatusCode.Conflict, ownProblem.ToString());
        ownProblem.ToString().ShouldContain("four eyes");
        noReason.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        byBuilder.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        rejected.StatusCode.ShouldBe(HttpStatusCode.OK, rejection.ToString());
        rejection.GetProperty("actor").GetString().ShouldBe("rita");
        rejection.GetProperty("reason").GetString().ShouldBe("CVE-2026-0001");
        promote.StatusCode.ShouldBe(HttpStatusCode.Conflict, refusal.ToString());
        refusal.ToString().ShouldContain("was rejected for prod by rita (release-manager)");
    }

    private static string Promote(ImageVersion v) =>
        $"/api/images/{Image}/versions/{v.Version}/promote";

    private static string Revoke(ImageVersion v) =>
        $"/api/images/{Image}/versions/{v.Version}/revoke";

    private static async Task<List<JsonElement>> ChannelsAsync(HttpClient client)
    {
        var body = await JsonAsync(await client.GetAsync($"/api/images/{Image}/channels"));
        return [.. body.GetProperty("channels").EnumerateArray()];
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text.Length == 0 ? "null" : text);
        return document.RootElement.Clone();
    }

    // The event's data object as a webhook body carries it.
    private static JsonElement Data(object data) =>
        JsonSerializer.SerializeToElement(data, data.GetType(), ImageForgeJson.Compact);

    // A signed version recorded as the pipeline records it (shared with the CLI's promotion specs).
    private static Task<ImageVersion> RecordSignedVersionAsync(ApiFactory api) =>
        SignedVersions.RecordAsync(api.Data.Root, api.Time);
}
