using ImageForge.Core.Builds;
using ImageForge.Core.Worker;
using ImageForge.Server;
using ImageForge.Server.Tests.Webhooks;
using ImageForge.Server.Webhooks;
using ImageForge.Storage;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace ImageForge.Cli.Tests;

/// <summary>
/// Three real worker processes on one PostgreSQL catalog (docs/cluster.md) with one webhook endpoint, a loopback
/// receiver answering 200 after 250 ms: every dispatcher polls the same deliveries, and each delivery is claimed by
/// one of them, sent once and recorded once.
/// </summary>
[Collection(nameof(ClusterProcesses))]
public sealed class ClusterWebhookSpecs(ITestOutputHelper output)
{
    private const int Events = 60;
    private const int Workers = 3;
    private const string SecretVariable = "IMAGEFORGE_TEST_CLUSTER_HOOK_SECRET";
    private const string Secret = "cluster-hook-secret";

    [Fact(Timeout = 120_000)]
    public async Task Three_workers_send_each_delivery_exactly_once()
    {
        // Arrange: the receiver, then three workers (their own data directories, one database, one endpoint).
        var server = ThrowawayPostgres.Shared;
        var database = server.ConnectionString(server.CreateDatabase());
        await using var receiver = await TestReceiver.StartAsync(
            delay: TimeSpan.FromMilliseconds(250)
        );
        var url = receiver.Url.ToString();
        var homes = Enumerable
            .Range(0, Workers)
            .Select(_ =>
            {
                var home = new FakePackerBuild(BuildCommandSpecs.FailureTranscript, exitCode: 1);
                home.Environment[CliContext.DatabaseVariable] = database;
                home.Environment[SecretVariable] = Secret;
                return home;
            })
            .ToList();
        try
        {
            var workers = homes.Select(Start).ToList();
            foreach (var worker in workers)
            {
                await WaitUntilAsync(
                    () => worker.Said("registered as worker"),
                    "a worker did not register"
                );
            }

            await using var catalog = await Catalog.OpenAsync(
                new DataPaths(homes[0].DataDir, database),
                TimeProvider.System
            );

            // Act: 60 events published at once, as a publisher records them; the dispatchers race for them.
            var added = new List<WebhookDelivery>();
            for (var n = 0; n < Events; n++)
            {
                added.AddRange(
                    await catalog.AddAsync(
                        $"event-{n}",
                        WorkerEventTypes.BuildFinished,
                        $$"""{"n":{{n}}}""",
                        [url],
                        TimeProvider.System.GetUtcNow()
                    )
                );
            }

            var started = TimeProvider.System.GetTimestamp();
            await WaitUntilAsync(
                () => receiver.Requests.Count >= Events,
                $"the receiver got {receiver.Requests.Count} of {Events}"
            );
            var took = TimeProvider.System.GetElapsedTime(started);
            var log = await WaitForAllDeliveredAsync(catalog);
            // Long enough for a second dispatcher's duplicate send to arrive, were one made.
            await Task.Delay(TimeSpan.FromSeconds(2));
            foreach (var worker in workers)
            {
                ProcessGroup.Signal(await worker.Group, 15);
                (await worker.Exited).ShouldBe(0, worker.Output());
            }

            // Assert: each delivery id received exactly once, signed, and recorded as one successful attempt.
            var received = receiver.Requests.ToList();
            received.Count.ShouldBe(Events, "one POST per delivery");
            received
                .Select(r => r.Delivery)
                .Order(StringComparer.Ordinal)
                .ShouldBe(added.Select(d => d.Id).Order(StringComparer.Ordinal));
            received.ShouldAllBe(r => WebhookSignature.Verify(Secret, r.Body, r.Signature));
            log.ShouldAllBe(d => d.State == "delivered" && d.Attempts == 1 && d.History.Count == 1);
            var byWorker = log.GroupBy(d => d.ClaimedBy!.Split('-')[0])
                .ToDictionary(g => g.Key, g => g.Count());
            byWorker.Count.ShouldBeGreaterThan(1, "the dispatchers took turns, not one alone");
            workers.ShouldAllBe(w => !w.Said("could not be recorded"));
            output.WriteLine(
                $"{Events} deliveries received once each in {took.TotalSeconds:0.0} s; sent by "
                    + string.Join(
                        ", ",
                        byWorker.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}")
                    )
            );
        }
        finally
        {
            foreach (var home in homes)
            {
                home.Dispose();
            }
        }

        WorkerProcess Start(FakePackerBuild home, int index)
        {
            Directory.CreateDirectory(home.DataDir);
            var config = Path.Combine(home.DataDir, "worker.yaml");
            File.WriteAllText(
                config,
                $"""
                name: w{index}
                webhooks:
                  endpoints:
                    - url: {url}
                      events: [build.finished]
                      secret_env: {SecretVariable}

                """
            );
            return new WorkerProcess(
                home.ImageforgeProcess("worker", "--config", config, "--urls", "http://127.0.0.1:0")
            );
        }
    }

    private static async Task<IReadOnlyList<WebhookDelivery>> WaitForAllDeliveredAsync(
        Catalog catalog
    )
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
        while (true)
        {
            var log = await catalog.ListAsync(1000);
            if (log.Count == Events && log.All(d => d.State == "delivered"))
            {
                return log;
            }

            TimeProvider.System.GetUtcNow().ShouldBeLessThan(deadline, "deliveries not recorded");
            await Task.Delay(100);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
        while (!condition())
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException(what);
            }

            await Task.Delay(100);
        }
    }
}
