using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using ImageForge.Application.Access;
using ImageForge.Cli.Tests.Promotion;
using ImageForge.Core.Builds;
using ImageForge.Storage;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// The shared artifact store (docs/cluster.md): versions recorded by worker A's pipeline (its own data directory, one
/// throwaway PostgreSQL catalog, the store as IMAGEFORGE_ARTIFACTS) are served by worker B, a real
/// <c>imageforge worker</c> process with another data directory and the store in its worker.yaml: the evidence
/// download has the same bytes; <c>imageforge verify</c> from a third data directory re-hashes every file and checks
/// the signature; <c>imageforge gc --apply</c> on B's data directory deletes the older version's disk from the store.
/// Without the store, B answers 404 naming the file it cannot find.
/// </summary>
[Collection(nameof(ClusterProcesses))]
public sealed class SharedArtifactStoreSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-shared-store");

    public void Dispose() => _dir.Dispose();

    [Theory(Timeout = 120_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_version_built_on_one_worker_is_served_verified_and_collected_by_another(
        bool shared
    )
    {
        // Arrange: two versions recorded as worker A's pipeline records them, A's signing key trusted by all.
        var server = ThrowawayPostgres.Shared;
        var database = server.ConnectionString(server.CreateDatabase());
        var store = _dir.Combine("nfs", "imageforge");
        Directory.CreateDirectory(store);
        var dataA = _dir.Combine("a");
        var a = new DataPaths(dataA, database, shared ? store : null);
        var older = await SignedVersions.RecordAsync(dataA, TimeProvider.System, paths: a);
        var newer = await SignedVersions.RecordAsync(dataA, TimeProvider.System, paths: a);
        var provenance = newer.Evidence.Last(e => e.Kind == "provenance-dsse");
        var secret = ApiTokens.Generate();
        await using (var catalog = await Catalog.OpenAsync(a, TimeProvider.System))
        {
            await catalog.CreateTokenAsync(
                "reader",
                "viewer",
                ApiTokens.Hash(secret),
                TimeProvider.System.GetUtcNow()
            );
        }

        using var workerB = new FakePackerBuild(BuildCommandSpecs.FailureTranscript, exitCode: 1);
        workerB.Environment[CliContext.DatabaseVariable] = database;
        Directory.CreateDirectory(workerB.DataDir);
        var config = Path.Combine(workerB.DataDir, "worker.yaml");
        await File.WriteAllTextAsync(config, "name: b\n" + (shared ? $"artifacts: {store}\n" : ""));
        var b = new WorkerProcess(
            workerB.ImageforgeProcess("worker", "--config", config, "--urls", "http://127.0.0.1:0")
        );
        try
        {
            var api = await AddressAsync(b);

            // Act
            using var http = new HttpClient { BaseAddress = api };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
                "Bearer",
                secret
            );
            using var served = await http.GetAsync(
                $"api/images/debian-11-cis/versions/{newer.Version}/evidence/provenance-dsse"
            );
            var environment = new Dictionary<string, string>
            {
                [CliContext.DatabaseVariable] = database,
                ["IMAGEFORGE_TRUSTED_KEYS"] = Path.Combine(dataA, "keys", "trusted"),
                ["IMAGEFORGE_ACTOR"] = "alice",
            };
            if (shared)
            {
                environment[CliContext.ArtifactsVariable] = store;
            }

            var verify = await CliRunner.RunAsync(
                RepoPaths.Root,
                environment,
                CancellationToken.None,
                ["verify", $"debian-11-cis@{newer.Version}", "--data-dir", _dir.Combine("c")]
            );
            var gc = await CliRunner.RunAsync(
                RepoPaths.Root,
                environment,
                CancellationToken.None,
                ["gc", "--keep", "1", "--apply", "--data-dir", workerB.DataDir]
            );

            // Assert
            if (!shared)
            {
                // Each worker resolves the catalog's locations against its own data directory: B has no such file.
                served.StatusCode.ShouldBe(HttpStatusCode.NotFound, b.Output());
                (await served.Content.ReadAsStringAsync()).ShouldContain(
                    Path.Combine(workerB.DataDir, "artifacts")
                );
                verify.ExitCode.ShouldBe(1, verify.ToString());
                return;
            }

            served.StatusCode.ShouldBe(HttpStatusCode.OK, b.Output());
            (await served.Content.ReadAsByteArrayAsync()).ShouldBe(
                await File.ReadAllBytesAsync(provenance.Location)
            );
            provenance.Location.ShouldStartWith(store + Path.DirectorySeparatorChar);
            verify.ExitCode.ShouldBe(0, verify.ToString());
            verify.Out.ShouldContain("signature ok: keyid file:sha256:");
            verify.Out.ShouldContain(
                $"ok       artifact disk-raw               {newer.Artifacts[0].Location}"
            );
            gc.ExitCode.ShouldBe(0, gc.ToString());
            gc.Out.ShouldContain($"deleted debian-11-cis@{older.Version}");
            File.Exists(older.Artifacts[0].Location).ShouldBeFalse();
            File.Exists(newer.Artifacts[0].Location).ShouldBeTrue();
            b.Said($"artifacts {store})").ShouldBeTrue(b.Output());
        }
        finally
        {
            ProcessGroup.Signal(await b.Group, 15);
            (await b.Exited).ShouldBe(0, b.Output());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_store_that_is_not_there_is_bad_input_before_anything_is_written()
    {
        // Most likely a share that is not mounted: writing to the local disk in its place would hide the versions.
        using var build = new FakePackerBuild(BuildCommandSpecs.FailureTranscript, exitCode: 1);
        var missing = _dir.Combine("not-mounted");
        build.Environment[CliContext.ArtifactsVariable] = missing;
        Directory.CreateDirectory(build.DataDir);
        var config = Path.Combine(build.DataDir, "worker.yaml");
        await File.WriteAllTextAsync(config, $"artifacts: {missing}\n");

        var list = await build.RunAsync(CancellationToken.None, "images", "list");
        build.Environment.Remove(CliContext.ArtifactsVariable);
        var worker = await build.RunAsync(CancellationToken.None, "worker", "--config", config);

        list.ExitCode.ShouldBe(2, list.ToString());
        list.Error.ShouldContain(
            $"IMAGEFORGE_ARTIFACTS: the artifact store {missing} is not a directory"
        );
        worker.ExitCode.ShouldBe(2, worker.ToString());
        worker.Error.ShouldContain(
            $"worker.yaml: artifacts: the artifact store {missing} is not a directory"
        );
        Directory.Exists(missing).ShouldBeFalse();
        File.Exists(Path.Combine(build.DataDir, Catalog.FileName)).ShouldBeFalse();
    }

    // The worker prints where its API listens once it has started.
    private static async Task<Uri> AddressAsync(WorkerProcess worker)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (TimeProvider.System.GetUtcNow() < deadline && !worker.Exited.IsCompleted)
        {
            var at = Regex.Match(worker.Output(), @"API at (http://127\.0\.0\.1:\d+)");
            if (at.Success)
            {
                return new Uri(at.Groups[1].Value + "/");
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the worker did not start its API:\n{worker.Output()}");
    }
}
