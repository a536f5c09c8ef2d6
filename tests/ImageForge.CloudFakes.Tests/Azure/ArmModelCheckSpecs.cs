using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Azure.ResourceManager.Compute;
using Azure.ResourceManager.Compute.Models;
using ImageForge.CloudFakes.Azure;
using Shouldly;
using Xunit;

namespace ImageForge.CloudFakes.Tests.Azure;

/// <summary>The fake refuses what the Compute Gallery REST spec refuses, with ARM's error body, and records it.</summary>
public sealed class ArmModelCheckSpecs
{
    private const string Gallery =
        $"subscriptions/{ArmFake.DefaultSubscriptionId}/resourceGroups/imageforge-images/providers/Microsoft.Compute/galleries/imageforge";

    private const string ValidImage = """
        {"location": "westeurope", "tags": {"os": "debian"}, "properties": {"osType": "Linux", "osState": "Generalized",
         "hyperVGeneration": "V2", "identifier": {"publisher": "imageforge", "offer": "debian", "sku": "12"}}}
        """;

    [Theory(Timeout = 30_000)]
    [InlineData("valid", "", 201, null, null)]
    [InlineData(
        "unknown property",
        """ "osFamily": "Linux", """,
        400,
        "InvalidRequestContent",
        "UnknownMember 'properties.osFamily'"
    )]
    [InlineData(
        "bad enum",
        """ "hyperVGeneration": "V3", """,
        400,
        "InvalidRequestContent",
        "NotInEnum 'properties.hyperVGeneration'"
    )]
    [InlineData(
        "read-only sent",
        """ "provisioningState": "Succeeded", """,
        400,
        "InvalidRequestContent",
        "ReadOnlySent 'properties.provisioningState'"
    )]
    [InlineData(
        "wrong type",
        """ "endOfLifeDate": 20270630, """,
        400,
        "InvalidRequestContent",
        "WrongType 'properties.endOfLifeDate'"
    )]
    [InlineData(
        "bad date",
        """ "endOfLifeDate": "next year", """,
        400,
        "InvalidRequestContent",
        "WrongType 'properties.endOfLifeDate'"
    )]
    public async Task An_image_definition_body_is_held_to_the_spec(
        string @case,
        string extra,
        int status,
        string? code,
        string? problem
    )
    {
        await using var arm = await ArmSpecs.StartWithGalleryAsync();
        using var http = arm.CreateHttpClient();
        var body = ValidImage.Replace(
            "\"properties\": {",
            "\"properties\": {" + extra,
            StringComparison.Ordinal
        );

        var (answer, error) = await PutAsync(
            http,
            $"{Gallery}/images/debian-12?api-version=2022-03-03",
            body
        );

        answer.ShouldBe((HttpStatusCode)status, @case);
        error?["code"]?.GetValue<string>().ShouldBe(code);
        AssertProblem(arm, problem);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("osType")]
    [InlineData("osState")]
    [InlineData("identifier")]
    public async Task An_image_definition_without_a_required_property_is_refused(string required)
    {
        await using var arm = await ArmSpecs.StartWithGalleryAsync();
        using var http = arm.CreateHttpClient();
        var body = JsonNode.Parse(ValidImage)!.AsObject();
        body["properties"]!.AsObject().Remove(required);

        var (answer, error) = await PutAsync(
            http,
            $"{Gallery}/images/debian-12?api-version=2024-03-03",
            body.ToJsonString()
        );

        answer.ShouldBe(HttpStatusCode.BadRequest);
        error!["code"]!.GetValue<string>().ShouldBe("InvalidParameter");
        error["message"]!
            .GetValue<string>()
            .ShouldBe($"Required parameter 'properties.{required}' is missing (null).");
        AssertProblem(arm, $"MissingRequired 'properties.{required}'");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("1.0.0", 201)]
    [InlineData("2024.1.31", 201)]
    [InlineData("1.0", 400)]
    [InlineData("1.0.0.0", 400)]
    [InlineData("v1.0.0", 400)]
    [InlineData("1.0.0-rc1", 400)]
    [InlineData("1.2147483648.0", 400)]
    public async Task An_image_version_must_be_named_major_minor_patch_in_32_bit_integers(
        string name,
        int status
    )
    {
        await using var arm = await ArmSpecs.StartWithGalleryAsync();
        using var http = arm.CreateHttpClient();
        (
            await PutAsync(http, $"{Gallery}/images/debian-12?api-version=2022-03-03", ValidImage)
        ).Status.ShouldBe(HttpStatusCode.Created);
        var source =
            $"/subscriptions/{ArmFake.DefaultSubscriptionId}/resourceGroups/imageforge-images/providers/Microsoft.Compute/images/debian-12";
        var version = new JsonObject
        {
            ["location"] = "westeurope",
            ["properties"] = new JsonObject
            {
                ["storageProfile"] = new JsonObject
                {
                    ["source"] = new JsonObject { ["id"] = source },
                },
            },
        }.ToJsonString();

        var (answer, error) = await PutAsync(
            http,
            $"{Gallery}/images/debian-12/versions/{name}?api-version=2022-03-03",
            version
        );

        answer.ShouldBe((HttpStatusCode)status);
        if (status == 400)
        {
            error!["code"]!.GetValue<string>().ShouldBe("InvalidParameter");
            error["target"]!.GetValue<string>().ShouldBe("galleryImageVersionName");
        }

        AssertProblem(arm, status == 400 ? "The gallery image version name" : null);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("", "MissingApiVersionParameter")]
    [InlineData("?api-version=2021-10-01", "NoRegisteredProviderFound")]
    [InlineData("?api-version=2022-03-03&$expand=Everything", "InvalidParameter")]
    public async Task A_request_with_a_missing_or_unsupported_query_is_refused(
        string query,
        string code
    )
    {
        await using var arm = await ArmSpecs.StartWithGalleryAsync();
        using var http = arm.CreateHttpClient();

        using var answer = await http.GetAsync($"{Gallery}/images/debian-12/versions/1.0.0{query}");
        var error = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["error"]!;

        answer.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        error["code"]!.GetValue<string>().ShouldBe(code);
        arm.TakeProblems().ShouldHaveSingleItem();
    }

