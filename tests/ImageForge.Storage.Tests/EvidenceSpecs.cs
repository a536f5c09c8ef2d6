using ImageForge.Core.Builds;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

public abstract class EvidenceSpecs(CatalogBackend backend) : IDisposable
{
    private static readonly DateTimeOffset Day = new(2025, 3, 4, 9, 0, 0, TimeSpan.Zero);

    private readonly TempDataDirectory _data = new(backend);

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    private static EvidenceDocument Sbom(string sha256 = "cd34") =>
        new()
        {
            Kind = "sbom-cyclonedx",
            Location = "/data/artifacts/web/1/evidence/sbom.cdx.json",
            Sha256 = sha256,
            SizeBytes = 1234,
            MediaType = "application/vnd.cyclonedx+json",
        };

    [Fact]
    public async Task A_reserved_version_is_named_on_the_build_but_invisible_until_the_build_completes()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);

        // Act
        var reserved = await catalog.ReserveVersionAsync(build.Id, Day);
        var again = await catalog.ReserveVersionAsync(build.Id, Day);

        // Assert
        reserved.ShouldBe("2025.03.04.1");
        again.ShouldBe(reserved);
        (await catalog.GetBuildAsync(build.Id))!.Version.ShouldBe(reserved);
        (await catalog.GetVersionAsync("web", reserved)).ShouldBeNull();
        (await catalog.ListVersionsAsync("web")).ShouldBeEmpty();
        (await catalog.ListImagesAsync()).Single().VersionCount.ShouldBe(0);
    }

    [Fact]
    public async Task Completing_records_the_reserved_version_with_its_artifacts_and_evidence()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        var reserved = await catalog.ReserveVersionAsync(build.Id, Day);

        // Act
        var version = await catalog.CompleteBuildAsync(
            build.Id,
            [Builds.Tarball("web")],
            [Sbom()],
            VersionStatus.Built,
            Day.AddMinutes(5)
        );

        // Assert
        version.Version.ShouldBe(reserved);
        var stored = await catalog.GetVersionAsync("web", reserved);
        stored.ShouldBeVersion(version);
        stored!.Evidence.Single().Kind.ShouldBe("sbom-cyclonedx");
        stored.Evidence.Single().RecordedAt.ShouldBe(Day.AddMinutes(5));
        (await catalog.ListVersionsAsync("web"))
            .Single()
            .Evidence.Single()
            .ShouldBe(stored.Evidence.Single());
        (await catalog.ListImagesAsync()).Single().LatestVersion.ShouldBe(reserved);
    }

    [Fact]
    public async Task A_build_that_fails_after_reserving_gives_its_number_back()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var failed = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        await catalog.ReserveVersionAsync(failed.Id, Day);

        // Act
        await catalog.EndBuildAsync(failed.Id, BuildStatus.Failed, "sbom generation failed", Day);
        var next = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        var version = await catalog.CompleteBuildAsync(next.Id, [], [], VersionStatus.Built, Day);

        // Assert
        (await catalog.GetBuildAsync(failed.Id))!.Version.ShouldBeNull();
        version.Version.ShouldBe("2025.03.04.1");
    }

    [Fact]
    public async Task A_rescan_adds_evidence_and_keeps_the_earlier_documents()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var version = await catalog.BuildVersionAsync("web", Day);

        // Act
        await catalog.AddEvidenceAsync("web", version.Version, [Sbom("01")], Day.AddDays(1));
        await catalog.AddEvidenceAsync("web", version.Version, [Sbom("02")], Day.AddDays(2));

        // Assert
        var evidence = (await catalog.GetVersionAsync("web", version.Version))!.Evidence;
        evidence.Select(e => e.Sha256).ShouldBe(["01", "02"]);
        await Should.ThrowAsync<CatalogException>(() =>
            catalog.AddEvidenceAsync("web", "2025.03.04.9", [Sbom()], Day)
        );
    }
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class EvidenceSpecsOnSqlite() : EvidenceSpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class EvidenceSpecsOnPostgres() : EvidenceSpecs(CatalogBackend.Postgres);
