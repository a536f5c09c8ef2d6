using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImageForge.Application.Access;
using ImageForge.Cli.Tests.Promotion;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Api;

/// <summary>
/// The worker's API on a data directory restored from elsewhere (the original deleted): it lists, serves, promotes
/// and admits the copy's files, since the catalog keeps their locations relative to the data directory.
/// </summary>
public sealed class MovableDataDirectoryApiSpecs
{
    [Fact(Timeout = 60_000)]
    public async Task A_restored_data_directory_serves_promotes_and_admits_its_own_files()
    {
        using var original = new TempDirectory("imageforge-original");
        var v = await SignedVersions.RecordAsync(
            original.Path,
            new ManualTimeProvider(ApiFactory.Start)
        );
        await using var api = ApiFactory.RestoredFrom(original.Path);
        original.Dispose();
        using var manager = api.ClientFor(ApiRoles.ReleaseManager, "rita");
        var there = Path.Combine(
            api.Data.Root,
            Path.GetRelativePath(original.Path, v.Artifacts[0].Location)
        );

        using var shown = await manager.GetAsync($"/api/images/{v.Image}/versions/{v.Version}");
        var version = JsonDocument.Parse(await shown.Content.ReadAsStringAsync()).RootElement;
        using var gate = await manager.GetAsync(
            $"/api/images/{v.Image}/versions/{v.Version}/evidence/gate-decision"
        );
        using var promoted = await manager.PostAsJsonAsync(
            $"/api/images/{v.Image}/versions/{v.Version}/promote",
            new { channel = "dev" }
        );
        using var admit = await manager.PostAsJsonAsync(
            "/api/admit",
            new { provider = "local", image_id = "sha256:" + v.Artifacts[0].Sha256 }
        );
        var admitted = JsonDocument.Parse(await admit.Content.ReadAsStringAsync()).RootElement;

        Directory.Exists(original.Path).ShouldBeFalse();
        shown.StatusCode.ShouldBe(HttpStatusCode.OK);
        version.GetRawText().ShouldContain(JsonSerializer.Serialize(there)[1..^1]);
        version.GetRawText().ShouldNotContain(JsonSerializer.Serialize(original.Path)[1..^1]);
        gate.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await gate.Content.ReadAsStringAsync()).ShouldContain("\"decision\":\"pass\"");
        promoted.StatusCode.ShouldBe(HttpStatusCode.OK, await promoted.Content.ReadAsStringAsync());
        admitted.GetProperty("admitted").GetBoolean().ShouldBeTrue(admitted.ToString());
    }
}
