using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImageForge.Application.Access;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Worker;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Api;

/// <summary>/api/builds: queueing, validation, listing, cancelling and logs.</summary>
public sealed class BuildApiSpecs(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Queueing_a_build_answers_202_with_its_location_and_records_the_token_as_requester()
    {
        using var client = api.ClientFor(ApiRoles.Builder, "ci-bot");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/builds")
        {
            Content = JsonContent.Create(
                new
                {
                    image = "queue-web",
                    target = "local",
                    reason = "nightly patch",
                }
            ),
        };
        request.Headers.Add("Idempotency-Key", "key-queue-web-1");

        using var response = await client.SendAsync(request);

        var body = await ApiAssert.JsonAsync(response, HttpStatusCode.Accepted);
        var id = body.GetProperty("build").GetProperty("id").GetString();
        response.Headers.Location!.ToString().ShouldBe($"/api/builds/{id}");
        body.GetProperty("joined").GetBoolean().ShouldBeFalse();
        body.GetProperty("build").GetProperty("status").GetString().ShouldBe("queued");
        body.GetProperty("build").GetProperty("trigger").GetString().ShouldBe("manual");
        body.GetProperty("build").TryGetProperty("started_at", out _).ShouldBeTrue();
        api.Builds.Submissions.ShouldContain(
            new BuildSubmission(
                "queue-web",
                "local",
                BuildTrigger.Manual,
                "ci-bot",
                "nightly patch",
                "key-queue-web-1"
            )
        );
    }

    [Fact]
    public async Task Repeating_a_request_with_the_same_Idempotency_Key_answers_200_joined()
    {
        using var client = api.ClientFor(ApiRoles.Builder);

        async Task<HttpResponseMessage> PostAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/builds")
            {
                Content = JsonContent.Create(new { image = "queue-retry" }),
            };
            request.Headers.Add("Idempotency-Key", "key-queue-retry");
            return await client.SendAsync(request);
        }

        using var first = await PostAsync();
        using var second = await PostAsync();

        var firstBody = await ApiAssert.JsonAsync(first, HttpStatusCode.Accepted);
        var secondBody = await ApiAssert.JsonAsync(second, HttpStatusCode.OK);
        secondBody.GetProperty("joined").GetBoolean().ShouldBeTrue();
        secondBody
            .GetProperty("build")
            .GetProperty("id")
            .GetString()
            .ShouldBe(firstBody.GetProperty("build").GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_request_without_an_image_is_a_validation_problem_on_image()
    {
        using var client = api.ClientFor(ApiRoles.Builder, "no-image");

        using var response = await client.PostAsJsonAsync(
            "/api/builds",
            new { reason = "why not" }
        );

        var problem = await ApiAssert.ProblemAsync(response, 400);
        problem.GetProperty("errors").GetProperty("image").GetArrayLength().ShouldBe(1);
        api.Builds.Submissions.ShouldNotContain(s => s.Requester == "no-image");
    }

    [Fact]
    public async Task A_request_with_no_body_at_all_is_a_validation_problem_on_image()
    {
        using var client = api.ClientFor(ApiRoles.Builder);

        using var response = await client.PostAsync("/api/builds", null);

        var problem = await ApiAssert.ProblemAsync(response, 400);
        problem.GetProperty("errors").TryGetProperty("image", out _).ShouldBeTrue();
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem()
    {
        using var client = api.ClientFor(ApiRoles.Builder);

        using var response = await client.PostAsync(
            "/api/builds",
            new StringContent("{\"image\": ", System.Text.Encoding.UTF8, "application/json")
        );

        await ApiAssert.ProblemAsync(response, 400);
    }

    [Fact]
    public async Task Bad_input_found_by_the_queue_is_a_validation_problem_keyed_by_field()
    {
        api.Builds.OnQueue = _ =>
            throw new InvalidInputException([
                new InputProblem(
                    "templates/images/broken.yaml",
                    7,
                    "targets[0].provider",
                    "one of local, aws, azure, gcp"
                ),
            ]);
        try
        {
            using var client = api.ClientFor(ApiRoles.Builder);

            using var response = await client.PostAsJsonAsync(
                "/api/builds",
                new { image = "broken" }
            );

            var problem = await ApiAssert.ProblemAsync(response, 400);
            problem
                .GetProperty("errors")
                .GetProperty("targets[0].provider")[0]
                .GetString()
                .ShouldBe("templates/images/broken.yaml:7: one of local, aws, azure, gcp");
        }
        finally
        {
            api.Builds.OnQueue = null;
        }
    }

    [Fact]
    public async Task An_unknown_build_is_a_404_problem()
    {
        using var client = api.ClientFor(ApiRoles.Viewer);

        foreach (
            var path in new[]
            {
                "/api/builds/987654",
                "/api/builds/nonsense",
                "/api/builds/987654/logs",
            }
        )
        {
            using var response = await client.GetAsync(path);
            var problem = await ApiAssert.ProblemAsync(response, 404);
            problem.GetProperty("detail").GetString()!.ShouldContain("no build");
        }
    }

    [Fact]
    public async Task Builds_are_listed_newest_first_and_shown_with_the_CLI_s_snake_case_fields()
    {
        var older = await api.StartBuildAsync("list-web");
        var newer = await api.StartBuildAsync("list-web");
        using var client = api.ClientFor(ApiRoles.Viewer);

        var list = await ApiAssert.JsonAsync(
            await client.GetAsync("/api/builds?image=list-web&limit=10"),
            HttpStatusCode.OK
        );
        var one = await ApiAssert.JsonAsync(
            await client.GetAsync($"/api/builds/{older.Id}"),
            HttpStatusCode.OK
        );

        list.EnumerateArray()
            .Select(b => b.GetProperty("id").GetString())
            .ShouldBe([newer.Id, older.Id]);
        one.EnumerateObject()
            .Select(p => p.Name)
            .ShouldBe([
                "id",
                "image",
                "target",
                "trigger",
                "requester",
                "reason",
                "fingerprint",
                "status",
                "started_at",
                "ended_at",
                "message",
                "version",
                "resumable",
                "attempts",
                "lease_worker",
            ]);
        one.GetProperty("status").GetString().ShouldBe("running");
        one.GetProperty("attempts")
            .GetInt32()
            .ShouldBe(0, "run by the command line, never claimed");
        one.GetProperty("lease_worker").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact]
    public async Task A_claimed_build_shows_its_attempts_and_the_worker_holding_its_lease()
    {
        await api.Catalog.EnqueueAsync(
            new BuildRequest(
                new NewBuild(
                    "lease-web",
                    "local",
                    BuildTrigger.Manual,
                    "alice",
                    null,
                    "sha256:" + new string('b', 64)
                ),
                null,
                false
            ),
            api.Time.GetUtcNow()
        );
        var claimed = (
            await api.Catalog.ClaimNextAsync(
                new Dictionary<string, int> { ["local"] = 100 },
                new Claimant("build-01-0123456789ab", Environment.ProcessId, TimeSpan.FromHours(1)),
                api.Time.GetUtcNow()
            )
        ).ShouldNotBeNull();
        using var client = api.ClientFor(ApiRoles.Viewer);

        var one = await ApiAssert.JsonAsync(
            await client.GetAsync($"/api/builds/{claimed.Id}"),
            HttpStatusCode.OK
        );
        var listed = (
            await ApiAssert.JsonAsync(
                await client.GetAsync($"/api/builds?image={claimed.Image}&limit=100"),
                HttpStatusCode.OK
            )
        )
            .EnumerateArray()
            .Single(b => b.GetProperty("id").GetString() == claimed.Id);

        foreach (var view in new[] { one, listed })
        {
            view.GetProperty("attempts").GetInt32().ShouldBe(1);
            view.GetProperty("lease_worker").GetString().ShouldBe("build-01-0123456789ab");
        }
    }

    [Fact]
    public async Task A_limit_out_of_range_is_a_validation_problem()
    {
        using var client = api.ClientFor(ApiRoles.Viewer);

        using var response = await client.GetAsync("/api/builds?limit=0");

        var problem = await ApiAssert.ProblemAsync(response, 400);
        problem.GetProperty("errors").TryGetProperty("limit", out _).ShouldBeTrue();
    }

    [Fact]
    public async Task Cancelling_a_running_build_asks_the_queue_as_the_token_s_actor()
    {
        var build = await api.StartBuildAsync("cancel-running");
        using var client = api.ClientFor(ApiRoles.Builder, "canceller");

        using var response = await client.PostAsync($"/api/builds/{build.Id}/cancel", null);

        var body = await ApiAssert.JsonAsync(response, HttpStatusCode.Accepted);
        body.GetProperty("id").GetString().ShouldBe(build.Id);
        api.Builds.Cancellations.ShouldContain((build.Id, "canceller"));
    }

    [Fact]
    public async Task Cancelling_a_build_that_has_ended_is_a_409_problem()
    {
        var build = await api.StartBuildAsync("cancel-ended");
        await api.Catalog.EndBuildAsync(build.Id, BuildStatus.Failed, "boom", api.Time.GetUtcNow());
        using var client = api.ClientFor(ApiRoles.Builder);

        using var response = await client.PostAsync($"/api/builds/{build.Id}/cancel", null);

        var problem = await ApiAssert.ProblemAsync(response, 409);
        problem.GetProperty("detail").GetString()!.ShouldContain("failed");
        api.Builds.Cancellations.ShouldNotContain(c => c.BuildId == build.Id);
    }

    [Fact]
    public async Task Logs_are_a_json_array_of_the_lines_after_a_sequence_number()
    {
        var build = await api.StartBuildAsync("logs-web", "one", "two", "three");
        using var client = api.ClientFor(ApiRoles.Viewer);

        var all = await ApiAssert.JsonAsync(
            await client.GetAsync($"/api/builds/{build.Id}/logs"),
            HttpStatusCode.OK
        );
        var after = all[0].GetProperty("seq").GetInt64();
        var rest = await ApiAssert.JsonAsync(
            await client.GetAsync($"/api/builds/{build.Id}/logs?after={after}"),
            HttpStatusCode.OK
        );

        all.EnumerateArray()
            .Select(l => l.GetProperty("text").GetString())
            .ShouldBe(["one", "two", "three"]);
        all[0].EnumerateObject().Select(p => p.Name).ShouldBe(["seq", "time", "stream", "text"]);
        rest.EnumerateArray()
            .Select(l => l.GetProperty("text").GetString())
            .ShouldBe(["two", "three"]);
    }

    [Fact(Timeout = 30_000)]
    public async Task Following_logs_streams_ndjson_lines_as_they_come_and_ends_with_the_build()
    {
        var build = await api.StartBuildAsync("logs-follow", "first");
        using var client = api.ClientFor(ApiRoles.Viewer);

        using var response = await client.GetAsync(
            $"/api/builds/{build.Id}/logs?follow=true",
            HttpCompletionOption.ResponseHeadersRead
        );
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/x-ndjson");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var first = await reader.ReadLineAsync();
        await api.AppendLogAsync(build.Id, "second", "third");
        var second = await reader.ReadLineAsync();
        var third = await reader.ReadLineAsync();
        await api.Catalog.EndBuildAsync(build.Id, BuildStatus.Failed, "boom", api.Time.GetUtcNow());
        var end = await reader.ReadToEndAsync();

        new[] { first, second, third }
            .Select(line => JsonDocument.Parse(line!).RootElement.GetProperty("text").GetString())
            .ShouldBe(["first", "second", "third"]);
        end.ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task Following_the_log_of_a_build_that_has_ended_sends_the_lines_and_ends_at_once()
    {
        var build = await api.StartBuildAsync("logs-ended", "only");
        await api.Catalog.EndBuildAsync(
            build.Id,
            BuildStatus.Cancelled,
            "stop",
            api.Time.GetUtcNow()
        );
        using var client = api.ClientFor(ApiRoles.Viewer);

        var body = await client.GetStringAsync($"/api/builds/{build.Id}/logs?follow=true");

        body.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("text").GetString())
            .ShouldBe(["only"]);
    }
}
