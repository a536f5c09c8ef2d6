using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Facts;
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
    public async Task The_newest_versions_of_every_image_are_read_together_newest_first_without_pending_ones()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        for (var i = 1; i <= 11; i++)
        {
            await catalog.BuildVersionAsync(
                "web",
                Day.AddMinutes(i),
                [Builds.Tarball("web", $"{i:00}")]
            );
        }

        await catalog.BuildVersionAsync("db", Day, [Builds.Tarball("db", "d1")]);
        var pending = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        await catalog.ReserveVersionAsync(pending.Id, Day.AddHours(1));

        // Act
        var newest = await catalog.ListNewestVersionsAsync(3);

        // Assert
        newest.Keys.Order(StringComparer.Ordinal).ShouldBe(["db", "web"]);
        newest["web"]
            .Select(v => v.Version)
            .ShouldBe(["2025.03.04.11", "2025.03.04.10", "2025.03.04.9"]);
        newest["web"].Select(v => v.Artifacts.Single().Sha256).ShouldBe(["11", "10", "09"]);
        newest["db"].Single().Artifacts.Single().Sha256.ShouldBe("d1");
        newest["web"][0].ShouldBeVersion((await catalog.GetVersionAsync("web", "2025.03.04.11"))!);
    }

    [Fact]
    public async Task Versions_named_by_image_and_number_are_read_together_and_unknown_ones_left_out()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        await catalog.BuildVersionAsync("web", Day, [Builds.Tarball("web", "w1")]);
        await catalog.BuildVersionAsync("web", Day.AddMinutes(1), [Builds.Tarball("web", "w2")]);
        await catalog.BuildVersionAsync("db", Day, [Builds.Tarball("db", "d1")]);

        // Act
        var found = await catalog.GetVersionsAsync([
            ("web", "2025.03.04.2"),
            ("db", "2025.03.04.1"),
            ("db", "2025.03.04.9"),
            ("web", "2025.03.04.2"),
        ]);

        // Assert
        found
            .Select(v => (v.Image, v.Version, v.Artifacts.Single().Sha256))
            .ShouldBe([("db", "2025.03.04.1", "d1"), ("web", "2025.03.04.2", "w2")]);
    }

    [Fact]
    public async Task Versions_are_read_with_only_the_evidence_kinds_asked_for_or_none()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var web = await catalog.BuildVersionAsync("web", Day, [Builds.Tarball("web", "w1")]);
        await catalog.AddEvidenceAsync(
            "web",
            web.Version,
            [
                Evidence("gate-decision", "g1"),
                Evidence("sbom-cyclonedx", "s1"),
                Evidence("gate-decision", "g2"),
            ],
            Day.AddMinutes(1)
        );

        // Act
        var gates = await catalog.GetVersionsAsync([("web", web.Version)], ["gate-decision"]);
        var none = await catalog.ListNewestVersionsAsync(1, []);
        var all = await catalog.GetVersionsAsync([("web", web.Version)]);

        // Assert
        gates.Single().Evidence.Select(e => e.Sha256).ShouldBe(["g1", "g2"]);
        none["web"].Single().Evidence.ShouldBeEmpty();
        none["web"].Single().Artifacts.Single().Sha256.ShouldBe("w1");
        all.Single().Evidence.Select(e => e.Sha256).ShouldBe(["g1", "s1", "g2"]);
    }

    [Fact]
    public async Task What_each_version_was_built_from_is_read_from_its_lineage_and_base_facts()
    {
        // Arrange: one version with a lineage and base facts, one with a parent version, one with neither.
        var catalog = await _data.OpenAsync();
        var first = await catalog.BuildVersionAsync("web", Day);
        var child = await catalog.BuildVersionAsync("app", Day);
        var bare = await catalog.BuildVersionAsync("web", Day.AddMinutes(1));
        await catalog.RecordLineageAsync(
            new(first.Image, first.Version, "debian/bullseye", null, null)
        );
        await catalog.RecordLineageAsync(
            new(child.Image, child.Version, null, first.Image, first.Version)
        );
        var root = new FactSnapshot(
            first.Version,
            new Dictionary<string, IReadOnlySet<string>>
            {
                [FactNames.SetuidFile] = new SortedSet<string> { "/usr/bin/su 11" },
            },
            new Dictionary<string, double>()
        );
        await catalog.RecordFactsAsync(
            "web",
            "local",
            new FactSnapshot(
                first.Version,
                new Dictionary<string, IReadOnlySet<string>>(),
                new Dictionary<string, double>()
            )
            {
                BaseKey = "k1",
                Base = root,
            }
        );

        // Act
        var bases = await catalog.GetVersionBasesAsync([
            ("web", first.Version),
            ("app", child.Version),
            ("web", bare.Version),
        ]);

        // Assert
        bases[("web", first.Version)]
            .ShouldBe(new(first.Version, "debian/bullseye", null, "k1", root.Digest()));
        bases[("app", child.Version)]
            .ShouldBe(new(child.Version, null, $"web@{first.Version}", null, null));
        bases[("web", bare.Version)].ShouldBe(new(bare.Version, null, null, null, null));
    }

    private static EvidenceDocument Evidence(string kind, string sha256) =>
        new()
        {
            Kind = kind,
            Location = $"/evidence/{sha256}.json",
            Sha256 = sha256,
            MediaType = "application/json",
        };

    [Fact]
    public async Task The_version_before_another_goes_by_day_and_number_so_the_tenth_follows_the_ninth()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        for (var i = 1; i <= 11; i++)
        {
            await catalog.BuildVersionAsync("web", Day.AddMinutes(i));
        }

        await catalog.BuildVersionAsync("web", Day.AddDays(1));
        await catalog.BuildVersionAsync("db", Day);

        // Act
        var beforeTenth = await catalog.GetPreviousVersionAsync("web", "2025.03.04.10");
        var beforeNextDay = await catalog.GetPreviousVersionAsync("web", "2025.03.05.1");

        // Assert
        beforeTenth.ShouldBe("2025.03.04.9");
        beforeNextDay.ShouldBe("2025.03.04.11");
        (await catalog.GetPreviousVersionAsync("web", "2025.03.04.1")).ShouldBeNull();
        (await catalog.GetPreviousVersionAsync("db", "2025.03.04.1")).ShouldBeNull();
        (await catalog.GetPreviousVersionAsync("web", "2099.01.01.1")).ShouldBeNull();
    }

    [Fact]
    public async Task Every_images_channels_are_read_together_as_each_images_own_read_gives_them()
    {
        // Arrange
        var catalog = await _data.OpenAsync();
        var web = await catalog.BuildVersionAsync("web", Day);
        var db = await catalog.BuildVersionAsync("db", Day);
        await catalog.MovePointerAsync(
            "web",
            "prod",
            null,
            web.Version,
            "promote",
            Audit("web", "prod")
        );
        await catalog.MovePointerAsync(
            "web",
            "dev",
            null,
            web.Version,
            "promote",
            Audit("web", "dev")
        );
        await catalog.MovePointerAsync(
            "db",
            "dev",
            null,
            db.Version,
            "promote",
            Audit("db", "dev")
        );

        // Act
        var all = await catalog.GetAllChannelsAsync();

        // Assert
        all.Select(c => (c.Image, c.Channel))
            .ShouldBe([("db", "dev"), ("web", "dev"), ("web", "prod")]);
        all.ShouldBe([
            .. await catalog.GetChannelsAsync("db"),
            .. await catalog.GetChannelsAsync("web"),
        ]);
    }

    private AuditEntry Audit(string image, string channel) =>
        new()
        {
            Action = "promote",
            Actor = "alice",
            Role = "release-manager",
            Time = _data.Time.GetUtcNow(),
            Image = image,
            Version = "2025.03.04.1",
            Channel = channel,
        };

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
