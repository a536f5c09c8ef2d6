using System.Net;
using ImageForge.Server.Api;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Microsoft.Extensions.Options;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Api;

/// <summary>GET /health: Packer's version and each tool, without a token, cached for a minute.</summary>
public sealed class HealthSpecs(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact(Timeout = 60_000)]
    public async Task Health_reports_packer_s_version_and_every_tool()
    {
        using var client = api.CreateClient();

        var health = await ApiAssert.JsonAsync(await client.GetAsync("/health"), HttpStatusCode.OK);

        health.GetProperty("status").GetString().ShouldBeOneOf("ok", "degraded");
        health.GetProperty("packer").GetProperty("available").GetBoolean().ShouldBeTrue();
        health.GetProperty("packer").GetProperty("version").GetString().ShouldBe("1.6.6");
        var tools = health.GetProperty("tools");
        tools
            .EnumerateObject()
            .Select(t => t.Name)
            .ShouldBe(["packer", "mmdebstrap", "oscap", "zstd", "mkfs.ext4", "dpkg-deb"]);
        tools.GetProperty("packer").GetProperty("path").GetString().ShouldBe(ApiFactory.FakePacker);
        foreach (var tool in tools.EnumerateObject())
        {
            tool.Value.GetProperty("available")
                .ValueKind.ShouldBeOneOf(
                    System.Text.Json.JsonValueKind.True,
                    System.Text.Json.JsonValueKind.False
                );
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_packer_makes_health_degraded()
    {
        using var directory = new TempDirectory();
        var time = new ManualTimeProvider(ApiFactory.Start);
        using var probe = new HealthProbe(
            Options.Create(
                new ApiHealthOptions
                {
                    PackerExecutable = directory.Combine("packer"),
                    SearchPath = directory.Path,
                }
            ),
            time,
            TestProviders.Shipped
        );

        var report = await probe.GetAsync();

        report.Status.ShouldBe("degraded");
        report.Packer.ShouldBe(new PackerHealth(false, null));
        report.Tools["packer"].ShouldBe(new ToolHealth(false, null));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_answer_is_reused_for_a_minute_then_probed_again()
    {
        using var directory = new TempDirectory();
        var zstd = directory.Combine("zstd");
        await File.WriteAllTextAsync(zstd, "#!/bin/sh\n");
        File.SetUnixFileMode(zstd, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var time = new ManualTimeProvider(ApiFactory.Start);
        using var probe = new HealthProbe(
            Options.Create(
                new ApiHealthOptions
                {
                    PackerExecutable = ApiFactory.FakePacker,
                    SearchPath = directory.Path,
                }
            ),
            time,
            TestProviders.Shipped
        );

        var first = await probe.GetAsync();
        File.Delete(zstd);
        time.Advance(TimeSpan.FromSeconds(59));
        var cached = await probe.GetAsync();
        time.Advance(TimeSpan.FromSeconds(2));
        var fresh = await probe.GetAsync();

        first.Tools["zstd"].ShouldBe(new ToolHealth(true, zstd));
        cached.ShouldBeSameAs(first);
        fresh.Tools["zstd"].Available.ShouldBeFalse();
        fresh.Status.ShouldBe("degraded");
    }

    [Theory(Timeout = 60_000)]
    [InlineData(0.2, null, true, null)]
    [InlineData(31, null, false, "waited 31 s for the catalog's writer lock (more than 30 s)")]
    [InlineData(
        0,
        "The catalog postgresql://imageforge@db:5432/imageforge does not answer",
        false,
        "does not answer"
    )]
    public async Task The_worker_s_last_catalog_write_failing_or_waiting_over_30_s_makes_health_degraded(
        double seconds,
        string? failure,
        bool available,
        string? problem
    )
    {
        var time = new ManualTimeProvider(ApiFactory.Start);
        var writes = new Queue.CatalogHealthMonitor();
        using var probe = new HealthProbe(
            Options.Create(
                new ApiHealthOptions { PackerExecutable = ApiFactory.FakePacker, SearchPath = "" }
            ),
            time,
            TestProviders.Shipped,
            writes: writes
        );
        var before = await probe.GetAsync();
        writes.Record(ApiFactory.Start, TimeSpan.FromSeconds(seconds), failure);
        time.Advance(TimeSpan.FromMinutes(1));

        var report = await probe.GetAsync();

        before.Catalog.ShouldBe(new CatalogHealth(true, null, null, null, null));
        report.Catalog.Available.ShouldBe(available);
        report.Catalog.LastWriteAt.ShouldBe(ApiFactory.Start);
        report.Catalog.LastWriteSeconds.ShouldBe(seconds);
        if (problem is null)
        {
            report.Catalog.Problem.ShouldBeNull();
        }
        else
        {
            report.Catalog.Problem!.ShouldContain(problem);
            report.Status.ShouldBe("degraded");
        }
    }
}
