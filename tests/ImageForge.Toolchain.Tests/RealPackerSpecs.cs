using System.Diagnostics;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;
using ImageForge.Toolchain.Tests.Support;
using Xunit.Abstractions;

namespace ImageForge.Toolchain.Tests;

/// <summary>The adapter against the real Packer 1.6.6 (Debian package, installed by eng/prereqs.sh).</summary>
public sealed class RealPackerSpecs(ITestOutputHelper output)
{
    private readonly PackerClient _client = new(LiveProcesses.Runner, TestFiles.RealPacker);

    [Fact(Timeout = 60_000)]
    public async Task The_installed_packer_is_1_6_6_without_init_so_init_does_nothing()
    {
        // Arrange
        using var temp = new TempDirectory();
        var invocation = new PackerInvocation(temp.Path);

        // Act
        var version = await _client.GetVersionAsync();
        var init = () => _client.InitAsync(invocation, version);

        // Assert
        version.Version.ShouldBe(new Version(1, 6, 6));
        version.SupportsInit.ShouldBeFalse();
        version.SupportsRequiredPlugins.ShouldBeFalse();
        await init.ShouldNotThrowAsync();
    }

    [Theory(Timeout = 60_000)]
    [InlineData("s3cr3t-Value-42")]
    [InlineData("top,secret")]
    [InlineData("top,secret\nline-two")]
    public async Task A_sensitive_variable_echoed_by_a_provisioner_never_appears_in_any_event(
        string secret
    )
    {
        // Arrange
        using var temp = new TempDirectory();
        WriteTemplate(
            temp,
            """
            variable "token" {
              type      = string
              sensitive = true
            }
            source "null" "local" {
              communicator = "none"
            }
            build {
              sources = ["source.null.local"]
              provisioner "shell-local" {
                environment_vars = ["TOKEN=${var.token}"]
                inline = ["echo \"token is $TOKEN\"", "echo \"$TOKEN\" >&2"]
              }
            }
            """
        );
        var invocation = new PackerInvocation(temp.Path).WithSensitiveVariable("token", secret);
        var events = new List<PackerEvent>();

        // Act
        var result = await _client.BuildAsync(invocation, events.Add);

        // Assert
        var everything = string.Join('\n', events.Select(e => e.ToString()));
        foreach (var part in secret.Split('\n'))
        {
            everything.ShouldNotContain(part);
        }

        everything.ShouldNotContain("PACKER_COMMA");
        everything.ShouldContain("token is <redacted>");
        result.Artifacts.ShouldHaveSingleItem().BuilderId.ShouldBe("fnoeding.null");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failing_provisioner_fails_the_build_with_Packers_error()
    {
        // Arrange
        using var temp = new TempDirectory();
        WriteShellLocalBuild(temp, "echo disk full >&2", "exit 7");

        // Act
        var act = () => _client.BuildAsync(new PackerInvocation(temp.Path), _ => { });

        // Assert
        var failure = await act.ShouldThrowAsync<PackerFailedException>();
        failure.Kind.ShouldBe(PackerFailureKind.Build);
        failure.Message.ShouldContain("Script exited with non-zero exit status: 7");
        failure.LastLines.ShouldContain("==> null.local: disk full");
    }

    [Fact(Timeout = 60_000)]
    public async Task Validation_reports_an_unknown_argument_and_passes_a_valid_template()
    {
        // Arrange
        using var invalid = new TempDirectory();
        using var valid = new TempDirectory();
        WriteTemplate(
            invalid,
            File.ReadAllText(TestFiles.Transcript("validate-unsupported-argument.pkr.hcl"))
        );
        WriteTemplate(valid, File.ReadAllText(TestFiles.Transcript("null-artifice.pkr.hcl")));

        // Act
        var rejected = () =>
            _client.ValidateAsync(new PackerInvocation(invalid.Path).WithVariable("out", "x"));
        var accepted = () =>
            _client.ValidateAsync(
                new PackerInvocation(valid.Path)
                    .WithVariable("out", "x")
                    .WithSensitiveVariable("secret", "y")
            );

        // Assert
        var failure = await rejected.ShouldThrowAsync<PackerFailedException>();
        failure.Kind.ShouldBe(PackerFailureKind.Validation);
        failure.Message.ShouldContain("An argument named \"no_such_option\" is not expected here.");
        await accepted.ShouldNotThrowAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task Cancelling_a_real_build_stops_provisioner_children_and_unmounts_what_they_mounted()
    {
        // Arrange: like mmdebstrap, the script mounts below the build directory and keeps running.
        using var temp = new TempDirectory();
        var mountPoint = temp.Combine("rootfs", "proc");
        WriteShellLocalBuild(
            temp,
            $"mkdir -p '{mountPoint}'",
            $"mount -t tmpfs imageforge-test '{mountPoint}'",
            "sleep 600 & sleep 600"
        );
        var invocation = new PackerInvocation(temp.Path)
            .WithCleanupDirectory(temp.Path)
            .WithTempDirectory(temp.Path)
            .WithGracePeriod(TimeSpan.FromSeconds(5));
        using var cancellation = new CancellationTokenSource();
        var watch = new Stopwatch();
        IReadOnlyList<string> mountedAtCancel = [];
        var packer = new WhenPackerStarts(CancelWhenSleepingAsync);

        // Act
        var act = () => _client.BuildAsync(invocation, packer.OnEvent, cancellation.Token);

        async Task CancelWhenSleepingAsync(int group)
        {
            await WaitForTwoSleepsAsync(group);
            mountedAtCancel = MountTable.MountsBelow(temp.Path);
            watch.Start();
            await cancellation.CancelAsync();
        }

        // Assert
        await act.ShouldThrowAsync<OperationCanceledException>();
        watch.Stop();
        output.WriteLine(
            $"real packer: cancel to OperationCanceledException took {watch.Elapsed.TotalMilliseconds:F0} ms"
        );
        mountedAtCancel.ShouldBe([mountPoint]);
        ProcessGroup.Members(packer.Group).ShouldBeEmpty();
        MountTable.MountsBelow(temp.Path).ShouldBeEmpty();
        watch.Elapsed.ShouldBeLessThan(
            TimeSpan.FromSeconds(5),
            "Packer cancels on SIGTERM well within the grace period"
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task SIGINT_to_Packers_own_pid_leaves_the_build_running_and_SIGINT_to_its_group_ends_it()
    {
        // Arrange: kill(pid, SIGINT) is what CliWrap's graceful cancellation sends (the reason the runner signals
        // the group itself); a provisioner keeps the build busy.
        const int SIGINT = 2;
        using var temp = new TempDirectory();
        WriteShellLocalBuild(temp, "sleep 600 & sleep 600");
        var invocation = new PackerInvocation(temp.Path).WithTempDirectory(temp.Path);
        // Only if the signals did nothing: the runner then stops the group and the spec fails on the exception type.
        using var fallback = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        List<string> before = [];
        List<string> afterPidSignal = [];
        var watch = new Stopwatch();
        var packer = new WhenPackerStarts(InterruptAsync);

        // Act
        var act = () => _client.BuildAsync(invocation, packer.OnEvent, fallback.Token);

        async Task InterruptAsync(int group)
        {
            await WaitForTwoSleepsAsync(group);
            before = [.. LiveProcesses.MemberNames(group).Order()];
            LibC.Kill(group, SIGINT).ShouldBe(0);
            // Packer cancels in 0.1-0.3 s when it does react (ENVIRONMENT.md): ten times that, at least.
            await Task.Delay(TimeSpan.FromSeconds(2));
            afterPidSignal = [.. LiveProcesses.MemberNames(group).Order()];
            watch.Start();
            ProcessGroup.Signal(group, SIGINT).ShouldBeTrue();
        }

        // Assert
        var failure = await act.ShouldThrowAsync<PackerFailedException>();
        watch.Stop();
        await packer.Running;
        output.WriteLine(
            $"real packer: group [{string.Join(' ', before)}]; 2 s after SIGINT to pid {packer.Group}: "
                + $"[{string.Join(' ', afterPidSignal)}]; SIGINT to the group ended the build in "
                + $"{watch.Elapsed.TotalMilliseconds:F0} ms"
        );
        afterPidSignal.ShouldBe(before, "SIGINT to Packer's pid alone stopped nothing");
        afterPidSignal.ShouldContain("packer");
        failure.Kind.ShouldBe(PackerFailureKind.Build);
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5));
        ProcessGroup.Members(packer.Group).ShouldBeEmpty();
    }

    private static Task WaitForTwoSleepsAsync(int group) =>
        LiveProcesses.WaitUntilAsync(
            () => LiveProcesses.MemberNames(group).Count(n => n == "sleep") == 2,
            "the provisioner's two sleeps"
        );

    /// <summary>A template of one null build whose shell-local provisioner runs these commands.</summary>
    private static void WriteShellLocalBuild(TempDirectory temp, params string[] commands) =>
        WriteTemplate(
            temp,
            $$"""
            source "null" "local" {
              communicator = "none"
            }
            build {
              sources = ["source.null.local"]
              provisioner "shell-local" {
                inline = [{{string.Join(", ", commands.Select(c => $"\"{c}\""))}}]
              }
            }
            """
        );

    private static void WriteTemplate(TempDirectory temp, string hcl) =>
        File.WriteAllText(temp.Combine("t.pkr.hcl"), hcl);
}
