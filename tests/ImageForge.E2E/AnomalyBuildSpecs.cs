using System.Text.Json;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace ImageForge.E2E;

/// <summary>
/// Anomaly detection on real builds: a second build of the image without the security suite (the group's first
/// build is its history) whose hardening adds a setuid file and an enabled service.
/// </summary>
[Collection(InsecureImageGroup.Name)]
public sealed class AnomalyBuildSpecs(InsecureImageFixture fixture, ITestOutputHelper output)
{
    [Fact(Timeout = 600_000)]
    public async Task A_build_that_adds_a_setuid_file_and_a_service_is_flagged_and_reaches_prod_only_once_both_are_acknowledged()
    {
        // Arrange: the fixture's content plus a test-only hardening rule adding both; the baseline makes a new
        // enabled unit high (the default is medium) and drops prod's soak, so only the anomalies stand in its way.
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        using var content = new TempDirectory("imageforge-e2e-anomalies");
        TestContent.Copy(content.Path);
        TestContent.AddSetuidFileAndServiceInHardening(content.Path);
        TestContent.Edit(
            content.Path,
            Path.Combine("baselines", "debian-11-anssi.yaml"),
            yaml =>
                TestContent
                    .WithoutBootGate(yaml)
                    .Replace(
                        "  prod:\n    soak: 24h\n    approvals: 1\n",
                        "  prod:\n    approvals: 1\n",
                        StringComparison.Ordinal
                    ) + "\nanomalies:\n  severities:\n    enabled_unit: high\n"
        );
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(9));
        Task<CliResult> Run(params string[] args) => RunAs(null, args);
        Task<CliResult> RunAs(string? actor, params string[] args) =>
            CliRunner.RunAsync(
                content.Path,
                actor is null
                    ? null
                    : new Dictionary<string, string> { ["IMAGEFORGE_ACTOR"] = actor },
                timeout.Token,
                [
                    .. args,
                    "--data-dir",
                    fixture.Data.Path,
                    "--definitions",
                    fixture.Definitions.Path,
                ]
            );

        // Act
        var build = await Run("build", InsecureImageFixture.Image, "--reason", "e2e anomalies");
        build.ExitCode.ShouldBe(0, build.ToString());
        var version = await SbomAndFindingsSpecs.LatestAsync(
            (ct, args) => Run(args),
            InsecureImageFixture.Image
        );
        version.Version.ShouldNotBe(fixture.First.Version);
        var shown = await Run("anomalies", version.Reference, "--output", "json");

        // Assert: both flagged, against the first build, high, with the line users read.
        output.WriteLine(shown.Out);
        shown.ExitCode.ShouldBe(0, shown.ToString());
        using var report = JsonDocument.Parse(shown.Out);
        report
            .RootElement.GetProperty("compared_with")
            .EnumerateArray()
            .Select(v => v.GetString())
            .ShouldContain(fixture.First.Version);
        var raised = report
            .RootElement.GetProperty("anomalies")
            .EnumerateArray()
            .Where(a => a.GetProperty("raised").GetBoolean())
            .ToList();
        var setuid = raised.Single(a =>
            a.GetProperty("signal").GetString() == "setuid_file"
            && a.GetProperty("subject")
                .GetString()!
                .StartsWith("/usr/local/bin/e2e-extra ", StringComparison.Ordinal)
        );
        var unit = raised.Single(a =>
            a.GetProperty("signal").GetString() == "enabled_unit"
            && a.GetProperty("subject").GetString() == "e2e-extra.service"
        );
        foreach (var anomaly in new[] { setuid, unit })
        {
            anomaly.GetProperty("severity").GetString().ShouldBe("high", anomaly.ToString());
            anomaly.GetProperty("baseline").GetString()!.ShouldStartWith("absent in the last ");
        }
        var serious = raised
            .Where(a => a.GetProperty("severity").GetString() is "high" or "critical")
            .Select(a => a.GetProperty("id").GetString()!)
            .ToList();
        serious.ShouldBe(
            [setuid.GetProperty("id").GetString()!, unit.GetProperty("id").GetString()!],
            ignoreOrder: true,
            customMessage: "only the two injected changes are serious"
        );
        // A slow stage under load may add a low-severity duration anomaly: the summary counts every raised one.
        build.Out.ShouldContain(
            $"anomalies: {raised.Count} raised (imageforge anomalies {version.Reference}):"
        );
        build.Out.ShouldContain(setuid.GetProperty("explanation").GetString()!);

        // Act and assert: prod refuses the version naming each unacknowledged anomaly, and takes it once both are.
        (await Run("promote", version.Reference, "--to", "dev")).ExitCode.ShouldBe(0);
        (await Run("promote", version.Reference, "--to", "staging")).ExitCode.ShouldBe(0);
        // prod asks four eyes: someone other than who built it approves.
        var approve = await RunAs(
            "e2e-approver",
            "approve",
            version.Reference,
            "--for",
            "prod",
            "--reason",
            "e2e"
        );
        approve.ExitCode.ShouldBe(0, approve.ToString());
        var refused = await Run("promote", version.Reference, "--to", "prod");
        refused.ExitCode.ShouldBe(1, refused.ToString());
        foreach (var id in serious)
        {
            refused.Error.ShouldContain($"anomaly {id} (high) is not acknowledged");
        }

