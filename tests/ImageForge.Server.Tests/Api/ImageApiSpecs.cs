using System.Net;
using ImageForge.Application.Access;
using ImageForge.Core.Audit;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Api;

/// <summary>/api/images (versions, evidence downloads) and /api/audit.</summary>
public sealed class ImageApiSpecs(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string Sbom = """{"bomFormat":"CycloneDX","specVersion":"1.6"}""";

    [Fact]
    public async Task A_version_is_shown_with_its_artifacts_and_evidence_in_the_CLI_s_shape()
    {
        var version = await api.AddVersionAsync(
            "images-show",
            ("sbom-cyclonedx", "application/vnd.cyclonedx+json", Sbom)
        );
        using var client = api.ClientFor(ApiRoles.Viewer);

        var list = await ApiAssert.JsonAsync(
            await client.GetAsync("/api/images/images-show/versions"),
            HttpStatusCode.OK
        );
        var one = await ApiAssert.JsonAsync(
            await client.GetAsync($"/api/images/images-show/versions/{version.Version}"),
            HttpStatusCode.OK
        );
        var images = await ApiAssert.JsonAsync(
            await client.GetAsync("/api/images"),
            HttpStatusCode.OK
        );

        list.GetProperty("image").GetString().ShouldBe("images-show");
        list.GetProperty("versions")[0]
            .GetProperty("version")
            .GetString()
            .ShouldBe(version.Version);
        one.EnumerateObject()
            .Select(p => p.Name)
            .ShouldBe([
                "image",
                "version",
                "build_id",
                "created_at",
                "status",
                "fingerprint",
                "artifacts",
                "evidence",
            ]);
        one.GetProperty("artifacts")[0]
            .EnumerateObject()
            .Select(p => p.Name)
            .ShouldBe([
                "target",
                "region",
                "kind",
                "path",
                "sha256",
                "size_bytes",
                "source_sha256",
                "flavour",
                "flavour_packages",
            ]);
        var evidence = one.GetProperty("evidence")[0];
        evidence.GetProperty("kind").GetString().ShouldBe("sbom-cyclonedx");
        evidence.GetProperty("media_type").GetString().ShouldBe("application/vnd.cyclonedx+json");
        images
            .EnumerateArray()
            .Single(i => i.GetProperty("image").GetString() == "images-show")
            .GetProperty("latest_version")
            .GetString()
            .ShouldBe(version.Version);
    }

    [Fact]
    public async Task Evidence_is_downloaded_with_its_media_type()
    {
        var version = await api.AddVersionAsync(
            "images-evidence",
            ("sbom-cyclonedx", "application/vnd.cyclonedx+json", Sbom),
            ("gate-decision", "application/json", """{"decision":"pass"}""")
        );
        using var client = api.ClientFor(ApiRoles.Viewer);

        using var response = await client.GetAsync(
            $"/api/images/images-evidence/versions/{version.Version}/evidence/sbom-cyclonedx"
        );

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/vnd.cyclonedx+json");
        (await response.Content.ReadAsStringAsync()).ShouldBe(Sbom);
    }

    [Fact]
    public async Task An_unknown_evidence_kind_is_a_404_problem_listing_the_kinds_there_are()
    {
        var version = await api.AddVersionAsync(
            "images-kinds",
            ("sbom-spdx", "application/spdx+json", "{}")
        );
        using var client = api.ClientFor(ApiRoles.Viewer);

        using var response = await client.GetAsync(
            $"/api/images/images-kinds/versions/{version.Version}/evidence/provenance"
        );

        var problem = await ApiAssert.ProblemAsync(response, 404);
        problem.GetProperty("detail").GetString()!.ShouldContain("sbom-spdx");
    }

    [Theory]
    [InlineData("/api/images/no-such-image/versions")]
    [InlineData("/api/images/no-such-image/versions/2026.01.01.1")]
    [InlineData("/api/images/no-such-image/versions/2026.01.01.1/evidence/sbom-spdx")]
    public async Task An_unknown_image_or_version_is_a_404_problem(string path)
    {
        using var client = api.ClientFor(ApiRoles.Viewer);

        using var response = await client.GetAsync(path);

        await ApiAssert.ProblemAsync(response, 404);
    }

    [Fact]
    public async Task The_audit_trail_is_listed_per_image_and_its_chain_verified()
    {
        await api.Catalog.AppendAsync(
            new AuditEntry
            {
                Action = "approve",
                Actor = "rita",
                Role = "release-manager",
                Time = api.Time.GetUtcNow(),
                Image = "audit-web",
                Version = "2026.11.22.1",
                Channel = "prod",
                Reason = "CAB-42",
            }
        );
        using var client = api.ClientFor(ApiRoles.Viewer);

        var events = await ApiAssert.JsonAsync(
            await client.GetAsync("/api/audit?image=audit-web"),
            HttpStatusCode.OK
        );
        var verify = await ApiAssert.JsonAsync(
            await client.GetAsync("/api/audit/verify"),
            HttpStatusCode.OK
        );

        var e = events.EnumerateArray().ShouldHaveSingleItem();
        e.GetProperty("actor").GetString().ShouldBe("rita");
        e.GetProperty("channel").GetString().ShouldBe("prod");
        e.GetProperty("hash").GetString()!.ShouldMatch("^[0-9a-f]{64}$");
        e.TryGetProperty("prev_hash", out _).ShouldBeTrue();
        verify.GetProperty("ok").GetBoolean().ShouldBeTrue();
        verify.GetProperty("checked").GetInt64().ShouldBeGreaterThanOrEqualTo(1);
    }
}
