using System.Net;
using System.Text.Json.Nodes;
using ImageForge.CloudFakes.Gcp;
using Shouldly;
using Xunit;
using static ImageForge.CloudFakes.Tests.Gcp.GcpSpecKit;

namespace ImageForge.CloudFakes.Tests.Gcp;

public sealed class GcpDiscoveryCheckSpecs
{
    private static JsonObject Valid() =>
        ImageBody("debian-11-cis-v1", "debian-11-cis", "v1/disk.tar.gz");

    private static JsonObject With(Action<JsonObject> change)
    {
        var body = Valid();
        change(body);
        return body;
    }

    // case, method, path, body, what the problem says
    public static TheoryData<string, string, string, JsonObject?, string> Refused =>
        new()
        {
            {
                "unknown query parameter",
                "GET",
                Images("?colour=blue"),
                null,
                "Unknown name \"colour\": Cannot bind query parameter"
            },
            {
                "unknown body property",
                "POST",
                Images(),
                With(b => b["colour"] = "blue"),
                "Unknown name \"colour\" at 'resource'"
            },
            {
                "unknown nested property",
                "POST",
                Images(),
                With(b => b["rawDisk"]!["format"] = "qcow2"),
                "Unknown name \"format\" at 'resource.rawDisk'"
            },
            {
                "bad enum",
                "POST",
                Images(),
                With(b => b["guestOsFeatures"]![0]!["type"] = "UEFI"),
                "'UEFI' is not one of"
            },
            {
                "bad image name",
                "POST",
                Images(),
                With(b => b["name"] = "Debian_11"),
                "'resource.name': 'Debian_11'. Must be a match of regex"
            },
            {
                "too long image name",
                "POST",
                Images(),
                With(b => b["name"] = "d" + new string('x', 63)),
                "Must be a match of regex"
            },
            {
                "missing image name",
                "POST",
                Images(),
                With(b => b.Remove("name")),
                "Required field 'resource.name' not specified"
            },
            {
                "bad label value",
                "POST",
                Images(),
                With(b => b["labels"]!["team"] = "Platform Team"),
                "Label value 'Platform Team' violates format constraints"
            },
            {
                "bad label key",
                "POST",
                Images(),
                With(b => b["labels"]!["9lives"] = "x"),
                "Label key '9lives' violates format constraints"
            },
            {
                "wrong type",
                "POST",
                Images(),
                With(b => b["storageLocations"] = "eu"),
                "expected a list"
            },
            { "bad path parameter", "GET", Images("/Bad_Name"), null, "'image': 'Bad_Name'" },
            { "bad request id", "POST", Images("?requestId=42"), Valid(), "must be a valid UUID" },
            {
                "patch of a field patch cannot modify",
                "PATCH",
                Images("/debian-11-cis-v1"),
                new JsonObject { ["labels"] = new JsonObject() },
                "can modify only deprecated, description, family"
            },
            {
                "bad deprecation time",
                "POST",
                Images("/debian-11-cis-v1/deprecate"),
                new JsonObject { ["state"] = "DEPRECATED", ["obsolete"] = "next year" },
                "RFC 3339"
            },
            {
                "replacement that is not an image",
                "POST",
                Images("/debian-11-cis-v1/deprecate"),
                new JsonObject
                {
                    ["state"] = "DEPRECATED",
                    ["replacement"] = "https://example.com/x",
                },
                "must be an image URL"
            },
            {
                "body on a get",
                "GET",
                $"projects/{Project}/global/operations/operation-1",
                new JsonObject(),
                "takes no request body"
            },
        };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Refused))]
    public async Task A_request_that_breaks_the_discovery_document_is_refused_with_googles_400_and_recorded(
        string @case,
        string method,
        string path,
        JsonObject? body,
        string problem
    )
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.Fake.Compute.AddImage(Project, "debian-11-cis-v1", "debian-11-cis");
        using var compute = gcp.CreateComputeClient();

        var (status, error) = await SendAsync(compute, new HttpMethod(method), path, body);

        status.ShouldBe(HttpStatusCode.BadRequest, @case);
        ((int?)error["error"]!["code"]).ShouldBe(400);
        ((string)error["error"]!["message"]!).ShouldContain(problem, Case.Sensitive, @case);
        error["error"]!["errors"]!.AsArray().ShouldNotBeEmpty();
        gcp.Fake.Problems.All.ShouldHaveSingleItem().ShouldContain(problem, Case.Sensitive, @case);
        gcp.Fake.Compute.Images(Project).Count.ShouldBe(1, @case);
    }

    [Fact(Timeout = 30_000)]
    public async Task Storage_requests_are_checked_against_the_storage_document_too()
    {
        await using var gcp = await GcpFakeFixture.StartAsync();
        gcp.CreateBucket(Bucket);
        var http = gcp.Storage.Service.HttpClient;

        using var badEnum = await http.GetAsync(
            new Uri(gcp.Fake.StorageBaseUri, $"b/{Bucket}/o/x?projection=everything")
        );
        using var noUploadType = await http.PostAsync(
            new Uri(gcp.Fake.Url, $"upload/storage/v1/b/{Bucket}/o?name=x"),
            new ByteArrayContent([1])
        );
        using var unknownPath = await http.GetAsync(
            new Uri(gcp.Fake.StorageBaseUri, "b/x/unknown")
        );

        badEnum.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        noUploadType.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        unknownPath.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        gcp.Fake.Problems.All.Count.ShouldBe(3);
        gcp.Fake.Problems.All[0].ShouldContain("'everything' is not one of full, noAcl");
        gcp.Fake.Problems.All[1].ShouldContain("Invalid upload type");
        gcp.Fake.Problems.All[2]
            .ShouldContain("No method of storage answers GET /storage/v1/b/x/unknown");
    }
}
