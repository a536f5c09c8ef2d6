using ImageForge.Core.Builds;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

public abstract class ListingSpecs(CatalogBackend backend) : IDisposable
{
    private static readonly DateTimeOffset Day = new(2025, 3, 4, 9, 0, 0, TimeSpan.Zero);

    private readonly TempDataDirectory _data = new(backend);

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Builds_are_listed_newest_first_optionally_of_one_image_and_up_to_the_limit()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        foreach (var image in new[] { "web", "db", "web", "cache", "web" })
        {
            await catalog.StartBuildAsync(Builds.For(image), ownerPid: 1);
            _data.Time.Advance(TimeSpan.FromMinutes(1));
        }

        // Act
        var all = await catalog.ListBuildsAsync();
        var web = await catalog.ListBuildsAsync("web");
        var latestTwo = await catalog.ListBuildsAsync(limit: 2);

        // Assert
        all.Select(b => b.Id).ShouldBe(["5", "4", "3", "2", "1"]);
        web.Select(b => b.Id).ShouldBe(["5", "3", "1"]);
        latestTwo.Select(b => b.Id).ShouldBe(["5", "4"]);
        (await catalog.ListBuildsAsync("nothing")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Builds_started_in_the_same_millisecond_are_listed_newest_number_first()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);

        // Act
        var builds = await catalog.ListBuildsAsync();

        // Assert
        builds.Select(b => b.Id).ShouldBe(["2", "1"]);
    }

    [Fact]
    public async Task Running_builds_are_listed_oldest_first_for_cleanup_after_a_dead_owner()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var first = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 11);
        var done = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 12);
        var second = await catalog.StartBuildAsync(Builds.For("db"), ownerPid: 13);
        await catalog.SetToolProcessGroupAsync(second.Id, 1300);
        await catalog.CompleteBuildAsync(done.Id, [], [], VersionStatus.Built, Day);

        // Act
        var running = await catalog.ListRunningBuildsAsync();

        // Assert
        running.ShouldBe([first, second with { ToolProcessGroup = 1300 }]);
    }

    [Fact]
    public async Task Images_are_listed_by_name_with_their_version_count_and_latest_version()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        await catalog.BuildVersionAsync("web", Day);
        await catalog.BuildVersionAsync("web", Day.AddHours(1));
        await catalog.BuildVersionAsync("base", Day.AddHours(2));
        var failed = await catalog.StartBuildAsync(Builds.For("cache"), ownerPid: 1);
        await catalog.EndBuildAsync(failed.Id, BuildStatus.Failed, "boom", Day);

        // Act
        var images = await catalog.ListImagesAsync();

        // Assert
        images.ShouldBe([
            new ImageSummary("base", 1, "2025.03.04.1", Day.AddHours(2)),
            new ImageSummary("cache", 0, null, null),
            new ImageSummary("web", 2, "2025.03.04.2", Day.AddHours(1)),
        ]);
    }

    [Fact]
    public async Task An_empty_catalog_lists_nothing()
    {
        // Arrange
        var catalog = await _data.OpenAsync();

        // Act
        var images = await catalog.ListImagesAsync();

        // Assert
        images.ShouldBeEmpty();
        (await catalog.ListBuildsAsync()).ShouldBeEmpty();
        (await catalog.ListRunningBuildsAsync()).ShouldBeEmpty();
        (await catalog.ListVersionsAsync("web")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Versions_are_listed_newest_first_each_with_its_own_artifacts_in_order()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        await catalog.BuildVersionAsync(
            "web",
            Day,
            [Builds.Tarball("web", "01"), Builds.Tarball("web", "02")]
        );
        await catalog.BuildVersionAsync("web", Day.AddDays(1), []);
        await catalog.BuildVersionAsync("web", Day.AddDays(2), [Builds.Tarball("web", "03")]);
        await catalog.BuildVersionAsync("other", Day, [Builds.Tarball("other", "99")]);

        // Act
        var versions = await catalog.ListVersionsAsync("web");
        var newestTwo = await catalog.ListVersionsAsync("web", limit: 2);

        // Assert
        versions
            .Select(v => (v.Version, string.Join(",", v.Artifacts.Select(a => a.Sha256))))
            .ShouldBe([("2025.03.06.1", "03"), ("2025.03.05.1", ""), ("2025.03.04.1", "01,02")]);
        newestTwo.Select(v => v.Version).ShouldBe(["2025.03.06.1", "2025.03.05.1"]);
        newestTwo[0].Artifacts.Single().Sha256.ShouldBe("03");
    }

    [Fact]
    public async Task Asking_for_a_version_that_does_not_exist_finds_nothing()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        await catalog.BuildVersionAsync("web", Day);

        // Act
        var unknownVersion = await catalog.GetVersionAsync("web", "2025.03.04.2");
        var unknownImage = await catalog.GetVersionAsync("db", "2025.03.04.1");

        // Assert
        unknownVersion.ShouldBeNull();
        unknownImage.ShouldBeNull();
        (await catalog.GetVersionAsync("web", "2025.03.04.1")).ShouldNotBeNull();
    }
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class ListingSpecsOnSqlite() : ListingSpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class ListingSpecsOnPostgres() : ListingSpecs(CatalogBackend.Postgres);
