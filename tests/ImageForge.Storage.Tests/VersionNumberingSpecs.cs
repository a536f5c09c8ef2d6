using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

public abstract class VersionNumberingSpecs(CatalogBackend backend) : IDisposable
{
    private static readonly DateTimeOffset Morning = new(2025, 3, 4, 8, 0, 0, TimeSpan.Zero);

    private readonly TempDataDirectory _data = new(backend);

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Builds_of_one_image_on_one_UTC_day_are_numbered_one_two_three()
    {
        // Arrange
        var catalog = await _data.OpenAsync();

        // Act
        var versions = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            versions.Add((await catalog.BuildVersionAsync("web", Morning.AddHours(i))).Version);
        }

        // Assert
        versions.ShouldBe(["2025.03.04.1", "2025.03.04.2", "2025.03.04.3"]);
    }

    [Fact]
    public async Task Numbering_starts_again_at_one_on_the_next_UTC_day()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        await catalog.BuildVersionAsync("web", Morning);
        await catalog.BuildVersionAsync(
            "web",
            new DateTimeOffset(2025, 3, 4, 23, 59, 59, 999, TimeSpan.Zero)
        );

        // Act
        var midnight = await catalog.BuildVersionAsync(
            "web",
            new DateTimeOffset(2025, 3, 5, 0, 0, 0, TimeSpan.Zero)
        );
        var later = await catalog.BuildVersionAsync(
            "web",
            new DateTimeOffset(2025, 3, 5, 9, 0, 0, TimeSpan.Zero)
        );

        // Assert
        midnight.Version.ShouldBe("2025.03.05.1");
        later.Version.ShouldBe("2025.03.05.2");
    }

    [Fact]
    public async Task The_day_of_a_version_is_the_UTC_day_whatever_the_offset_of_the_time_given()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var earlyInBerlinLateInUtc = new DateTimeOffset(
            2025,
            3,
            5,
            0,
            30,
            0,
            TimeSpan.FromHours(1)
        );

        // Act
        var version = await catalog.BuildVersionAsync("web", earlyInBerlinLateInUtc);

        // Assert
        version.Version.ShouldBe("2025.03.04.1");
        version.CreatedAt.ShouldBe(earlyInBerlinLateInUtc);
        version.CreatedAt.Offset.ShouldBe(TimeSpan.Zero);
    }

    [Fact]
    public async Task The_tenth_build_of_a_day_is_numbered_ten_and_sorts_after_the_ninth()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        for (var i = 0; i < 10; i++)
        {
            await catalog.BuildVersionAsync("web", Morning.AddMinutes(i));
        }

        // Act
        var eleventh = await catalog.BuildVersionAsync("web", Morning.AddMinutes(10));

        // Assert
        eleventh.Version.ShouldBe("2025.03.04.11");
        (await catalog.ListVersionsAsync("web", limit: 4))
            .Select(v => v.Version)
            .ShouldBe(["2025.03.04.11", "2025.03.04.10", "2025.03.04.9", "2025.03.04.8"]);
        (await catalog.GetVersionAsync("web", "2025.03.04.10"))!.CreatedAt.ShouldBe(
            Morning.AddMinutes(9)
        );
        (await catalog.ListImagesAsync()).Single().LatestVersion.ShouldBe("2025.03.04.11");
    }

    [Fact]
    public async Task Each_image_counts_its_own_builds()
    {
        // Arrange
        var catalog = await _data.OpenAsync();

        // Act
        var web1 = await catalog.BuildVersionAsync("web", Morning);
        var db1 = await catalog.BuildVersionAsync("db", Morning.AddMinutes(1));
        var web2 = await catalog.BuildVersionAsync("web", Morning.AddMinutes(2));
        var db2 = await catalog.BuildVersionAsync("db", Morning.AddMinutes(3));

        // Assert
        new[] { web1.Version, web2.Version, db1.Version, db2.Version }.ShouldBe([
            "2025.03.04.1",
            "2025.03.04.2",
            "2025.03.04.1",
            "2025.03.04.2",
        ]);
    }

    [Fact]
    public async Task Failed_builds_use_no_number()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        await catalog.BuildVersionAsync("web", Morning);
        var failed = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        await catalog.EndBuildAsync(
            failed.Id,
            Core.Builds.BuildStatus.Failed,
            "boom",
            Morning.AddMinutes(1)
        );

        // Act
        var next = await catalog.BuildVersionAsync("web", Morning.AddMinutes(2));

        // Assert
        next.Version.ShouldBe("2025.03.04.2");
    }

    [Fact]
    public async Task A_version_dated_before_the_latest_does_not_replace_it_as_latest()
    {
        // Arrange: a second machine whose clock is a day behind completes a build after the first.
        var catalog = await _data.OpenAsync();
        await catalog.BuildVersionAsync("web", Morning);

        // Act
        var behind = await catalog.BuildVersionAsync("web", Morning.AddDays(-1));

        // Assert
        behind.Version.ShouldBe("2025.03.03.1");
        (await catalog.ListImagesAsync()).ShouldBe([
            new Core.Builds.ImageSummary("web", 2, "2025.03.04.1", Morning),
        ]);
        (await catalog.ListVersionsAsync("web"))
            .Select(v => v.Version)
            .ShouldBe(["2025.03.04.1", "2025.03.03.1"]);
    }
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class VersionNumberingSpecsOnSqlite() : VersionNumberingSpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class VersionNumberingSpecsOnPostgres()
    : VersionNumberingSpecs(CatalogBackend.Postgres);
