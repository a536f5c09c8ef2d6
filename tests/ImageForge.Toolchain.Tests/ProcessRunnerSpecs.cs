using System.Diagnostics;
using System.Globalization;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using ImageForge.Toolchain.Tests.Support;
using Xunit.Abstractions;

namespace ImageForge.Toolchain.Tests;

public sealed class ProcessRunnerSpecs(ITestOutputHelper output)
{
    private static readonly ProcessRunner Runner = LiveProcesses.Runner;

    [Fact(Timeout = 30_000)]
    public async Task A_process_leads_its_own_process_group_and_session()
    {
        // Arrange: the shell prints its own /proc stat line (pid, ppid, pgrp, session...).
        var spec = new ProcessSpec("sh").WithArguments(
            "-c",
            "read -r line < /proc/$$/stat; echo \"$line\""
        );

        // Act
        var events = await CollectAsync(spec);

        // Assert
        var started = events.OfType<ProcessStarted>().ShouldHaveSingleItem();
        started.ProcessGroup.ShouldBe(started.ProcessId);
        var stat = events.OfType<OutputLine>().ShouldHaveSingleItem().Text;
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        int.Parse(fields[2], CultureInfo.InvariantCulture)
            .ShouldBe(started.ProcessId, "process group");
        int.Parse(fields[3], CultureInfo.InvariantCulture).ShouldBe(started.ProcessId, "session");
        events.Last().ShouldBe(new ProcessExited(0));
    }

    [Fact(Timeout = 30_000)]
    public async Task Output_and_error_lines_arrive_in_order_followed_by_the_exit_code()
    {
        // Arrange
        var spec = new ProcessSpec("sh").WithArguments(
            "-c",
            "echo one; echo two; echo oops >&2; exit 4"
        );

        // Act
        var events = await CollectAsync(spec);

        // Assert
        events[0].ShouldBeOfType<ProcessStarted>();
        events.OfType<OutputLine>().Select(l => l.Text).ShouldBe(["one", "two"]);
        events.OfType<ErrorLine>().ShouldHaveSingleItem().Text.ShouldBe("oops");
        events.Last().ShouldBe(new ProcessExited(4));
    }

    [Fact(Timeout = 30_000)]
    public async Task Secrets_are_masked_in_every_line()
    {
        // Arrange
        var spec = new ProcessSpec("sh")
            .WithArguments("-c", "echo \"token=$TOKEN\"; echo \"$TOKEN\" >&2")
            .WithEnvironment("TOKEN", "hunter2")
            .WithSecret("hunter2");

        // Act
        var events = await CollectAsync(spec);

        // Assert
        events.OfType<OutputLine>().ShouldHaveSingleItem().Text.ShouldBe("token=<redacted>");
        events.OfType<ErrorLine>().ShouldHaveSingleItem().Text.ShouldBe("<redacted>");
    }

    [Fact(Timeout = 30_000)]
    public async Task Standard_input_is_empty_so_a_tool_waiting_for_input_ends()
    {
        // Arrange
        var spec = new ProcessSpec("cat");

        // Act
        var events = await CollectAsync(spec);

        // Assert
        events.OfType<OutputLine>().ShouldBeEmpty();
        events.Last().ShouldBe(new ProcessExited(0));
    }

    [Fact(Timeout = 30_000)]
    public async Task The_working_directory_and_environment_are_applied()
    {
        // Arrange
        using var temp = new TempDirectory();
        var spec = new ProcessSpec("sh")
            .WithArguments("-c", "pwd; echo \"$IMAGEFORGE_X\"")
            .WithWorkingDirectory(temp.Path)
            .WithEnvironment("IMAGEFORGE_X", "from spec");

        // Act
        var events = await CollectAsync(spec);

        // Assert
        events.OfType<OutputLine>().Select(l => l.Text).ShouldBe([temp.Path, "from spec"]);
    }

