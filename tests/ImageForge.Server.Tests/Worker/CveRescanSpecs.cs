using ImageForge.Core.Audit;
using ImageForge.Core.Builds;
using ImageForge.Core.Inventory;
using ImageForge.Core.Sbom;
using ImageForge.Server.Scheduling;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Worker;

public sealed class CveRescanSpecs
{
    private const string Image = "debian-11-cis";
    private static readonly DateTimeOffset Now = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_prod_version_with_a_fixable_finding_in_the_newest_data_triggers_exactly_one_cve_build()
    {
        await using var worker = await WorkerFixture.CreateAsync(Now);
        // The shipped baseline asks for rebuilds on fixable high findings; the scan uses only the OSV directory here.
        await File.AppendAllTextAsync(
            worker.ContentFile("baselines", "debian-11-anssi.yaml"),
            "\nvulnerabilities:\n  sources: [osv]\n"
        );
        var version = await RecordVersionInProdAsync(worker, ("openssl", "1.1.1n-0+deb11u3"));
        var rescan = new CveRescan(worker.Catalog, worker.Pipeline, worker.Signal, worker.Time);

        // Nothing known yet: no build.
        (await rescan.RunAsync(default)).ShouldBeEmpty();

        WriteOsv(worker, "DSA-9001-1", "openssl", fixedIn: "1.1.1w-0+deb11u1", critical: true);
        WriteOsv(worker, "DSA-9002-1", "openssl", fixedIn: null, critical: true); // no fix: no rebuild for it
        var first = await rescan.RunAsync(default);
        var again = await rescan.RunAsync(default);

        var result = first.ShouldHaveSingleItem();
        result.Version.ShouldBe(version.Version);
        result.Advisories.ShouldBe(["DSA-9001-1"]);
        var build = result.Queued.ShouldNotBeNull();
        build.Trigger.ShouldBe(BuildTrigger.Cve);
        build.Reason!.ShouldContain("DSA-9001-1");
        again.ShouldHaveSingleItem().Queued.ShouldBeNull(); // same advisory set: no second build
        var queued = await worker.Catalog.ListQueuedAsync();
        queued.Select(b => b.Id).ShouldBe([build.Id]);

        // A new advisory makes a new set: one more build.
        WriteOsv(worker, "DSA-9003-1", "openssl", fixedIn: "1.1.1w-0+deb11u2", critical: true);
        var third = await rescan.RunAsync(default);
        third.ShouldHaveSingleItem().Advisories.ShouldBe(["DSA-9001-1", "DSA-9003-1"]);
        (await worker.Catalog.ListQueuedAsync()).Count.ShouldBe(2);
    }

    [Fact]
    public async Task A_finding_below_the_baselines_severity_or_a_version_in_no_channel_triggers_nothing()
    {
        await using var worker = await WorkerFixture.CreateAsync(Now);
        await File.AppendAllTextAsync(
            worker.ContentFile("baselines", "debian-11-anssi.yaml"),
            "\nvulnerabilities:\n  sources: [osv]\n"
        );
        await RecordVersionInProdAsync(worker, ("zlib1g", "1:1.2.11.dfsg-2+deb11u2"));
        WriteOsv(worker, "DSA-9100-1", "zlib", fixedIn: "1:1.2.11.dfsg-2+deb11u3", critical: false);
        var rescan = new CveRescan(worker.Catalog, worker.Pipeline, worker.Signal, worker.Time);

        (await rescan.RunAsync(default)).ShouldBeEmpty();
        (await worker.Catalog.ListQueuedAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_cve_rebuild_of_a_definition_that_requires_kvm_waits_for_a_worker_with_kvm()
    {
        await using var worker = await WorkerFixture.CreateAsync(Now);
        await File.AppendAllTextAsync(
            worker.ContentFile("baselines", "debian-11-anssi.yaml"),
            "\nvulnerabilities:\n  sources: [osv]\n"
        );
        await RecordVersionInProdAsync(worker, ("openssl", "1.1.1n-0+deb11u3"));
        await KvmClaims.RequireKvmAsync(worker);
        WriteOsv(worker, "DSA-9001-1", "openssl", fixedIn: "1.1.1w-0+deb11u1", critical: true);

        var result = (
            await new CveRescan(
                worker.Catalog,
                worker.Pipeline,
                worker.Signal,
                worker.Time
            ).RunAsync(default)
        ).ShouldHaveSingleItem();

        await KvmClaims.ShouldGoOnlyToKvmAsync(
            worker,
            result.Queued.ShouldNotBeNull().Id,
            required: true
        );
    }

    private static async Task<ImageVersion> RecordVersionInProdAsync(
        WorkerFixture worker,
        params (string Name, string Version)[] packages
    )
    {
        var schedules = new ScheduledBuilds(
            worker.Catalog,
            worker.Pipeline,
            worker.Signal,
            worker.Time
        );
        await schedules.FireAsync(Image, "local", Now.AddDays(-2), true, default);
        var inventory = Path.Combine(worker.Data.Root, "packages.tsv");
        await File.WriteAllLinesAsync(
            inventory,
            [
                string.Join('\t', PackageInventory.Columns),
                .. packages.Select(p =>
                    string.Join(
                        '\t',
                        p.Name,
                        p.Version,
                        "amd64",
                        p.Name == "zlib1g" ? "zlib" : p.Name,
                        p.Version,
                        "Debian",
                        "1",
                        "",
                        "deb"
                    )
                ),
            ]
        );
        var version = await worker.CompleteNextQueuedAsync([
            new Artifact
            {
                Target = "local",
                Region = "local",
                Kind = EvidenceFiles.PackageInventory,
                Location = inventory,
            },
        ]);
        await worker.Catalog.MovePointerAsync(
            Image,
            "prod",
            null,
            version.Version,
            "promote",
            new AuditEntry
            {
                Action = "promote",
                Actor = "test",
                Role = "admin",
                Time = Now,
                Image = Image,
                Version = version.Version,
                Channel = "prod",
            }
        );
        (await worker.Catalog.ListQueuedAsync()).ShouldBeEmpty();
        return version;
    }

    private static void WriteOsv(
        WorkerFixture worker,
        string id,
        string package,
        string? fixedIn,
        bool critical
    )
    {
        var directory = Path.Combine(worker.Data.Root, "osv");
        Directory.CreateDirectory(directory);
        var events = fixedIn is null
            ? """{"introduced":"0"}"""
            : $$"""{"introduced":"0"},{"fixed":"{{fixedIn}}"}""";
        var vector = critical
            ? "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
            : "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N";
        File.WriteAllText(
            Path.Combine(directory, id + ".json"),
            $$"""
            {"id":"{{id}}","modified":"2026-11-01T00:00:00Z",
             "severity":[{"type":"CVSS_V3","score":"{{vector}}"}],
             "affected":[{"package":{"ecosystem":"Debian:11","name":"{{package}}"},
                          "ranges":[{"type":"ECOSYSTEM","events":[{{events}}]}]}]}
            """
        );
    }
}
