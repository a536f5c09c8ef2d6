using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.E2E;

/// <summary>
/// The worker killed (SIGKILL) during a real local build: Packer and mmdebstrap run in their own process group and
/// outlive it, as after a crash. At the next start the build is taken over (ended as failed: its last attempt),
/// nothing of it remains (process, mount, work directory), and the build that was queued behind it runs to the end.
/// </summary>
// In the golden-image collection: its real builds then do not run at the same time as this one's.
[Collection(GoldenImageGroup.Name)]
public sealed class WorkerRestartSpecs
{
    [Fact(Timeout = 900_000)]
    public async Task A_worker_killed_during_a_real_build_marks_it_interrupted_cleans_up_and_runs_the_queued_build()
    {
        using var dir = new TempDirectory("imageforge-e2e-worker");
        var data = dir.Combine("data");
        // The shipped definition without its boot test (the suite boots the shipped image once, in the golden
        // builds): the build behind the crash then ends as a rejected version, a build that worked all the same.
        var definitions = dir.Combine("images");
        Directory.CreateDirectory(definitions);
        await File.WriteAllTextAsync(
            Path.Combine(definitions, "debian-11-cis.yaml"),
            TestContent.WithoutBootTest(
                await File.ReadAllTextAsync(
                    Path.Combine(RepoPaths.Root, "templates", "images", "debian-11-cis.yaml")
                )
            )
        );
        await File.WriteAllTextAsync(dir.Combine("worker.yaml"), "queue:\n  max_attempts: 1\n");
        var created = await CliRunner.RunAsync(
            RepoPaths.Root,
            null,
            CancellationToken.None,
            [
                "tokens",
                "create",
                "--name",
                "e2e",
                "--role",
                "builder",
                "--output",
                "json",
                "--data-dir",
                data,
            ]
        );
        created.ExitCode.ShouldBe(0, created.ToString());
        var secret = JsonDocument.Parse(created.Out).RootElement.GetProperty("secret").GetString()!;

        var port = FreePort();
        var workers = new List<RunningWorker>();
        try
        {
            await KillAndRestartAsync(data, definitions, port, secret, workers);
        }
        finally
        {
            // A failed assertion must not leave a worker (and its Packer) running behind the test.
            foreach (var worker in workers)
            {
                await worker.StopAsync();
            }
        }
    }

    private static async Task KillAndRestartAsync(
        string data,
        string definitions,
        int port,
        string secret,
        List<RunningWorker> workers
    )
    {
        var first = StartWorker(data, definitions, port, workers);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        await WaitHealthyAsync(http);

        var one = await QueueAsync(http, "before the crash");
        await WaitForStatusAsync(http, one, "running");
        var two = await QueueAsync(http, "queued behind it");
        two.ShouldNotBe(one);

        // Kill the worker while mmdebstrap builds the base system of build one.
        var work = Path.Combine(data, "work", one);
        await WaitUntilAsync(
            () =>
                Processes
                    .Mentioning(work)
                    .Any(c => c.Contains("mmdebstrap", StringComparison.Ordinal)),
            TimeSpan.FromMinutes(4)
        );
        await Task.Delay(TimeSpan.FromSeconds(2));
        ProcessGroup.Signal(first.Group, 9);
        await first.Exited;
        Processes
            .Mentioning(work)
            .ShouldNotBeEmpty("Packer's group outlives its SIGKILLed owner, as after a crash");

        var second = StartWorker(data, definitions, port, workers);
        await WaitHealthyAsync(http);
        // Its worker is certainly dead (the restarted worker holds the data directory's lock): the build is taken
        // over at once, and with queue.max_attempts: 1 it ends as failed rather than running again.
        var taken = await GetBuildAsync(http, one);
        taken.GetProperty("status").GetString().ShouldBe("failed", taken.ToString());
        taken.GetProperty("message").GetString()!.ShouldContain("queue.max_attempts: 1");
        // Its end is in the audit trail once, as any build's end.
        using (var audit = JsonDocument.Parse(await http.GetStringAsync("/api/audit")))
        {
            audit
                .RootElement.EnumerateArray()
                .Count(e =>
                    e.GetProperty("action").GetString() == "build"
                    && e.GetProperty("details")
                        .GetString()!
                        .Contains($"\"build\":\"{one}\"", StringComparison.Ordinal)
                )
                .ShouldBe(1);
        }
        Processes.Mentioning(work).ShouldBeEmpty();
        MountTable.MountsBelow(work).ShouldBeEmpty();
        Directory.Exists(work).ShouldBeFalse();

        var done = await WaitForStatusAsync(http, two, "succeeded", TimeSpan.FromMinutes(8));
        done.GetProperty("version").GetString().ShouldNotBeNullOrEmpty();

        // A graceful stop (SIGTERM) ends the worker with exit code 0.
        ProcessGroup.Signal(second.Group, 15);
        (await second.Exited).ShouldBe(0, second.Output());
    }

