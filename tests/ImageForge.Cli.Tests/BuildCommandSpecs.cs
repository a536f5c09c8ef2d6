using System.Text.Json;
using ImageForge.Core.Builds;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

public sealed class BuildCommandSpecs
{
    /// <summary>The sensitive variable's value: no output, log, catalog or telemetry may ever hold it.</summary>
    internal const string SensitiveSecret = "s3cr3t,Value-4242";

    internal const string FailureTranscript = """
        1795329434,,ui,say,==> null.local: Running local shell script: /tmp/packer-shell1114647163
        1795329434,,ui,message,    null.local: hello%!(PACKER_COMMA) world
        1795329434,,ui,error,Build 'null.local' errored after 9 milliseconds 817 microseconds: Script exited with non-zero exit status: 3.Allowed exit codes are: [0]
        1795329434,,error-count,1
        1795329434,null.local,error,Script exited with non-zero exit status: 3.Allowed exit codes are: [0]
        1795329434,,ui,say,\n==> Builds finished but no artifacts were created.
        """;

    [Fact(Timeout = 60_000)]
    public async Task A_failing_packer_build_is_recorded_as_failed_with_packers_error_and_no_version()
    {
        using var build = new FakePackerBuild(FailureTranscript, exitCode: 1);

        var result = await build.RunAsync(CancellationToken.None, "build", "debian-11-cis");
        var show = await build.ShowBuildAsync();
        var images = await build.RunAsync(
            CancellationToken.None,
            "images",
            "list",
            "--output",
            "json"
        );

        result.ExitCode.ShouldBe(3, result.ToString());
        result.Out.ShouldContain("failed: build 1");
        using var json = JsonDocument.Parse(show.Out);
        json.RootElement.GetProperty("status").GetString().ShouldBe("failed");
        json.RootElement.GetProperty("message")
            .GetString()!
            .ShouldContain("Script exited with non-zero exit status: 3");
        json.RootElement.GetProperty("version").ValueKind.ShouldBe(JsonValueKind.Null);
        using var listed = JsonDocument.Parse(images.Out);
        listed.RootElement[0].GetProperty("versions").GetInt32().ShouldBe(0);
        listed.RootElement[0].GetProperty("latest_version").ValueKind.ShouldBe(JsonValueKind.Null);
        Directory
            .Exists(Path.Combine(build.DataDir, "artifacts", "debian-11-cis", "1"))
            .ShouldBeFalse();
        Directory.Exists(build.WorkDir).ShouldBeFalse();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_sensitive_variable_never_appears_in_printed_lines_the_stored_log_or_the_catalog()
    {
        const string secret = SensitiveSecret;
        using var build = new FakePackerBuild(
            """
            1795329434,,ui,say,==> null.local: Running local shell script: /tmp/packer-shell22965757
            1795329434,,ui,message,    null.local: auth is {{SECRET}} here
            1795329434,,ui,error,Build 'null.local' errored: mirror said 401 for {{SECRET}}
            1795329434,null.local,error,401 Unauthorized with {{SECRET}}
            """,
            exitCode: 1
        );
        using var definitions = new TempDirectory();
        var yaml = await File.ReadAllTextAsync(
            Path.Combine(RepoPaths.Root, "templates", "images", "debian-11-cis.yaml")
        );
        await File.WriteAllTextAsync(
            Path.Combine(definitions.Path, "debian-11-cis.yaml"),
            FakePackerBuild.WithMirrorAuthSecret(yaml)
        );
        build.WithMirrorAuth(secret);

        var result = await build.RunAsync(
            CancellationToken.None,
            "build",
            "debian-11-cis",
            "--verbose",
            "--definitions",
            definitions.Path
        );
        var logs = await build.RunAsync(CancellationToken.None, "builds", "logs", "1");
        var show = await build.ShowBuildAsync();

        result.ExitCode.ShouldBe(3, result.ToString());
        logs.Out.ShouldContain("auth is <redacted> here");
        foreach (var text in new[] { result.Out, result.Error, logs.Out, show.Out })
        {
            text.ShouldNotContain(secret);
            text.ShouldNotContain("s3cr3t");
        }

        foreach (
            var file in Directory.EnumerateFiles(build.DataDir, "*", SearchOption.AllDirectories)
        )
        {
            (await File.ReadAllTextAsync(file)).ShouldNotContain("s3cr3t", customMessage: file);
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task Builds_cancel_from_another_command_stops_every_process_and_mount_and_records_cancelled()
    {
        using var build = new FakePackerBuild(
            "1795329432,,ui,say,==> null.local: Running local shell script\n"
        ).Hanging();
        var running = build.RunAsync(CancellationToken.None, "build", "debian-11-cis");
        var pgid = await build.WaitForFakePackerAsync(CancellationToken.None);
        MountTable.MountsBelow(build.WorkDir).ShouldNotBeEmpty();

        var cancel = await build.RunAsync(CancellationToken.None, "builds", "cancel", "1");
        var result = await running;

        cancel.ExitCode.ShouldBe(0, cancel.ToString());
        cancel.Out.ShouldContain("build 1: cancelled");
        result.ExitCode.ShouldBe(130, result.ToString());
        FakePackerBuild.GroupGone(pgid).ShouldBeTrue();
        MountTable.MountsBelow(build.DataDir).ShouldBeEmpty();
        Directory.Exists(build.WorkDir).ShouldBeFalse();
    }

    [Fact(Timeout = 90_000)]
    public async Task Ctrl_c_on_a_running_build_stops_every_process_and_mount_and_records_cancelled()
    {
        using var build = new FakePackerBuild(
            "1795329432,,ui,say,==> null.local: Running local shell script\n"
        ).Hanging();
        var imageforge = build.ImageforgeProcess("build", "debian-11-cis");

        var exitCode = -1;
        var output = new List<string>();
        int? fakePacker = null;
        await foreach (var e in new ProcessRunner(TimeProvider.System).StreamAsync(imageforge))
        {
            switch (e)
            {
                case ProcessStarted started:
                    // Ctrl-C in a terminal is SIGINT to the foreground process group: imageforge's, not Packer's.
                    _ = Task.Run(async () =>
                    {
                        fakePacker = await build.WaitForFakePackerAsync(CancellationToken.None);
                        ProcessGroup.Signal(started.ProcessGroup, 2);
                    });
                    break;
                case OutputLine line:
                    output.Add(line.Text);
                    break;
                case ErrorLine line:
                    output.Add(line.Text);
                    break;
                case ProcessExited exited:
                    exitCode = exited.ExitCode;
                    break;
            }
        }

        var show = await build.ShowBuildAsync();
        exitCode.ShouldBe(130, string.Join('\n', output));
        using var json = JsonDocument.Parse(show.Out);
        json.RootElement.GetProperty("status").GetString().ShouldBe("cancelled");
        fakePacker.ShouldNotBeNull();
        FakePackerBuild.GroupGone(fakePacker.Value).ShouldBeTrue();
        MountTable.MountsBelow(build.DataDir).ShouldBeEmpty();
    }

    [Fact(Timeout = 90_000)]
    public async Task A_build_whose_process_was_killed_is_marked_interrupted_and_its_leftovers_cleaned()
    {
        using var build = new FakePackerBuild(
            "1795329432,,ui,say,==> null.local: Running local shell script\n"
        ).Hanging();
        var imageforge = build.ImageforgeProcess("build", "debian-11-cis");

        var fakePacker = 0;
        await foreach (var e in new ProcessRunner(TimeProvider.System).StreamAsync(imageforge))
        {
            if (e is ProcessStarted started)
            {
                fakePacker = await build.WaitForFakePackerAsync(CancellationToken.None);
                ProcessGroup.Signal(started.ProcessGroup, 9);
            }
        }

        FakePackerBuild
            .GroupGone(fakePacker)
            .ShouldBeFalse("fakepacker runs in its own group and outlives a SIGKILLed owner");
        var list = await build.RunAsync(
            CancellationToken.None,
            "builds",
            "list",
            "--output",
            "json"
        );
        var show = await build.ShowBuildAsync();

        list.Error.ShouldContain("interrupted");
        using var json = JsonDocument.Parse(show.Out);
        json.RootElement.GetProperty("status").GetString().ShouldBe("interrupted");
        FakePackerBuild.GroupGone(fakePacker).ShouldBeTrue();
        MountTable.MountsBelow(build.DataDir).ShouldBeEmpty();
        Directory.Exists(build.WorkDir).ShouldBeFalse();
    }

    [Fact(Timeout = 90_000)]
    public async Task A_build_owned_by_another_machine_is_left_alone_and_one_from_before_a_reboot_is_reaped_without_signalling_its_group()
    {
        // Arrange: a build whose owner was killed, its fakepacker still running in its own group.
        using var build = new FakePackerBuild(
            "1795329432,,ui,say,==> null.local: Running local shell script\n"
        ).Hanging();
        var fakePacker = 0;
        await foreach (
            var e in new ProcessRunner(TimeProvider.System).StreamAsync(
                build.ImageforgeProcess("build", "debian-11-cis")
            )
        )
        {
            if (e is ProcessStarted started)
            {
                fakePacker = await build.WaitForFakePackerAsync(CancellationToken.None);
                ProcessGroup.Signal(started.ProcessGroup, 9);
            }
        }

        try
        {
            // Act 1: the catalog says another machine owns it (shared catalog, docs/cluster.md).
            var boot = HostIdentity.Current[(HostIdentity.Current.LastIndexOf('/') + 1)..];
            SetOwnerHost(build, $"not-{Environment.MachineName}/{boot}");
            var elsewhere = await StatusAfterListingAsync(build);

            // Act 2: this machine owned it before it last booted.
            SetOwnerHost(build, $"{Environment.MachineName}/an-earlier-boot");
            var rebooted = await StatusAfterListingAsync(build);

            // Assert: its pid and group mean nothing here: the first is not judged, neither is signalled.
            elsewhere.ShouldBe("running");
            rebooted.ShouldBe("interrupted");
            FakePackerBuild.GroupGone(fakePacker).ShouldBeFalse();
        }
        finally
        {
            ProcessGroup.Signal(fakePacker, 9);
        }
    }

    private static void SetOwnerHost(FakePackerBuild build, string ownerHost)
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection(
            $"Data Source={Path.Combine(build.DataDir, ImageForge.Storage.Catalog.FileName)};Pooling=False"
        );
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = "UPDATE builds SET owner_host = $host WHERE id = 1";
        command.Parameters.AddWithValue("$host", ownerHost);
        command.ExecuteNonQuery().ShouldBe(1);
    }

    private static async Task<string?> StatusAfterListingAsync(FakePackerBuild build)
    {
        await build.RunAsync(CancellationToken.None, "builds", "list");
        var show = await build.ShowBuildAsync();
        using var json = JsonDocument.Parse(show.Out);
        return json.RootElement.GetProperty("status").GetString();
    }
}