    [Fact(Timeout = 30_000)]
    public async Task Orphans_left_in_the_group_after_a_normal_exit_are_killed()
    {
        // Arrange: the background sleep keeps the output pipe open; without the cleanup the run would never end.
        var spec = new ProcessSpec("sh").WithArguments("-c", "sleep 600 & echo started");

        // Act
        var events = await CollectAsync(spec);

        // Assert
        var started = events.OfType<ProcessStarted>().Single();
        events.Last().ShouldBe(new ProcessExited(0));
        ProcessGroup.Members(started.ProcessGroup).ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_missing_executable_fails_before_anything_starts()
    {
        // Arrange
        var spec = new ProcessSpec("imageforge-no-such-tool");

        // Act
        var act = () => CollectAsync(spec);

        // Assert
        var failure = await act.ShouldThrowAsync<FileNotFoundException>();
        failure.FileName.ShouldBe("imageforge-no-such-tool");
    }

    [Fact(Timeout = 30_000)]
    public async Task Cancelling_stops_the_whole_group_including_children_that_ignore_SIGTERM()
    {
        // Arrange
        using var temp = new TempDirectory();
        var pidFile = temp.Combine("pid");
        var grace = TimeSpan.FromSeconds(1);
        var spec = FakePackerHanging(pidFile).WithGracePeriod(grace);
        using var cancellation = new CancellationTokenSource();
        var started = default(ProcessStarted);
        var cancelledAt = default(Stopwatch);

        // Act
        var act = async () =>
        {
            await foreach (var e in Runner.StreamAsync(spec, cancellation.Token))
            {
                if (e is ProcessStarted s)
                {
                    started = s;
                    await LiveProcesses.WaitUntilAsync(
                        () => File.Exists(pidFile),
                        "fakepacker to set up"
                    );
                    cancelledAt = Stopwatch.StartNew();
                    await cancellation.CancelAsync();
                }
            }
        };

        // Assert
        await act.ShouldThrowAsync<OperationCanceledException>();
        var elapsed = cancelledAt!.Elapsed;
        output.WriteLine(
            $"fakepacker ignoring SIGTERM, grace {grace}: cancel took {elapsed.TotalMilliseconds:F0} ms"
        );
        ProcessGroup.Members(started!.ProcessGroup).ShouldBeEmpty();
        elapsed.ShouldBeGreaterThanOrEqualTo(
            grace - TimeSpan.FromMilliseconds(50),
            "SIGTERM was ignored: SIGKILL waits for the grace period"
        );
        elapsed.ShouldBeLessThan(grace + TimeSpan.FromSeconds(3));
    }

    [Fact(Timeout = 30_000)]
    public async Task Cancelling_gives_SIGTERM_and_the_grace_period_to_a_group_member_outside_the_process_tree()
    {
        // Arrange: a detached shell (its parent exited, so it is no descendant of the tool but still in its group)
        // cleans up on SIGTERM, as mmdebstrap unmounts what it mounted. Signalling the tool's pid alone, or killing
        // its process tree, never gives it SIGTERM: it would only be swept up later with SIGKILL.
        using var temp = new TempDirectory();
        var ready = temp.Combine("ready");
        var cleaned = temp.Combine("cleaned");
        var spec = new ProcessSpec("sh")
            .WithArguments(
                "-c",
                """
                (sh -c 'trap "echo cleaned up > \"$MARK\"; exit 0" TERM; echo $$ > "$READY"; sleep 600 & wait' >/dev/null 2>&1 &)
                exec sleep 600
                """
            )
            .WithEnvironment("READY", ready)
            .WithEnvironment("MARK", cleaned)
            .WithGracePeriod(TimeSpan.FromSeconds(5));
        using var cancellation = new CancellationTokenSource();
        var group = 0;
        var detached = default((int Parent, int Group)?);

        // Act
        var act = async () =>
        {
            await foreach (var e in Runner.StreamAsync(spec, cancellation.Token))
            {
                if (e is ProcessStarted started)
                {
                    group = started.ProcessGroup;
                    await LiveProcesses.WaitUntilAsync(
                        () => File.Exists(ready) && File.ReadAllText(ready).EndsWith('\n'),
                        "the detached shell to set its trap"
                    );
                    detached = ParentAndGroup(
                        int.Parse(File.ReadAllText(ready), CultureInfo.InvariantCulture)
                    );
                    await cancellation.CancelAsync();
                }
            }
        };

        // Assert
        await act.ShouldThrowAsync<OperationCanceledException>();
        detached.ShouldNotBeNull();
        detached.Value.Parent.ShouldNotBe(group, "the shell is no child of the tool");
        detached.Value.Group.ShouldBe(group, "but it is in the tool's group");
        File.Exists(cleaned)
            .ShouldBeTrue("the detached shell got SIGTERM and had time to clean up");
        ProcessGroup.Members(group).ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_timeout_stops_the_whole_group_and_fails_typed()
    {
        // Arrange
        using var temp = new TempDirectory();
        var spec = FakePackerHanging(temp.Combine("pid"))
            .WithTimeout(TimeSpan.FromSeconds(2))
            .WithGracePeriod(TimeSpan.FromMilliseconds(300));
        var group = 0;

        // Act
        var act = async () =>
        {
            await foreach (var e in Runner.StreamAsync(spec))
            {
                group = e is ProcessStarted s ? s.ProcessGroup : group;
            }
        };

        // Assert
        var failure = await act.ShouldThrowAsync<ProcessTimedOutException>();
        failure.Timeout.ShouldBe(TimeSpan.FromSeconds(2));
        failure.ExitCode.ShouldBe(3);
        ProcessGroup.Members(group).ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_caller_that_stops_reading_early_leaves_nothing_running()
    {
        // Arrange
        var spec = new ProcessSpec("sh")
            .WithArguments("-c", "echo ready; sleep 600")
            .WithGracePeriod(TimeSpan.FromMilliseconds(200));
        var group = 0;

        // Act
        await foreach (var e in Runner.StreamAsync(spec))
        {
            group = e is ProcessStarted s ? s.ProcessGroup : group;
            if (e is OutputLine)
            {
                break;
            }
        }

        // Assert
        ProcessGroup.Members(group).ShouldBeEmpty();
    }

    private static ProcessSpec FakePackerHanging(string pidFile) =>
        new ProcessSpec(TestFiles.FakePacker)
            .WithArguments("build", "-machine-readable", ".")
            .WithEnvironment("FAKEPACKER_HANG", "1")
            .WithEnvironment("FAKEPACKER_IGNORE_TERM", "1")
            .WithEnvironment("FAKEPACKER_PID_FILE", pidFile);

    /// <summary>A process's parent and process group (fields 4 and 5 of /proc/PID/stat), or null when it is gone.</summary>
    private static (int Parent, int Group)? ParentAndGroup(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (
                int.Parse(fields[1], CultureInfo.InvariantCulture),
                int.Parse(fields[2], CultureInfo.InvariantCulture)
            );
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static async Task<List<ProcessEvent>> CollectAsync(ProcessSpec spec)
    {
        var events = new List<ProcessEvent>();
        await foreach (var e in Runner.StreamAsync(spec))
        {
            events.Add(e);
        }

        return events;
    }
}
