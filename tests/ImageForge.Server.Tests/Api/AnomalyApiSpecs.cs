using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImageForge.Application.Access;
using ImageForge.Core.Anomalies;
using ImageForge.Core.Builds;
using ImageForge.Server.Api;
using ImageForge.Server.Tests.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;
using static ImageForge.TestSupport.AnomalyReports;

namespace ImageForge.Server.Tests.Api;

/// <summary>
/// A version's anomalies over HTTP (the CLI's JSON shape) and their acknowledgement by a release manager, audited as
/// the command line audits it. Each spec uses its own image.
/// </summary>
public sealed class AnomalyApiSpecs(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact(Timeout = 60_000)]
    public async Task A_viewer_sees_the_anomalies_in_the_CLI_s_shape_each_unacknowledged()
    {
        var v = await AddVersionAsync("anomalies-shown");
        using var viewer = api.ClientFor(ApiRoles.Viewer);

        var body = await ApiAssert.JsonAsync(
            await viewer.GetAsync(Anomalies(v)),
            HttpStatusCode.OK
        );

        body.EnumerateObject()
            .Select(p => p.Name)
            .ShouldBe([
                "format",
                "image",
                "version",
                "target",
                "compared_with",
                "parent_change",
                "anomalies",
            ]);
        body.GetProperty("format").GetString().ShouldBe(AnomalyReport.FormatName);
        var anomalies = body.GetProperty("anomalies").EnumerateArray().ToList();
        anomalies.Select(a => a.GetProperty("id").GetString()).ShouldBe([Setuid.Id, Unit.Id]);
        anomalies[0].GetProperty("severity").GetString().ShouldBe("high");
        anomalies[0].GetProperty("detector").GetString().ShouldBe("first_seen");
        anomalies[0].GetProperty("raised").GetBoolean().ShouldBeTrue();
        anomalies[1].GetProperty("raised").GetBoolean().ShouldBeFalse();
        anomalies[1].GetProperty("suppressed_by").GetString().ShouldBe(Unit.SuppressedBy);
        anomalies.ShouldAllBe(a => !a.GetProperty("acknowledged").GetBoolean());
        anomalies.ShouldAllBe(a =>
            a.GetProperty("acknowledgement").ValueKind == JsonValueKind.Null
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task A_release_manager_s_acknowledgement_is_audited_and_shown_on_the_next_read()
    {
        var v = await AddVersionAsync("anomalies-acked");
        using var manager = api.ClientFor(ApiRoles.ReleaseManager, "rita");

        using var ack = await manager.PostAsJsonAsync(
            Ack(v, Setuid.Id),
            new { reason = "the extra tool is approved in CHG-7" }
        );
        var acked = await ApiAssert.JsonAsync(ack, HttpStatusCode.OK);
        var after = await ApiAssert.JsonAsync(
            await manager.GetAsync(Anomalies(v)),
            HttpStatusCode.OK
        );
        var audit = await ApiAssert.JsonAsync(
            await manager.GetAsync($"/api/audit?image={v.Image}"),
            HttpStatusCode.OK
        );

        acked.GetProperty("anomaly_id").GetString().ShouldBe(Setuid.Id);
        acked.GetProperty("actor").GetString().ShouldBe("rita");
        var shown = after.GetProperty("anomalies")[0];
        shown.GetProperty("acknowledged").GetBoolean().ShouldBeTrue();
        var by = shown.GetProperty("acknowledgement");
        by.GetProperty("actor").GetString().ShouldBe("rita");
        by.GetProperty("role").GetString().ShouldBe(ApiRoles.ReleaseManager);
        by.GetProperty("reason").GetString().ShouldBe("the extra tool is approved in CHG-7");
        after.GetProperty("anomalies")[1].GetProperty("acknowledged").GetBoolean().ShouldBeFalse();
        var entry = audit
            .EnumerateArray()
            .Single(e => e.GetProperty("action").GetString() == "acknowledge-anomaly");
        entry.GetProperty("actor").GetString().ShouldBe("rita");
        entry.GetProperty("version").GetString().ShouldBe(v.Version);
        entry.GetProperty("reason").GetString().ShouldBe("the extra tool is approved in CHG-7");
        entry.ToString().ShouldContain(Setuid.Id);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(ApiRoles.Viewer)]
    [InlineData(ApiRoles.Builder)]
    public async Task A_role_below_release_manager_may_not_acknowledge_and_the_403_names_the_role(
        string role
    )
    {
        var v = await AddVersionAsync($"anomalies-{role}");
        using var client = api.ClientFor(role);

        using var refused = await client.PostAsJsonAsync(
            Ack(v, Setuid.Id),
            new { reason = "looks fine" }
        );
        var problem = await ApiAssert.ProblemAsync(refused, StatusCodes.Status403Forbidden);
        var after = await ApiAssert.JsonAsync(
            await client.GetAsync(Anomalies(v)),
            HttpStatusCode.OK
        );

        problem.GetProperty("required_role").GetString().ShouldBe(ApiRoles.ReleaseManager);
        after.GetProperty("anomalies")[0].GetProperty("acknowledged").GetBoolean().ShouldBeFalse();
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_image_version_or_anomaly_id_is_404_naming_what_to_list()
    {
        var v = await AddVersionAsync("anomalies-unknown");
        var bare = await api.AddVersionAsync("anomalies-none");
        using var manager = api.ClientFor(ApiRoles.ReleaseManager);

        var image = await ApiAssert.ProblemAsync(
            await manager.GetAsync("/api/images/no-such-image/versions/2026.01.01.1/anomalies"),
            StatusCodes.Status404NotFound
        );
        var version = await ApiAssert.ProblemAsync(
            await manager.GetAsync($"/api/images/{v.Image}/versions/2020.01.01.9/anomalies"),
            StatusCodes.Status404NotFound
        );
        var none = await ApiAssert.ProblemAsync(
            await manager.GetAsync(Anomalies(bare)),
            StatusCodes.Status404NotFound
        );
        var id = await ApiAssert.ProblemAsync(
            await manager.PostAsJsonAsync(Ack(v, "setuid_file-00000000"), new { reason = "r" }),
            StatusCodes.Status404NotFound
        );

        image.GetProperty("detail").GetString()!.ShouldContain("no-such-image has no version");
        version.GetProperty("detail").GetString()!.ShouldContain("has no version 2020.01.01.9");
        none.GetProperty("detail").GetString()!.ShouldContain("has no anomaly report");
        id.GetProperty("detail")
            .GetString()!
            .ShouldContain($"has no anomaly setuid_file-00000000; GET {Anomalies(v)} lists");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_or_too_long_reason_and_an_anomaly_that_is_not_raised_are_400_and_record_nothing()
    {
        var v = await AddVersionAsync("anomalies-bad-input");
        using var manager = api.ClientFor(ApiRoles.ReleaseManager);

        var missing = await ApiAssert.ProblemAsync(
            await manager.PostAsJsonAsync(Ack(v, Setuid.Id), new { }),
            StatusCodes.Status400BadRequest
        );
        var tooLong = await ApiAssert.ProblemAsync(
            await manager.PostAsJsonAsync(
                Ack(v, Setuid.Id),
                new { reason = new string('x', 1001) }
            ),
            StatusCodes.Status400BadRequest
        );
        var expected = await ApiAssert.ProblemAsync(
            await manager.PostAsJsonAsync(Ack(v, Unit.Id), new { reason = "r" }),
            StatusCodes.Status400BadRequest
        );
        var after = await ApiAssert.JsonAsync(
            await manager.GetAsync(Anomalies(v)),
            HttpStatusCode.OK
        );

        missing
            .GetProperty("errors")
            .GetProperty("reason")[0]
            .GetString()
            .ShouldStartWith("required");
        tooLong.GetProperty("errors").GetProperty("reason")[0].GetString()!.ShouldContain("1000");
        expected
            .GetProperty("detail")
            .GetString()!
            .ShouldContain($"its raised anomalies are {Setuid.Id}");
        after
            .GetProperty("anomalies")
            .EnumerateArray()
            .ShouldAllBe(a => !a.GetProperty("acknowledged").GetBoolean());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_stored_report_that_is_not_a_report_is_a_500_naming_the_version_the_file_and_the_JSON_path_and_logged_as_an_error()
    {
        var v = await api.AddVersionAsync(
            "anomalies-malformed",
            (
                AnomalyReport.Kind,
                AnomalyReport.MediaType,
                Report("anomalies-malformed", Setuid).Replace("\"high\"", "\"severe\"")
            )
        );
        // The same API and catalog, with the exception handler's log kept.
        var log = new ListLogger<ApiExceptionHandler>();
        using var logged = api.WithWebHostBuilder(web =>
            web.ConfigureServices(services =>
                services.AddSingleton<ILogger<ApiExceptionHandler>>(log)
            )
        );
        using var viewer = logged.CreateClient();
        viewer.DefaultRequestHeaders.Authorization = new(
            "Bearer",
            api.CreateToken(ApiRoles.Viewer).Secret
        );

        var problem = await ApiAssert.ProblemAsync(
            await viewer.GetAsync(Anomalies(v)),
            StatusCodes.Status500InternalServerError
        );

        var detail = problem.GetProperty("detail").GetString()!;
        detail.ShouldContain(
            $"the anomalies evidence of anomalies-malformed@{v.Version} is unreadable"
        );
        detail.ShouldContain(v.Evidence.Single(e => e.Kind == AnomalyReport.Kind).Location);
        detail.ShouldContain("$.anomalies[0].severity");
        log.Entries.ShouldContain(e =>
            e.Level == LogLevel.Error && e.Text.Contains(detail, StringComparison.Ordinal)
        );
    }

    private Task<ImageVersion> AddVersionAsync(string image) =>
        api.AddVersionAsync(
            image,
            (AnomalyReport.Kind, AnomalyReport.MediaType, Report(image, Setuid, Unit))
        );

    private static string Anomalies(ImageVersion v) =>
        $"/api/images/{v.Image}/versions/{v.Version}/anomalies";

    private static string Ack(ImageVersion v, string id) => $"{Anomalies(v)}/{id}/ack";
}
