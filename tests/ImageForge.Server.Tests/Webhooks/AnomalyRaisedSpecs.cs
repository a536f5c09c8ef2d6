using System.Text.Json;
using ImageForge.Application.Views;
using ImageForge.Core.Anomalies;
using ImageForge.Core.Builds;
using ImageForge.Server.Queue;
using ImageForge.Server.Tests.Api;
using ImageForge.TestSupport;
using Shouldly;
using Xunit;

namespace ImageForge.Server.Tests.Webhooks;

/// <summary>
/// What the worker publishes when a build ends (<see cref="BuildEvents"/>, as the queue runner calls it): one
/// anomaly.raised for a version with new high or critical anomalies, none otherwise.
/// </summary>
public sealed class AnomalyRaisedSpecs(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static readonly Anomaly Uid0 = AnomalyReports.Of(
        "uid0_account",
        "toor",
        AnomalySeverity.Critical,
        "account toor has uid 0 (toor uid=0 gid=0 shell=/bin/sh); only root may",
        AnomalyDetectorKind.Rule
    );

    private static readonly Anomaly Inherited = AnomalyReports.Setuid with
    {
        Id = Anomaly.IdOf("setuid_file", "/usr/bin/from-parent"),
        Inherited = true,
    };

    [Fact]
    public async Task A_build_with_a_new_high_anomaly_publishes_anomaly_raised_once_with_the_raised_serious_ones()
    {
        var (build, version) = await BuildAsync(
            "raised-high",
            Uid0,
            AnomalyReports.Setuid,
            AnomalyReports.Unit,
            Inherited
        );
        var events = new RecordingWorkerEvents();

        await BuildEvents.PublishFinishedAsync(events, build, version, CancellationToken.None);

        events
            .Published.Select(e => e.Type)
            .ShouldBe([WorkerEventTypes.BuildFinished, WorkerEventTypes.AnomalyRaised]);
        var data = Data(events.Published[1].Data);
        data.GetProperty("image").GetString().ShouldBe("raised-high");
        data.GetProperty("version").GetString().ShouldBe(version.Version);
        data.GetProperty("build_id").GetString().ShouldBe(build.Id);
        // The expected medium one and the inherited high one are not new: left out.
        var anomalies = data.GetProperty("anomalies").EnumerateArray().ToList();
        anomalies
            .Select(a => a.GetProperty("id").GetString())
            .ShouldBe([Uid0.Id, AnomalyReports.Setuid.Id]);
        anomalies[0]
            .EnumerateObject()
            .Select(p => p.Name)
            .ShouldBe(["id", "signal", "severity", "explanation"]);
        anomalies[0].GetProperty("signal").GetString().ShouldBe("uid0_account");
        anomalies[0].GetProperty("severity").GetString().ShouldBe("critical");
        anomalies[0].GetProperty("explanation").GetString().ShouldBe(Uid0.Explanation);
        anomalies[1].GetProperty("severity").GetString().ShouldBe("high");
    }

    [Fact]
    public async Task A_build_whose_anomalies_are_all_medium_inherited_or_expected_publishes_no_anomaly_raised()
    {
        var (build, version) = await BuildAsync(
            "raised-none",
            AnomalyReports.Unit,
            Inherited,
            AnomalyReports.Setuid with
            {
                Id = Anomaly.IdOf("size.rootfs_bytes", "size.rootfs_bytes"),
                Signal = "size.rootfs_bytes",
                Severity = AnomalySeverity.Medium,
            }
        );
        var bare = await api.AddVersionAsync("raised-no-report");
        var events = new RecordingWorkerEvents();

        await BuildEvents.PublishFinishedAsync(events, build, version, CancellationToken.None);
        await BuildEvents.PublishFinishedAsync(
            events,
            (await api.Catalog.GetBuildAsync(bare.BuildId))!,
            bare,
            CancellationToken.None
        );

        events.Published.ShouldAllBe(e => e.Type == WorkerEventTypes.BuildFinished);
        events.Published.Count.ShouldBe(2);
    }

    private async Task<(BuildRecord Build, ImageVersion Version)> BuildAsync(
        string image,
        params Anomaly[] anomalies
    )
    {
        var version = await api.AddVersionAsync(
            image,
            (AnomalyReport.Kind, AnomalyReport.MediaType, AnomalyReports.Report(image, anomalies))
        );
        return ((await api.Catalog.GetBuildAsync(version.BuildId))!, version);
    }

    private static JsonElement Data(object data) =>
        JsonSerializer.SerializeToElement(data, data.GetType(), ImageForgeJson.Compact);
}
