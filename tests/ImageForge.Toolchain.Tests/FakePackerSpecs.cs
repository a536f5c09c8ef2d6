using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using ImageForge.Toolchain.Tests.Support;

namespace ImageForge.Toolchain.Tests;

/// <summary>The parts of fakepacker's contract the other specs do not already rely on.</summary>
public sealed class FakePackerSpecs
{
    [Fact(Timeout = 30_000)]
    public async Task SIGTERM_cancels_it_with_exit_code_1_like_Packer()
    {
        // Arrange: a slow replay, so it is still running when the signal comes.
        using var temp = new TempDirectory();
        var transcript = temp.Combine("slow.txt");
        File.WriteAllLines(transcript, Enumerable.Range(0, 200).Select(i => $"1,,ui,say,line {i}"));
        var spec = new ProcessSpec(TestFiles.FakePacker)
            .WithArguments("build", "-machine-readable", ".")
            .WithEnvironment("FAKEPACKER_TRANSCRIPT", transcript)
            .WithEnvironment("FAKEPACKER_LINE_DELAY_MS", "100");
        var events = new List<ProcessEvent>();

        // Act
        await foreach (var e in LiveProcesses.Runner.StreamAsync(spec))
        {
            events.Add(e);
            if (e is OutputLine && events.OfType<OutputLine>().Count() == 1)
            {
                ProcessGroup
                    .Signal(events.OfType<ProcessStarted>().Single().ProcessGroup, 15)
                    .ShouldBeTrue();
            }
        }

        // Assert
        events[^1].ShouldBe(new ProcessExited(1));
        events.OfType<OutputLine>().Count().ShouldBeLessThan(200);
        events.OfType<ErrorLine>().ShouldContain(l => l.Text.Contains("SIGTERM"));
    }

    [Fact(Timeout = 30_000)]
    public async Task An_unknown_command_prints_usage_and_fails()
    {
        // Act
        var (exitCode, output) = await LiveProcesses.RunAsync(TestFiles.FakePacker, "fmt");

        // Assert
        exitCode.ShouldBe(1);
        output.ShouldBeEmpty();
    }
}
