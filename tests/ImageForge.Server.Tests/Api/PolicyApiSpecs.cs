using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ImageForge.Application.Access;
using ImageForge.Application.Views;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Api;

/// <summary>
/// <c>POST /api/policy/check</c> over the repository's shipped policies and their fixture plans: the command line's
/// report, for builders and above, audited with the plan's digest, and a refusal published as <c>policy.denied</c>.
/// </summary>
public sealed class PolicyApiSpecs(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static readonly string Fixtures = Path.Combine(
        RepoPaths.Root,
        "policies",
        "tests",
        "storage-encrypted"
    );

    private static string Unencrypted =>
        Path.Combine(Fixtures, "aws-bucket-without-encryption-config.plan.json");

    private static string Encrypted =>
        Path.Combine(Fixtures, "aws-count-conditional-encryption-enabled.plan.json");

    [Theory(Timeout = 60_000)]
    [InlineData("prod", false)]
    [InlineData("dev", true)]
    public async Task An_unencrypted_bucket_is_denied_for_prod_and_passes_dev_with_its_platform_key_and_every_check_is_audited(
        string channel,
        bool allowed
    )
    {
        var actor = $"deployer-{channel}";
        using var client = api.ClientFor(ApiRoles.Builder, actor);
        var plan = await File.ReadAllBytesAsync(Unencrypted);

        using var response = await client.PostAsync(Check(channel), Body(plan));
        var report = await JsonAsync(response);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, report.ToString());
        report.GetProperty("allowed").GetBoolean().ShouldBe(allowed);
        report.GetProperty("channel").GetString().ShouldBe(channel);
        var findings = report.GetProperty("findings").EnumerateArray().ToList();
        // dev's binding names the platform key, which a bucket without its own configuration uses.
        findings.Count.ShouldBe(allowed ? 0 : 1);
        if (!allowed)
        {
            findings[0].GetProperty("effect").GetString().ShouldBe("deny");
            var finding = findings[0].GetProperty("finding");
            finding.GetProperty("rule").GetString().ShouldBe("storage-encrypted");
            finding.GetProperty("address").GetString().ShouldBe("aws_s3_bucket.data");
        }

        var audit = (await AuditAsync(client)).Single(e =>
            e.GetProperty("actor").GetString() == actor
        );
        audit.GetProperty("channel").GetString().ShouldBe(channel);
        audit.GetProperty("role").GetString().ShouldBe(ApiRoles.Builder);
        using var details = JsonDocument.Parse(audit.GetProperty("details").GetString()!);
        details.RootElement.GetProperty("allowed").GetBoolean().ShouldBe(allowed);
        details.RootElement.GetProperty("plan_sha256").GetString().ShouldBe(Sha256(plan));
        details
            .RootElement.GetProperty("denied")
            .EnumerateArray()
            .Select(d => d.GetString())
            .ShouldBe(allowed ? [] : ["storage-encrypted aws_s3_bucket.data"]);

        var published = api.Events.Published.Where(e =>
            e.Type == WorkerEventTypes.PolicyDenied
            && Data(e.Data).GetProperty("actor").GetString() == actor
        );
        if (allowed)
        {
            published.ShouldBeEmpty();
            return;
        }
        var data = Data(published.ShouldHaveSingleItem().Data);
        data.GetProperty("channel").GetString().ShouldBe("prod");
        data.GetProperty("plan_sha256").GetString().ShouldBe(Sha256(plan));
        var denied = data.GetProperty("denied").EnumerateArray().ShouldHaveSingleItem();
        denied.GetProperty("rule").GetString().ShouldBe("storage-encrypted");
        denied.GetProperty("address").GetString().ShouldBe("aws_s3_bucket.data");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_plan_that_passes_is_allowed_and_publishes_nothing()
    {
        using var client = api.ClientFor(ApiRoles.ReleaseManager, "passing-deployer");

        using var response = await client.PostAsync(
            Check("prod"),
            Body(await File.ReadAllBytesAsync(Encrypted))
        );
        var report = await JsonAsync(response);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, report.ToString());
        report.GetProperty("allowed").GetBoolean().ShouldBeTrue();
        report.GetProperty("passed").GetInt32().ShouldBe(1);
        api.Events.Published.ShouldNotContain(e =>
            e.Type == WorkerEventTypes.PolicyDenied
            && Data(e.Data).GetProperty("actor").GetString() == "passing-deployer"
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task A_viewer_is_refused_and_nothing_is_audited()
    {
        using var client = api.ClientFor(ApiRoles.Viewer, "curious-viewer");

        using var response = await client.PostAsync(
            Check("prod"),
            Body(await File.ReadAllBytesAsync(Unencrypted))
        );

        await ApiAssert.ProblemAsync(response, 403);
        (await AuditAsync(client)).ShouldNotContain(e =>
            e.GetProperty("actor").GetString() == "curious-viewer"
        );
    }

    [Theory(Timeout = 60_000)]
    [InlineData("[]", "request body: $: expected a Terraform JSON plan")]
    [InlineData(
        "{\"format_version\": \"1.2\", \"resource_changes\": [{}]}",
        "request body: $.resource_changes[0]"
    )]
    [InlineData("{\"format_version\": ", "request body")]
    public async Task A_body_that_is_not_a_plan_is_a_400_naming_where(string body, string expected)
    {
        using var client = api.ClientFor(ApiRoles.Builder, "sloppy-deployer");

        using var response = await client.PostAsync(
            Check("prod"),
            Body(Encoding.UTF8.GetBytes(body))
        );

        var problem = await ApiAssert.ProblemAsync(response, 400);
        problem.GetRawText().ShouldContain(expected);
        (await AuditAsync(client)).ShouldNotContain(e =>
            e.GetProperty("actor").GetString() == "sloppy-deployer"
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task A_bad_channel_is_a_400_naming_the_field()
    {
        using var client = api.ClientFor(ApiRoles.Builder);

        using var response = await client.PostAsync(
            Check("Not A Channel"),
            Body(await File.ReadAllBytesAsync(Encrypted))
        );

        var problem = await ApiAssert.ProblemAsync(response, 400);
        problem
            .GetProperty("errors")
            .TryGetProperty("channel", out _)
            .ShouldBeTrue(problem.ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_plan_over_the_APIs_1_MiB_is_read_and_one_over_32_MiB_is_a_413()
    {
        using var client = api.ClientFor(ApiRoles.Builder);
        var plan = await File.ReadAllBytesAsync(Encrypted);
        // JSON allows any amount of whitespace after the value: the same plan, 3 MiB long.
        var padded = plan.Concat(Enumerable.Repeat((byte)' ', 3 * 1024 * 1024)).ToArray();
        var tooLarge = plan.Concat(Enumerable.Repeat((byte)' ', 33 * 1024 * 1024)).ToArray();

        using var read = await client.PostAsync(Check("prod"), Body(padded));
        using var refused = await client.PostAsync(Check("prod"), Body(tooLarge));

        (await JsonAsync(read)).GetProperty("allowed").GetBoolean().ShouldBeTrue();
        var problem = await ApiAssert.ProblemAsync(refused, 413);
        problem
            .GetProperty("detail")
            .GetString()!
            .ShouldContain($"larger than {32 * 1024 * 1024} bytes");
    }

    private static string Check(string channel) =>
        $"/api/policy/check?channel={Uri.EscapeDataString(channel)}";

    private static ByteArrayContent Body(byte[] plan)
    {
        var content = new ByteArrayContent(plan);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static async Task<List<JsonElement>> AuditAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/audit");
        return
        [
            .. (await JsonAsync(response))
                .EnumerateArray()
                .Where(e => e.GetProperty("action").GetString() == "policy-check"),
        ];
    }

    private static JsonElement Data(object data) =>
        JsonSerializer.SerializeToElement(data, data.GetType(), ImageForgeJson.Compact);
}