        var setuidId = setuid.GetProperty("id").GetString()!;
        var unitId = unit.GetProperty("id").GetString()!;
        var first = await Run(
            "anomalies",
            "ack",
            version.Reference,
            setuidId,
            "--reason",
            "e2e: the helper binary is reviewed"
        );
        first.ExitCode.ShouldBe(0, first.ToString());
        var stillRefused = await Run("promote", version.Reference, "--to", "prod");
        stillRefused.ExitCode.ShouldBe(1, stillRefused.ToString());
        stillRefused.Error.ShouldNotContain(setuidId);
        stillRefused.Error.ShouldContain($"anomaly {unitId} (high) is not acknowledged");

        (
            await Run(
                "anomalies",
                "ack",
                version.Reference,
                unitId,
                "--reason",
                "e2e: the service is wanted"
            )
        ).ExitCode.ShouldBe(0);
        var promoted = await Run("promote", version.Reference, "--to", "prod");
        promoted.ExitCode.ShouldBe(0, promoted.ToString());

        var audit = await Run(
            "audit",
            "log",
            "--image",
            InsecureImageFixture.Image,
            "--output",
            "json"
        );
        audit.ExitCode.ShouldBe(0, audit.ToString());
        using var trail = JsonDocument.Parse(audit.Out);
        var acks = trail
            .RootElement.EnumerateArray()
            .Where(e => e.GetProperty("action").GetString() == "acknowledge-anomaly")
            .Select(e =>
                (e.GetProperty("version").GetString(), e.GetProperty("reason").GetString())
            )
            .ToList();
        acks.ShouldBe([
            (version.Version, "e2e: the helper binary is reviewed"),
            (version.Version, "e2e: the service is wanted"),
        ]);
        (await Run("audit", "verify")).ExitCode.ShouldBe(0);
    }

    [Fact(Timeout = 600_000)]
    public async Task A_setuid_file_the_base_brought_under_the_same_inputs_is_inherited_not_raised()
    {
        // Arrange: the cached base of the group's definition gains a setuid file, as if the same inputs were
        // bootstrapped again from an archive that changed (a new package version shipping one).
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        var tar = Directory
            .EnumerateFiles(
                Path.Combine(fixture.Data.Path, "cache"),
                "*.tar",
                SearchOption.AllDirectories
            )
            .Where(t => File.Exists(Path.ChangeExtension(t, ".inputs")))
            .ShouldHaveSingleItem("the base cache holds the one base of the group's definition");
        using var extra = new TempDirectory("imageforge-e2e-base-extra");
        var file = extra.Combine("usr", "local", "sbin", "e2e-base");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.Copy("/bin/true", file);
        File.SetUnixFileMode(file, File.GetUnixFileMode(file) | UnixFileMode.SetUser);
        await Tools.RunAsync(
            "tar",
            "--append",
            "--file",
            tar,
            "-C",
            extra.Path,
            "./usr/local/sbin/e2e-base"
        );

        // Act
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(9));
        var build = await fixture.Run(
            timeout.Token,
            "build",
            InsecureImageFixture.Image,
            "--reason",
            "e2e base changed"
        );
        build.ExitCode.ShouldBe(0, build.ToString());
        var version = await SbomAndFindingsSpecs.LatestAsync(
            fixture.Run,
            InsecureImageFixture.Image
        );
        var shown = await fixture.Run(
            CancellationToken.None,
            "anomalies",
            version.Reference,
            "--output",
            "json"
        );
        var text = await fixture.Run(CancellationToken.None, "anomalies", version.Reference);

        // Assert
        output.WriteLine(shown.Out);
        shown.ExitCode.ShouldBe(0, shown.ToString());
        using var report = JsonDocument.Parse(shown.Out);
        report
            .RootElement.GetProperty("parent_change")
            .GetString()!
            .ShouldStartWith("base debian/bullseye made again from the same inputs since ");
        var setuid = report
            .RootElement.GetProperty("anomalies")
            .EnumerateArray()
            .Single(a =>
                a.GetProperty("signal").GetString() == "setuid_file"
                && a.GetProperty("subject")
                    .GetString()!
                    .StartsWith("/usr/local/sbin/e2e-base ", StringComparison.Ordinal)
            );
        setuid.GetProperty("inherited").GetBoolean().ShouldBeTrue(setuid.ToString());
        setuid.GetProperty("raised").GetBoolean().ShouldBeFalse();
        text.Out.ShouldContain($"inherited {setuid.GetProperty("id").GetString()}");
        text.Out.ShouldContain(
            "checked against the parent's change: base debian/bullseye made again"
        );
        build.Out.ShouldNotContain("/usr/local/sbin/e2e-base");
    }
}
