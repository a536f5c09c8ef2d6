using System.Diagnostics;
using System.Globalization;
using ImageForge.Toolchain.Processes;
using ImageForge.Toolchain.Tests.Support;

namespace ImageForge.Toolchain.Tests;

public sealed class ProcessGroupSpecs
{
    [Fact(Timeout = 30_000)]
    public async Task The_leftover_group_of_a_dead_owner_can_be_stopped_by_its_id()
    {
        // Arrange: a leader that starts a new session, leaves two children (one ignoring SIGTERM) and dies.
        var (_, output) = await LiveProcesses.RunAsync(
            "sh",
            "-c",
            "setsid sh -c '(trap \"\" TERM; exec sleep 600) >/dev/null 2>&1 & sleep 600 >/dev/null 2>&1 & echo $$'"
        );
        var pgid = int.Parse(output.Single(), CultureInfo.InvariantCulture);
        await LiveProcesses.WaitUntilAsync(
            () => ProcessGroup.Members(pgid).Count == 2,
            "the two orphans"
        );
        var grace = TimeSpan.FromMilliseconds(500);
        var watch = Stopwatch.StartNew();

        // Act
        await ProcessGroup.KillAndWaitAsync(pgid, grace);

        // Assert
        ProcessGroup.Members(pgid).ShouldBeEmpty();
        watch.Elapsed.ShouldBeGreaterThanOrEqualTo(grace - TimeSpan.FromMilliseconds(50));
        watch.Elapsed.ShouldBeLessThan(grace + TimeSpan.FromSeconds(3));
    }

    [Fact(Timeout = 30_000)]
    public async Task Stopping_an_empty_group_returns_at_once()
    {
        // Arrange: a group that existed and is gone.
        var (_, output) = await LiveProcesses.RunAsync("sh", "-c", "echo $$");
        var pgid = int.Parse(output.Single(), CultureInfo.InvariantCulture);
        var watch = Stopwatch.StartNew();

        // Act
        await ProcessGroup.KillAndWaitAsync(pgid, TimeSpan.FromSeconds(10));

        // Assert
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
        ProcessGroup.Signal(pgid, 0).ShouldBeFalse();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-42)]
    public void Ids_that_would_signal_everything_or_ourselves_are_refused(int pgid)
    {
        // Act
        var act = () =>
        {
            _ = ProcessGroup.Signal(pgid, 0);
        };

        // Assert
        act.ShouldThrow<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Our_own_group_is_refused()
    {
        // Arrange
        var stat = File.ReadAllText("/proc/self/stat");
        var ownGroup = int.Parse(
            stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2],
            CultureInfo.InvariantCulture
        );

        // Act
        var act = () =>
        {
            _ = ProcessGroup.Signal(ownGroup, 0);
        };

        // Assert
        act.ShouldThrow<ArgumentOutOfRangeException>();
    }
}
