using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ImageForge.Application;
using ImageForge.Application.Access;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Worker;
using ImageForge.Server;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace ImageForge.MultiCloud.Tests;

public sealed partial class MultiCloudSpecs
{
    [Fact(Timeout = 180_000)]
    public async Task The_worker_builds_multi_cloud_definitions_queued_through_its_API_one_import_into_a_cloud_at_a_time()
    {
        string[] images = ["mc-worker-a", "mc-worker-b"];
        var content = WriteContent(images);
        var host = new PipelineHost(
            new HostPaths(ContentPaths.UnderRoot(content), new DataPaths(_dir.Combine("data"))),
            TimeProvider.System,
            name => Clouds.Variables.GetValueOrDefault(name),
            RepoPaths.Root,
            Clouds.Variables
        )
        {
            Resolvers = [],
        };
        // Both disk builds may run at once; the clouds keep their default of one import at a time.
        var config = WorkerConfig.Default with
        {
            QueueLimits = new Dictionary<string, int> { [DiskMaker.ProviderName] = 2 },
        };
        const string Held = "CreateMultipartUpload";
        Clouds.Aws.Fake.Faults.Hold(Held);
        // The AWS fake is shared by the class's specs and counts every request: only this spec's are compared.
        var heldBefore = Clouds.Aws.Fake.Requests.Of(Held);
        try
        {
            var worker = await WorkerHost.CreateAsync(
                new WorkerOptions(
                    host,
                    Clouds.Providers(_disks),
                    config,
                    ["--urls", "http://127.0.0.1:0"]
                ),
                CancellationToken.None
            );
            await using (worker)
            {
                await worker.App.StartAsync();
                using var http = await ClientAsync(worker);
                var builds = new List<string>();
                foreach (var image in images)
                {
                    using var queued = await http.PostAsJsonAsync(
                        "/api/builds",
                        new { image, reason = "multi-cloud worker spec" }
                    );
                    var answer = await queued.Content.ReadAsStringAsync();
                    queued.IsSuccessStatusCode.ShouldBeTrue(answer);
                    using var json = JsonDocument.Parse(answer);
                    builds.Add(
                        json.RootElement.GetProperty("build").GetProperty("id").GetString()!
                    );
                }

                // One build's AWS upload is in flight and held; the other waits for the slot instead of uploading.
                await EventuallyAsync(
                    async () =>
                        Clouds.Aws.Fake.Requests.Of(Held) > heldBefore
                        && (await LogsAsync(worker, builds)).Any(l =>
                            l.Contains("waiting: 1 import(s) into aws", StringComparison.Ordinal)
                        ),
                    async () =>
                        string.Join(
                            '\n',
                            [
                                .. await Task.WhenAll(
                                    builds.Select(async b =>
                                        (await worker.Catalog.GetBuildAsync(b))!.ToString()
                                    )
                                ),
                                $"{Held}: {Clouds.Aws.Fake.Requests.Of(Held)}",
                                .. await LogsAsync(worker, builds),
                            ]
                        )
                );
                await Task.Delay(TimeSpan.FromMilliseconds(500));
                Clouds.Aws.Fake.Requests.Of(Held).ShouldBe(heldBefore + 1);
                Clouds.Aws.Fake.Faults.Release(Held);

                foreach (var id in builds)
                {
                    await EventuallyAsync(
                        async () => (await worker.Catalog.GetBuildAsync(id))!.EndedAt is not null,
                        async () => string.Join('\n', await LogsAsync(worker, [id]))
                    );
                    var build = (await worker.Catalog.GetBuildAsync(id))!;
                    build.Status.ShouldBe(
                        BuildStatus.Succeeded,
                        string.Join('\n', await LogsAsync(worker, [id]))
                    );
                    var version = (
                        await worker.Catalog.GetVersionAsync(build.Image, build.Version!)
                    )!;
                    version
                        .Artifacts.Where(a => a.Target != DiskMaker.ProviderName)
                        .Select(a => $"{a.Target}/{a.Region}")
                        .Order(StringComparer.Ordinal)
                        .ShouldBe(ThreeClouds.Places);
                }
                Clouds.Aws.Fake.Requests.Of(Held).ShouldBe(heldBefore + 2);
                await worker.App.StopAsync();
            }
        }
        finally
        {
            Clouds.Aws.Fake.Faults.Release(Held);
        }
        Clouds.Aws.AssertNoModelProblems();
        Clouds.Gcp.AssertNoModelProblems();
        Clouds.Arm.TakeProblems().ShouldBeEmpty();
    }

    private static async Task<HttpClient> ClientAsync(WorkerHost worker)
    {
        var url = worker
            .App.Services.GetRequiredService<IServer>()
            .Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        var secret = ApiTokens.Generate();
        await worker.Catalog.CreateTokenAsync(
            "multi-cloud-spec",
            ApiRoles.Builder,
            ApiTokens.Hash(secret),
            TimeProvider.System.GetUtcNow()
        );
        var http = new HttpClient { BaseAddress = new Uri(url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return http;
    }

    private static async Task<List<string>> LogsAsync(WorkerHost worker, IEnumerable<string> builds)
    {
        var lines = new List<string>();
        foreach (var id in builds)
        {
            lines.AddRange((await worker.Catalog.ReadLogAsync(id)).Select(l => l.Text));
        }
        return lines;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, Func<Task<string>> state)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (!await condition())
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException(await state());
            }
            await Task.Delay(100);
        }
    }
}
