using System.Diagnostics;
using System.Globalization;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;
using ImageForge.Toolchain.Tests.Support;
using Xunit.Abstractions;

namespace ImageForge.Toolchain.Tests;

/// <summary>The Packer adapter against fakepacker, which replays real transcripts and misbehaves on demand.</summary>
public sealed class PackerClientSpecs(ITestOutputHelper output)
{
    private readonly PackerClient _client = new(LiveProcesses.Runner, TestFiles.FakePacker);

    [Fact(Timeout = 30_000)]
    public async Task A_successful_build_streams_events_as_they_arrive_and_returns_the_artifacts()
    {
        // Arrange
        var invocation = new PackerInvocation(".").WithEnvironment(
            "FAKEPACKER_TRANSCRIPT",
            TestFiles.Transcript("null-artifice-success.txt")
        );
        var events = new List<PackerEvent>();

        // Act
        var result = await _client.BuildAsync(invocation, events.Add);

        // Assert
        events[0].ShouldBeOfType<PackerProcessStarted>().ProcessGroup.ShouldBeGreaterThan(1);
        result
            .Artifacts.Select(a => a.BuilderId)
            .ShouldBe([
                "fnoeding.null",
                "packer.post-processor.artifice",
                "packer.post-processor.artifice",
            ]);
        result.Artifacts.ShouldBe(events.OfType<PackerArtifact>());
        result.LastLines.Count.ShouldBeLessThanOrEqualTo(20);
        result
            .LastLines[^1]
            .ShouldBe("--> null.local: Created artifact from files: /tmp/pk/out/a.txt");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_failed_build_throws_with_Packers_error_text_and_the_last_lines()
    {
        // Arrange
        var invocation = new PackerInvocation(".")
            .WithEnvironment(
                "FAKEPACKER_TRANSCRIPT",
                TestFiles.Transcript("null-provisioner-failure.txt")
            )
            .WithEnvironment("FAKEPACKER_EXIT", "1");

        // Act
        var act = () => _client.BuildAsync(invocation, _ => { });

        // Assert
        var failure = await act.ShouldThrowAsync<PackerFailedException>();
        failure.Kind.ShouldBe(PackerFailureKind.Build);
        failure.ExitCode.ShouldBe(3);
        failure.Message.ShouldContain(
            "Script exited with non-zero exit status: 3.Allowed exit codes are: [0]"
        );
        failure.Errors.ShouldBe([
            "Script exited with non-zero exit status: 3.Allowed exit codes are: [0]",
        ]);
        failure.LastLines.ShouldContain(
            "==> Some builds didn't complete successfully and had errors:"
        );
        failure.LastLines[^1].ShouldBe("==> Builds finished but no artifacts were created.");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("mirror-pass-1234")]
    [InlineData("user:p@ss,word")]
    public async Task A_sensitive_variable_never_appears_in_any_event_or_line(string secret)
    {
        // Arrange
        using var temp = new TempDirectory();
        var transcript = temp.Combine("transcript.txt");
        var escaped = secret.Replace(",", "%!(PACKER_COMMA)", StringComparison.Ordinal);
        File.WriteAllLines(
            transcript,
            [
                "1795329434,,ui,message,    null.local: auth {{SECRET}}",
                "1795329434,,ui,message,    null.local: escaped "
                    + escaped.Replace("{{", "{ {", StringComparison.Ordinal),
                "1795329434,null.local,error,mirror refused {{SECRET}}",
                "1795329434,null.local,artifact,0,id,{{SECRET}}",
                "1795329434,null.local,artifact,0,end",
                "plain {{SECRET}}",
            ]
        );
        var invocation = new PackerInvocation(".")
            .WithSensitiveVariable("mirror_auth", secret)
            .WithEnvironment("FAKEPACKER_TRANSCRIPT", transcript)
            .WithEnvironment("FAKEPACKER_SECRET_VAR", "PKR_VAR_mirror_auth")
            .WithEnvironment("FAKEPACKER_EXIT", "1");
        var events = new List<PackerEvent>();

        // Act
        var failure = await Should.ThrowAsync<PackerFailedException>(() =>
            _client.BuildAsync(invocation, events.Add)
        );

        // Assert
        var everything =
            string.Join('\n', events.Select(e => e.ToString()))
            + failure.Message
            + string.Join('\n', failure.LastLines);
        everything.ShouldNotContain(secret);
        everything.ShouldNotContain(escaped);
        everything.ShouldContain("auth <redacted>");
        events.OfType<PackerArtifact>().Single().Id.ShouldBe("<redacted>");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_validation_failure_carries_Packers_error_text()
    {
        // Arrange
        var invocation = new PackerInvocation(".").WithEnvironment(
            "FAKEPACKER_VALIDATE_ERROR",
            "Error: Unset variable \"region\""
        );

        // Act
        var act = () => _client.ValidateAsync(invocation);

        // Assert
        var failure = await act.ShouldThrowAsync<PackerFailedException>();
        failure.Kind.ShouldBe(PackerFailureKind.Validation);
        failure.Message.ShouldContain("Error: Unset variable \"region\"");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_valid_template_validates_silently()
    {
        // Act
        var act = () => _client.ValidateAsync(new PackerInvocation("."));

        // Assert
        await act.ShouldNotThrowAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task The_manifest_written_by_the_build_is_readable()
    {
        // Arrange
        using var temp = new TempDirectory();
        var manifest = temp.Combine("manifest.json");
        var invocation = new PackerInvocation(".")
            .WithEnvironment("FAKEPACKER_MANIFEST_OUT", manifest)
            .WithEnvironment(
                "FAKEPACKER_MANIFEST_IN",
                TestFiles.Transcript("null-artifice-two-runs.manifest.json")
            );

        // Act
        await _client.BuildAsync(invocation, _ => { });

        // Assert
        PackerManifest.Read(manifest).LastRun.ShouldHaveSingleItem().Name.ShouldBe("local");
    }

    [Fact(Timeout = 60_000)]
    public async Task Cancelling_a_build_stops_every_child_process_and_unmounts_its_directory()
    {
        // Arrange
        using var temp = new TempDirectory();
        var pidFile = temp.Combine("pid");
        var grace = TimeSpan.FromSeconds(1);
        var invocation = Hanging(temp, pidFile).WithGracePeriod(grace);
        using var cancellation = new CancellationTokenSource();
        var watch = new Stopwatch();
        var packer = new WhenPackerStarts(_ => CancelWhenSetUpAsync());

        // Act
        var act = () => _client.BuildAsync(invocation, packer.OnEvent, cancellation.Token);

        async Task CancelWhenSetUpAsync()
        {
            await LiveProcesses.WaitUntilAsync(
                () => File.Exists(pidFile),
                "fakepacker to mount and start its children"
            );
            watch.Start();
            await cancellation.CancelAsync();
        }

        // Assert
        await act.ShouldThrowAsync<OperationCanceledException>();
        watch.Stop();
        output.WriteLine(
            $"fakepacker ignoring SIGTERM, grace {grace}: cancel took {watch.Elapsed.TotalMilliseconds:F0} ms"
        );
        ProcessGroup.Members(packer.Group).ShouldBeEmpty();
        LiveProcesses
            .IsAlive(int.Parse(File.ReadAllText(pidFile), CultureInfo.InvariantCulture))
            .ShouldBeFalse();
        MountTable.MountsBelow(temp.Path).ShouldBeEmpty();
        watch.Elapsed.ShouldBeGreaterThanOrEqualTo(grace - TimeSpan.FromMilliseconds(50));
        watch.Elapsed.ShouldBeLessThan(grace + TimeSpan.FromSeconds(3));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_build_that_times_out_fails_as_timed_out_after_the_same_cleanup()
    {
        // Arrange
        using var temp = new TempDirectory();
        var invocation = Hanging(temp, temp.Combine("pid"))
            .WithTimeout(TimeSpan.FromSeconds(3))
            .WithGracePeriod(TimeSpan.FromMilliseconds(300));
        var group = 0;

        // Act
        var act = () =>
            _client.BuildAsync(
                invocation,
                e => group = e is PackerProcessStarted s ? s.ProcessGroup : group
            );

        // Assert
        var failure = await act.ShouldThrowAsync<PackerFailedException>();
        failure.Kind.ShouldBe(PackerFailureKind.TimedOut);
        failure.InnerException.ShouldBeOfType<ProcessTimedOutException>();
        ProcessGroup.Members(group).ShouldBeEmpty();
        MountTable.MountsBelow(temp.Path).ShouldBeEmpty();
    }

    [Theory(Timeout = 30_000)]
    [InlineData("", "1.6.6")]
    [InlineData("1.7.0", "1.7.0")]
    [InlineData(
        "Packer v1.11.2\n\nYour version of Packer is out of date! The latest version\nis 1.12.0.",
        "1.11.2"
    )]
    public async Task The_version_is_read_from_packer_version(string fakeVersion, string expected)
    {
        // Arrange: a wrapper sets fakepacker's version, as GetVersionAsync takes no environment.
        using var temp = new TempDirectory();
        var wrapper = temp.Combine("packer");
        File.WriteAllText(
            wrapper,
            $"#!/bin/sh\nexport FAKEPACKER_VERSION='{fakeVersion}'\nexec '{TestFiles.FakePacker}' \"$@\"\n"
        );
        File.SetUnixFileMode(
            wrapper,
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        );
        var client = new PackerClient(LiveProcesses.Runner, wrapper);

        // Act
        var version = await client.GetVersionAsync();

        // Assert
        version.Version.ShouldBe(Version.Parse(expected));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_missing_packer_fails_as_not_installed_saying_how_to_install_it()
    {
        // Arrange
        var client = new PackerClient(LiveProcesses.Runner, "/nonexistent/packer");

        // Act
        var act = () => client.GetVersionAsync();

        // Assert
        var failure = await act.ShouldThrowAsync<PackerFailedException>();
        failure.Kind.ShouldBe(PackerFailureKind.NotInstalled);
        failure.Message.ShouldContain("eng/prereqs.sh");
        failure.Message.ShouldContain("apt-get install packer");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_build_with_a_missing_packer_fails_as_not_installed()
    {
        // Arrange
        var client = new PackerClient(LiveProcesses.Runner, "imageforge-no-packer-here");

        // Act
        var act = () => client.BuildAsync(new PackerInvocation("."), _ => { });

        // Assert
        (await act.ShouldThrowAsync<PackerFailedException>()).Kind.ShouldBe(
            PackerFailureKind.NotInstalled
        );
    }

    private static PackerInvocation Hanging(TempDirectory temp, string pidFile) =>
        new PackerInvocation(".")
            .WithCleanupDirectory(temp.Path)
            .WithTempDirectory(temp.Path)
            .WithEnvironment(
                "FAKEPACKER_TRANSCRIPT",
                TestFiles.Transcript("null-artifice-success.txt")
            )
            .WithEnvironment("FAKEPACKER_HANG", "1")
            .WithEnvironment("FAKEPACKER_IGNORE_TERM", "1")
            .WithEnvironment("FAKEPACKER_MOUNT_DIR", temp.Combine("rootfs", "proc"))
            .WithEnvironment("FAKEPACKER_PID_FILE", pidFile);
}