    [Fact(Timeout = 30_000)]
    public async Task The_sdk_sending_a_bad_enum_or_version_name_gets_the_error_arm_would_give()
    {
        await using var arm = await ArmSpecs.StartWithGalleryAsync();
        var images = ArmSpecs.GalleryOf(arm).GetGalleryImages();
        var definition = ArmSpecs.ImageDefinition();
        definition.HyperVGeneration = new HyperVGeneration("V3");

        var badEnum = await Should.ThrowAsync<RequestFailedException>(() =>
            images.CreateOrUpdateAsync(WaitUntil.Completed, "debian-12", definition)
        );
        var image = await ArmSpecs.CreateImageAsync(arm);
        var version = new GalleryImageVersionData(image.Data.Location)
        {
            StorageProfile = new GalleryImageVersionStorageProfile
            {
                GallerySource = new GalleryArtifactVersionFullSource
                {
                    Id = new(
                        $"/subscriptions/{ArmFake.DefaultSubscriptionId}/resourceGroups/imageforge-images/providers/Microsoft.Compute/images/debian-12"
                    ),
                },
            },
        };
        var badName = await Should.ThrowAsync<RequestFailedException>(() =>
            image.GetGalleryImageVersions().CreateOrUpdateAsync(WaitUntil.Completed, "1.0", version)
        );

        (badEnum.Status, badEnum.ErrorCode).ShouldBe((400, "InvalidRequestContent"));
        (badName.Status, badName.ErrorCode).ShouldBe((400, "InvalidParameter"));
        var problems = arm.TakeProblems();
        problems.Count.ShouldBe(2);
        problems[0].ShouldContain("NotInEnum 'properties.hyperVGeneration'");
        problems[1].ShouldContain("'1.0' is invalid");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_patch_may_leave_members_out_but_not_break_the_resource_it_leads_to()
    {
        await using var arm = await ArmSpecs.StartWithGalleryAsync(
            new ArmFakeOptions { PollsBeforeDone = 0 }
        );
        using var http = arm.CreateHttpClient();
        (
            await PutAsync(http, $"{Gallery}/images/debian-12?api-version=2022-03-03", ValidImage)
        ).Status.ShouldBe(HttpStatusCode.Created);
        // One look at it and its creation is done: a change while it runs would be refused (409).
        (
            await http.GetAsync($"{Gallery}/images/debian-12?api-version=2022-03-03")
        ).EnsureSuccessStatusCode();

        var (description, _) = await PatchAsync(
            http,
            """{"properties": {"description": "Debian 12, hardened"}}"""
        );
        var (nulled, error) = await PatchAsync(http, """{"properties": {"osType": null}}""");
        var (changed, immutable) = await PatchAsync(
            http,
            """{"properties": {"osState": "Specialized"}}"""
        );

        description.ShouldBe(HttpStatusCode.OK);
        (nulled, error!["code"]!.GetValue<string>()).ShouldBe(
            (HttpStatusCode.BadRequest, "InvalidParameter")
        );
        (changed, immutable!["code"]!.GetValue<string>()).ShouldBe(
            (HttpStatusCode.Conflict, "PropertyChangeNotAllowed")
        );
        arm.TakeProblems().Count.ShouldBe(2);
        arm.State.ImageDefinitions.Single().Properties["description"]!
            .GetValue<string>()
            .ShouldBe("Debian 12, hardened");

        Task<(HttpStatusCode, JsonNode?)> PatchAsync(HttpClient client, string body) =>
            SendAsync(
                client,
                HttpMethod.Patch,
                $"{Gallery}/images/debian-12?api-version=2022-03-03",
                body
            );
    }

    internal static Task<(HttpStatusCode Status, JsonNode? Error)> PutAsync(
        HttpClient http,
        string path,
        string body
    ) => SendAsync(http, HttpMethod.Put, path, body);

    private static async Task<(HttpStatusCode Status, JsonNode? Error)> SendAsync(
        HttpClient http,
        HttpMethod method,
        string path,
        string body
    )
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        using var answer = await http.SendAsync(request);
        var text = await answer.Content.ReadAsStringAsync();
        return (answer.StatusCode, text.Length > 0 ? JsonNode.Parse(text)?["error"] : null);
    }

    private static void AssertProblem(ArmFake arm, string? fragment)
    {
        var problems = arm.TakeProblems();
        if (fragment is null)
        {
            problems.ShouldBeEmpty();
        }
        else
        {
            problems.ShouldHaveSingleItem().ShouldContain(fragment);
        }
    }
}
