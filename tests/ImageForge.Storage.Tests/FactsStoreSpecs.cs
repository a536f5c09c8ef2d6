using ImageForge.Core.Builds;
using ImageForge.Core.Facts;
using Shouldly;
using Xunit;

namespace ImageForge.Storage.Tests;

public abstract class FactsStoreSpecs(CatalogBackend backend) : IDisposable
{
    private static readonly DateTimeOffset Day = new(2025, 3, 4, 9, 0, 0, TimeSpan.Zero);

    private readonly TempDataDirectory _data = new(backend);

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    private static FactSnapshot Facts(string version, string unit, double disk) =>
        new(
            version,
            new Dictionary<string, IReadOnlySet<string>>
            {
                [FactNames.EnabledUnit] = new SortedSet<string>(["ssh.service", unit]),
                [FactNames.Sudoers] = new SortedSet<string>(),
            },
            new Dictionary<string, double> { [FactNames.DiskBytes] = disk }
        );

    // Builds a version through the catalog's own lifecycle, recording its facts while it is pending.
    private static async Task<string> BuildAsync(
        Catalog catalog,
        string unit,
        double disk,
        VersionStatus status = VersionStatus.Built,
        bool complete = true
    )
    {
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        var version = await catalog.ReserveVersionAsync(build.Id, Day);
        await catalog.RecordFactsAsync("web", "local", Facts(version, unit, disk));
        if (complete)
        {
            await catalog.CompleteBuildAsync(build.Id, [Builds.Tarball("web")], [], status, Day);
        }
        else
        {
            await catalog.EndBuildAsync(build.Id, BuildStatus.Failed, "packer failed", Day);
        }
        return version;
    }

    [Fact]
    public async Task Facts_recorded_while_pending_read_back_as_the_same_sets_and_measurements()
    {
        var catalog = await _data.OpenAsync();
        var version = await BuildAsync(catalog, "nginx.service", 2e9);

        var stored = await catalog.GetFactsAsync("web", version, "local");

        stored.ShouldNotBeNull();
        stored.Set(FactNames.EnabledUnit).ShouldBe(["nginx.service", "ssh.service"]);
        stored.Metrics[FactNames.DiskBytes].ShouldBe(2e9);
        (await catalog.GetFactsAsync("web", version, "aws")).ShouldBeNull();
    }

    [Fact]
    public async Task The_base_facts_and_key_of_a_version_read_back_apart_from_its_own()
    {
        var catalog = await _data.OpenAsync();
        var build = await catalog.StartBuildAsync(Builds.For("web"), ownerPid: 1);
        var version = await catalog.ReserveVersionAsync(build.Id, Day);
        var own = Facts(version, "nginx.service", 2e9);
        await catalog.RecordFactsAsync(
            "web",
            "local",
            own with
            {
                BaseKey = "3fa2b1",
                Base = Facts(version, "base-only.service", 1e9),
            }
        );
        await catalog.CompleteBuildAsync(
            build.Id,
            [Builds.Tarball("web")],
            [],
            VersionStatus.Built,
            Day
        );

        var stored = await catalog.GetFactsAsync("web", version, "local");
        var history = await catalog.HistoryAsync("web", "local", null, 20);

        foreach (var facts in new[] { stored!, history.Single() })
        {
            facts.Sets.Keys.ShouldBe([FactNames.EnabledUnit]);
            facts.Set(FactNames.EnabledUnit).ShouldBe(["nginx.service", "ssh.service"]);
            facts.BaseKey.ShouldBe("3fa2b1");
            facts.Base!.Set(FactNames.EnabledUnit).ShouldBe(["base-only.service", "ssh.service"]);
            facts.Base.Metrics.ShouldBe(
                new Dictionary<string, double> { [FactNames.DiskBytes] = 1e9 }
            );
            facts.Metrics.ShouldBe(new Dictionary<string, double> { [FactNames.DiskBytes] = 2e9 });
        }
    }

    [Fact]
    public async Task History_holds_the_newest_successful_versions_oldest_first_without_rejected_or_failed_builds()
    {
        var catalog = await _data.OpenAsync();
        var first = await BuildAsync(catalog, "a.service", 1);
        await BuildAsync(catalog, "rejected.service", 2, VersionStatus.Rejected);
        await BuildAsync(catalog, "failed.service", 3, complete: false);
        var second = await BuildAsync(catalog, "b.service", 4);
        var third = await BuildAsync(catalog, "c.service", 5);
        var current = await BuildAsync(catalog, "d.service", 6, complete: false);

        var all = await catalog.HistoryAsync("web", "local", current, 20);
        var two = await catalog.HistoryAsync("web", "local", third, 2);

        all.Select(s => s.Version).ShouldBe([first, second, third]);
        two.Select(s => s.Version).ShouldBe([first, second]);
        (await catalog.HistoryAsync("web", "aws", null, 20)).ShouldBeEmpty();
    }
}

/// <summary>The specs on the embedded SQLite catalog.</summary>
public sealed class FactsStoreSpecsOnSqlite() : FactsStoreSpecs(CatalogBackend.Sqlite);

/// <summary>The specs on a PostgreSQL catalog.</summary>
public sealed class FactsStoreSpecsOnPostgres() : FactsStoreSpecs(CatalogBackend.Postgres);
