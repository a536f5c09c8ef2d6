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

namespace ImageForge.Cli.Tests;

/// <summary>
/// The command line against a real worker (Kestrel on a free port, its own catalog) with --server and
/// IMAGEFORGE_TOKEN. The worker's runner is held (limit 0), so builds stay queued and no Packer runs.
/// </summary>
public sealed class RemoteCliSpecs : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-remote");
    private WorkerHost _worker = null!;
    private string _url = "";
    private string _builder = "";
    private string _viewer = "";

    public async Task InitializeAsync()
    {
        var host = new PipelineHost(
            new HostPaths(
                ContentPaths.UnderRoot(RepoPaths.Root),
                new DataPaths(_dir.Combine("worker"))
            ),
            TimeProvider.System,
            _ => null,
            RepoPaths.Root,
            new Dictionary<string, string>()
        )
        {
            Resolvers = [],
        };
        _worker = await WorkerHost.CreateAsync(
            new WorkerOptions(
                host,
                CliComposition.Providers(),
                WorkerConfig.Default with
                {
                    QueueLimits = new Dictionary<string, int> { ["local"] = 0 },
                },
                ["--urls", "http://127.0.0.1:0"]
            ),
            CancellationToken.None
        );
        await _worker.App.StartAsync();
        _url = _worker
            .App.Services.GetRequiredService<IServer>()
            .Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        _builder = await TokenAsync("builder");
        _viewer = await TokenAsync("viewer");
    }

    public async Task DisposeAsync()
    {
        await _worker.App.StopAsync();
        await _worker.DisposeAsync();
    }

    public void Dispose() => _dir.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task Build_queues_on_the_worker_and_follows_it_until_it_is_cancelled_from_another_shell()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(50));
        var build = Run(
            _builder,
            stop.Token,
            "build",
            "debian-11-cis",
            "--reason",
            "CVE-2026-1234"
        );
        var queued = await WaitForQueuedAsync();

        var cancel = await Run(_builder, stop.Token, "builds", "cancel", queued.Id);
        var followed = await build;

        cancel.ExitCode.ShouldBe(0, cancel.ToString());
        cancel.Out.ShouldContain($"build {queued.Id}: cancelled");
        followed.ExitCode.ShouldBe(130, followed.ToString());
        followed.Error.ShouldContain($"build {queued.Id} of debian-11-cis queued on {_url}");
        followed.Error.ShouldContain("cancelled: build");
        queued.Reason.ShouldBe("CVE-2026-1234");
        queued.Requester.ShouldBe("remote-builder");
        queued.Trigger.ShouldBe(BuildTrigger.Manual);
        // Both actions are audited with the token's name and role.
        var audit = (await _worker.Catalog.ReadAuditAsync()).Select(e =>
            (e.Entry.Action, e.Entry.Actor, e.Entry.Role)
        );
        audit.ShouldContain(("build-queue", "remote-builder", "builder"));
        audit.ShouldContain(("build-cancel", "remote-builder", "builder"));
    }

    [Theory(Timeout = 60_000)]
    [Trait(BadInput.Trait, BadInput.Limits)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Kestrel_answers_a_body_over_1_MiB_with_a_413_problem_and_queues_nothing(
        bool sayLength
    )
    {
        using var http = new HttpClient { BaseAddress = new Uri(_url) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", _builder);
        var body = System.Text.Encoding.UTF8.GetBytes(
            $$"""{"image":"debian-11-cis","reason":"{{new string('r', 2 * 1024 * 1024)}}"}"""
        );
        HttpContent content = sayLength
            ? new ByteArrayContent(body)
            : new StreamContent(new NoLengthStream(body));
        content.Headers.ContentType = new("application/json");

        using var response = await http.PostAsync("/api/builds", content);

        ((int)response.StatusCode).ShouldBe(413, await response.Content.ReadAsStringAsync());
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        (await _worker.Catalog.ListBuildsAsync()).ShouldBeEmpty();
    }

    // A body whose length the client cannot know, so it is sent chunked.
    private sealed class NoLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    [Fact(Timeout = 60_000)]
    public async Task Builds_and_images_read_the_workers_catalog()
    {
        var queued = await _worker.Catalog.EnqueueAsync(
            new BuildRequest(
                new NewBuild("debian-11-cis", "local", BuildTrigger.Manual, "someone", "why", "fp"),
                null,
                false
            ),
            TimeProvider.System.GetUtcNow()
        );

        var list = await Run(_viewer, default, "builds", "list", "--output", "json");
        var show = await Run(_viewer, default, "builds", "show", queued.Build.Id);
        var images = await Run(_viewer, default, "images", "list");
        var unknown = await Run(_viewer, default, "builds", "show", "999");

        list.ExitCode.ShouldBe(0, list.ToString());
        using (var json = JsonDocument.Parse(list.Out))
        {
            json.RootElement[0].GetProperty("id").GetString().ShouldBe(queued.Build.Id);
            json.RootElement[0].GetProperty("status").GetString().ShouldBe("queued");
        }

        show.Out.ShouldContain("status       queued");
        images.ExitCode.ShouldBe(0, images.ToString());
        images.Out.ShouldContain("debian-11-cis");
        unknown.ExitCode.ShouldBe(2, unknown.ToString());
        unknown.Error.ShouldContain("no build with id '999'");
        // Nothing was written to a local catalog.
        Directory.Exists(_dir.Combine("local")).ShouldBeFalse();
    }

    [Fact(Timeout = 60_000)]
    public async Task Tokens_and_roles_are_the_workers_to_check_and_local_only_commands_refuse_server()
    {
        var none = await Run(null, default, "builds", "list");
        var bad = await Run("ifg_not-a-token", default, "builds", "list");
        var viewerBuilds = await Run(_viewer, default, "build", "debian-11-cis");
        var unreachable = await CliRunner.RunAsync(
            RepoPaths.Root,
            new Dictionary<string, string> { ["IMAGEFORGE_TOKEN"] = _viewer },
            default,
            [
                "builds",
                "list",
                "--server",
                "http://127.0.0.1:9",
                "--data-dir",
                _dir.Combine("local"),
            ]
        );
        var localOnly = await Run(
            _builder,
            default,
            "promote",
            "debian-11-cis@2026.01.01.1",
            "--to",
            "dev"
        );
        var notUrl = await Run(_viewer, default, "builds", "list", "--server", "imageforge:5000");

        none.ExitCode.ShouldBe(1, none.ToString());
        none.Error.ShouldContain("IMAGEFORGE_TOKEN");
        bad.ExitCode.ShouldBe(1, bad.ToString());
        viewerBuilds.ExitCode.ShouldBe(1, viewerBuilds.ToString());
        viewerBuilds.Error.ShouldContain("403");
        unreachable.ExitCode.ShouldBe(3, unreachable.ToString());
        unreachable.Error.ShouldContain("no answer from the worker at http://127.0.0.1:9/");
        localOnly.ExitCode.ShouldBe(2, localOnly.ToString());
        localOnly.Error.ShouldContain("works on the local catalog only");
        notUrl.ExitCode.ShouldBe(2, notUrl.ToString());
        (await _worker.Catalog.ListBuildsAsync()).ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_second_worker_on_the_same_data_directory_and_a_missing_config_file_are_refused()
    {
        var second = await CliRunner.RunAsync(
            RepoPaths.Root,
            null,
            default,
            ["worker", "--urls", "http://127.0.0.1:0", "--data-dir", _dir.Combine("worker")]
        );
        var missing = await CliRunner.RunAsync(
            RepoPaths.Root,
            null,
            default,
            ["worker", "--config", _dir.Combine("nope.yaml"), "--data-dir", _dir.Combine("other")]
        );

        second.ExitCode.ShouldBe(2, second.ToString());
        second.Error.ShouldContain("another imageforge worker owns this data directory");
        missing.ExitCode.ShouldBe(2, missing.ToString());
        missing.Error.ShouldContain("nope.yaml");
        missing.Error.ShouldContain("does not exist");
        Directory.Exists(_dir.Combine("other")).ShouldBeFalse();
    }

    private async Task<BuildRecord> WaitForQueuedAsync()
    {
        while (true)
        {
            var queued = await _worker.Catalog.ListQueuedAsync();
            if (queued.Count > 0)
            {
                return queued[0];
            }

            await Task.Delay(50);
        }
    }

    private Task<CliResult> Run(
        string? token,
        CancellationToken cancellationToken,
        params string[] args
    )
    {
        var environment = new Dictionary<string, string> { ["IMAGEFORGE_SERVER"] = _url };
        if (token is not null)
        {
            environment["IMAGEFORGE_TOKEN"] = token;
        }

        // --data-dir points at a directory that must stay untouched: remote commands never open a local catalog.
        return CliRunner.RunAsync(
            RepoPaths.Root,
            environment,
            cancellationToken,
            [.. args, "--data-dir", _dir.Combine("local")]
        );
    }

    private async Task<string> TokenAsync(string role)
    {
        var secret = ApiTokens.Generate();
        await _worker.Catalog.CreateTokenAsync(
            $"remote-{role}",
            role,
            ApiTokens.Hash(secret),
            TimeProvider.System.GetUtcNow()
        );
        return secret;
    }
}