    private static async Task<string> QueueAsync(HttpClient http, string reason)
    {
        using var response = await http.PostAsJsonAsync(
            "/api/builds",
            new { image = "debian-11-cis", reason }
        );
        response.StatusCode.ShouldBe(
            HttpStatusCode.Accepted,
            await response.Content.ReadAsStringAsync()
        );
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("build").GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> GetBuildAsync(HttpClient http, string id)
    {
        var text = await http.GetStringAsync($"/api/builds/{id}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> WaitForStatusAsync(
        HttpClient http,
        string id,
        string status,
        TimeSpan? within = null
    )
    {
        var deadline = TimeProvider.System.GetUtcNow() + (within ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            var build = await GetBuildAsync(http, id);
            var now = build.GetProperty("status").GetString();
            if (now == status)
            {
                return build;
            }

            if (TimeProvider.System.GetUtcNow() > deadline || now is "failed" or "cancelled")
            {
                throw new ShouldAssertException($"build {id} is {now}, expected {status}: {build}");
            }

            await Task.Delay(500);
        }
    }

    private static async Task WaitHealthyAsync(HttpClient http)
    {
        await WaitUntilAsync(
            () =>
            {
                try
                {
                    using var response = http.GetAsync("/health").GetAwaiter().GetResult();
                    return response.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            TimeSpan.FromMinutes(1)
        );
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = TimeProvider.System.GetUtcNow() + within;
        while (!condition())
        {
            TimeProvider.System.GetUtcNow().ShouldBeLessThan(deadline, "timed out waiting");
            await Task.Delay(250);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static RunningWorker StartWorker(
        string data,
        string definitions,
        int port,
        List<RunningWorker> started
    )
    {
        var spec = new ProcessSpec(Path.Combine(AppContext.BaseDirectory, "imageforge"))
            .WithArguments([
                "worker",
                "--urls",
                $"http://127.0.0.1:{port}",
                "--data-dir",
                data,
                "--definitions",
                definitions,
                "--config",
                Path.Combine(definitions, "..", "worker.yaml"),
            ])
            .WithWorkingDirectory(RepoPaths.Root);
        var worker = new RunningWorker(spec);
        started.Add(worker);
        return worker;
    }

    private sealed class RunningWorker
    {
        private readonly TaskCompletionSource<int> _group = new(
            TaskCreationOptions.RunContinuationsAsynchronously
        );
        private readonly List<string> _output = [];

        public RunningWorker(ProcessSpec spec)
        {
            Exited = Task.Run(async () =>
            {
                var exit = -1;
                await foreach (var e in new ProcessRunner(TimeProvider.System).StreamAsync(spec))
                {
                    switch (e)
                    {
                        case ProcessStarted started:
                            _group.TrySetResult(started.ProcessGroup);
                            break;
                        case OutputLine line:
                            lock (_output)
                                _output.Add(line.Text);
                            break;
                        case ErrorLine line:
                            lock (_output)
                                _output.Add(line.Text);
                            break;
                        case ProcessExited exited:
                            exit = exited.ExitCode;
                            break;
                    }
                }

                return exit;
            });
        }

        public int Group => _group.Task.GetAwaiter().GetResult();

        public Task<int> Exited { get; }

        /// <summary>Stops the worker if it still runs: SIGTERM (its builds are cancelled cleanly), then SIGKILL.</summary>
        public async Task StopAsync()
        {
            if (Exited.IsCompleted)
            {
                return;
            }

            ProcessGroup.Signal(Group, 15);
            if (await Task.WhenAny(Exited, Task.Delay(TimeSpan.FromSeconds(90))) != Exited)
            {
                ProcessGroup.Signal(Group, 9);
                await Exited;
            }
        }

        public string Output()
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }
}

/// <summary>Live processes whose command line mentions a path (every process of a build names its work directory).</summary>
internal static class Processes
{
    public static List<string> Mentioning(string path)
    {
        var found = new List<string>();
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (
                !int.TryParse(Path.GetFileName(proc), out var pid)
                || pid == Environment.ProcessId
                || !ProcessGroup.IsAlive(pid)
            )
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(path, StringComparison.Ordinal))
                {
                    found.Add($"{pid}: {cmdline}");
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        return found;
    }
}
