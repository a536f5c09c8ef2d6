using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Api;

/// <summary>
/// The OpenAPI document is a contract clients generate code from. A deliberate change: rerun with
/// IMAGEFORGE_UPDATE_SNAPSHOTS=1 and commit the changed snapshot with the change.
/// </summary>
public sealed class OpenApiSnapshotSpecs(ApiFactory api) : IClassFixture<ApiFactory>
{
    // Relaxed escaping keeps the snapshot readable ('<', '+' and quotes as themselves).
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    [Fact]
    public async Task The_OpenAPI_document_matches_its_snapshot()
    {
        using var client = api.CreateClient();
        var document = Normalise(await client.GetStringAsync("/openapi/v1.json"));
        var snapshot = Path.Combine(
            RepoPaths.Root,
            "tests",
            "ImageForge.Server.Tests",
            "Snapshots",
            "openapi.json"
        );

        if (Environment.GetEnvironmentVariable("IMAGEFORGE_UPDATE_SNAPSHOTS") == "1")
        {
            await File.WriteAllTextAsync(snapshot, document);
        }

        document.ShouldBe(Normalise(await File.ReadAllTextAsync(snapshot)));
    }

    [Fact]
    public async Task Every_api_operation_has_a_name_a_summary_and_the_bearer_requirement()
    {
        using var client = api.CreateClient();
        var document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;

        document["components"]!["securitySchemes"]!["bearer"]!["scheme"]!
            .GetValue<string>()
            .ShouldBe("bearer");
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var where = $"{method} {path}";
                operation!["operationId"].ShouldNotBeNull(where);
                operation["summary"].ShouldNotBeNull(where);
                operation["responses"]!.AsObject().Count.ShouldBeGreaterThan(0, where);
                if (path.StartsWith("/api/", StringComparison.Ordinal))
                {
                    operation["security"].ShouldNotBeNull(where);
                    operation["responses"]!["401"].ShouldNotBeNull(where);
                }
            }
        }
    }

    private static string Normalise(string json) =>
        JsonNode.Parse(json)!.ToJsonString(Indented).ReplaceLineEndings("\n") + "\n";
}
