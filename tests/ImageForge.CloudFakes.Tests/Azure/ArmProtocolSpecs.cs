using System.Net;
using System.Text.Json.Nodes;
using ImageForge.CloudFakes.Azure;
using Shouldly;
using Xunit;

namespace ImageForge.CloudFakes.Tests.Azure;

/// <summary>Long-running operations and authentication on the wire, as ARM documents them.</summary>
public sealed class ArmProtocolSpecs
{
    private const string Image =
        $"subscriptions/{ArmFake.DefaultSubscriptionId}/resourceGroups/imageforge-images/providers/Microsoft.Compute/galleries/imageforge/images/debian-12";

    private const string Body = """
        {"location": "westeurope", "properties": {"osType": "Linux", "osState": "Generalized",
         "identifier": {"publisher": "imageforge", "offer": "debian", "sku": "12"}}}
        """;

    [Fact(Timeout = 30_000)]
    public async Task Put_and_delete_answer_with_an_operation_status_that_goes_from_in_progress_to_succeeded()
    {
        await using var arm = await ArmSpecs.StartWithGalleryAsync();
        using var http = arm.CreateHttpClient();

        using var put = await http.PutAsync(
            $"{Image}?api-version=2022-03-03",
            new StringContent(Body, null, "application/json")
        );
        var putStatus = await StatusesAsync(
            http,
            put.Headers.GetValues("Azure-AsyncOperation").Single()
        );
        using var delete = await http.DeleteAsync($"{Image}?api-version=2022-03-03");
        var location = delete.Headers.Location!;
        using var monitorRunning = await http.GetAsync(location);
        using var monitorDone = await http.GetAsync(location);
        using var gone = await http.GetAsync($"{Image}?api-version=2022-03-03");
        using var again = await http.DeleteAsync($"{Image}?api-version=2022-03-03");

        put.StatusCode.ShouldBe(HttpStatusCode.Created);
        put.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(1));
        JsonNode.Parse(await put.Content.ReadAsStringAsync())!["properties"]!["provisioningState"]!
            .GetValue<string>()
            .ShouldBe("Creating");
        putStatus.ShouldBe(["InProgress", "Succeeded"]);
        delete.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        delete
            .Headers.GetValues("Azure-AsyncOperation")
            .Single()
            .ShouldContain("/providers/Microsoft.Compute/locations/westeurope/capsOperations/");
        location.Query.ShouldContain("monitor=true");
        location.Host.ShouldBe("127.0.0.1");
        monitorRunning.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        monitorDone.StatusCode.ShouldBe(HttpStatusCode.OK);
        gone.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        again.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        arm.Calls["Compute_OperationStatus"].ShouldBe(4);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_same_put_again_while_it_runs_gets_the_running_operation_and_a_different_one_conflicts()
    {
        await using var arm = await ArmSpecs.StartWithGalleryAsync();
        using var http = arm.CreateHttpClient();

        using var first = await PutAsync(http, Body);
        using var again = await PutAsync(http, Body);
        using var other = await PutAsync(
            http,
            Body.Replace(
                "\"osType\"",
                "\"description\": \"other\", \"osType\"",
                StringComparison.Ordinal
            )
        );

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        again.StatusCode.ShouldBe(HttpStatusCode.OK);
        again
            .Headers.GetValues("Azure-AsyncOperation")
            .ShouldBe(first.Headers.GetValues("Azure-AsyncOperation"));
        other.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        arm.TakeProblems().ShouldHaveSingleItem().ShouldContain("409 OperationNotAllowed");

        static Task<HttpResponseMessage> PutAsync(HttpClient http, string body) =>
            http.PutAsync(
                $"{Image}?api-version=2022-03-03",
                new StringContent(body, null, "application/json")
            );
    }

    [Fact(Timeout = 30_000)]
    public async Task A_request_without_the_bearer_token_is_answered_401_as_arm_does()
    {
        await using var arm = await ArmSpecs.StartWithGalleryAsync();
        using var http = arm.CreateHttpClient();
        http.DefaultRequestHeaders.Authorization = null;

        using var answer = await http.GetAsync($"{Image}?api-version=2022-03-03");

        answer.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        answer.Headers.WwwAuthenticate.ShouldHaveSingleItem().Scheme.ShouldBe("Bearer");
        JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["error"]!["code"]!
            .GetValue<string>()
            .ShouldBe("AuthenticationFailed");
    }

    private static async Task<List<string>> StatusesAsync(HttpClient http, string operation)
    {
        var statuses = new List<string>();
        while (statuses.Count == 0 || statuses[^1] == "InProgress")
        {
            statuses.Count.ShouldBeLessThan(5);
            using var answer = await http.GetAsync(new Uri(operation));
            statuses.Add(
                JsonNode.Parse(await answer.Content.ReadAsStringAsync())![
                    "status"
                ]!.GetValue<string>()
            );
        }

        return statuses;
    }
}
