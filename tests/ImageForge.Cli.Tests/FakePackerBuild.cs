using ImageForge.Application;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Worker;
using ImageForge.Server;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;

namespace ImageForge.Cli.Tests;

/// <summary>
/// A data directory and an environment that points imageforge at fakepacker (tests/ImageForge.FakeTools), which
/// replays a recorded Packer transcript, optionally hangs with children that ignore SIGTERM and a tmpfs mount.
/// </summary>
internal sealed class FakePackerBuild : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-cli");

    public FakePackerBuild(string transcript, int exitCode = 0)
    {
        var transcriptFile = _dir.Combine("transcript.txt");
        File.WriteAllText(transcriptFile, transcript);
        Environment = new Dictionary<string, string>
        {
            ["IMAGEFORGE_PACKER"] = Path.Combine(AppContext.BaseDirectory, "fakepacker"),
            ["FAKEPACKER_TRANSCRIPT"] = transcriptFile,
            ["FAKEPACKER_EXIT"] = exitCode.ToString(
                System.Globalization.CultureInfo.InvariantCulture
            ),
        };
    }

    public string DataDir => _dir.Combine("data");

    public string PidFile => _dir.Combine("fakepacker.pid");

    public Dictionary<string, string> Environment { get; }

    /// <summary>Build 1's work directory (a fresh data directory numbers builds from 1).</summary>
    public string WorkDir => Path.Combine(DataDir, "work", "1");

    /// <summary>Makes fakepacker hang after its transcript, with a mount below the build's work directory.</summary>
    public FakePackerBuild Hanging()
    {
        Environment["FAKEPACKER_HANG"] = "1";
        Environment["FAKEPACKER_PID_FILE"] = PidFile;
        Environment["FAKEPACKER_MOUNT_DIR"] = Path.Combine(WorkDir, "tmp", "mnt");
        return this;
    }

    public Task<CliResult> RunAsync(CancellationToken cancellationToken, params string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            Environment,
            cancellationToken,
            [.. args, "--data-dir", DataDir]
        );

    /// <summary><c>builds show &lt;id&gt; --output json</c> in this build's data directory.</summary>
    public Task<CliResult> ShowBuildAsync(string id = "1") =>
        RunAsync(CancellationToken.None, "builds", "show", id, "--output", "json");

    /// <summary>The real imageforge executable as a separate process, with this build's data dir and environment.</summary>
    public ProcessSpec ImageforgeProcess(params string[] args)
    {
        // A test run started in the background of a non-interactive shell (nohup ... &, as CI runners may) inherits
        // SIGINT ignored, and a signal ignored at exec stays ignored: .NET then never calls imageforge's handler and
        // the Ctrl-C spec would wait for a build that cannot hear it. env restores the default before imageforge
        // starts, as an interactive terminal would have it.
        var spec = new ProcessSpec("env")
            .WithArguments([
                "--default-signal=INT",
                Path.Combine(AppContext.BaseDirectory, "imageforge"),
                .. args,
                "--data-dir",
                DataDir,
            ])
            .WithWorkingDirectory(RepoPaths.Root);
        foreach (var (name, value) in Environment)
        {
            spec = spec.WithEnvironment(name, value);
        }

        return spec;
    }

    /// <summary>fakepacker's pid (= its process group), once it has set everything up.</summary>
    public async Task<int> WaitForFakePackerAsync(CancellationToken cancellationToken)
    {
        while (
            !File.Exists(PidFile)
            || (await File.ReadAllTextAsync(PidFile, cancellationToken)).Trim().Length == 0
        )
        {
            await Task.Delay(50, cancellationToken);
        }

        return int.Parse(
            (await File.ReadAllTextAsync(PidFile, cancellationToken)).Trim(),
            System.Globalization.CultureInfo.InvariantCulture
        );
    }

    /// <summary>
    /// The sensitive-variable setup: the definition's local target gets the secret variable mirror_auth (from
    /// IMAGEFORGE_TEST_MIRROR_AUTH), and fakepacker prints its value wherever its transcript says {{SECRET}}.
    /// </summary>
    public FakePackerBuild WithMirrorAuth(string secret)
    {
        Environment["IMAGEFORGE_TEST_MIRROR_AUTH"] = secret;
        Environment["FAKEPACKER_SECRET_VAR"] = "PKR_VAR_mirror_auth";
        return this;
    }

    /// <summary>A definition's YAML with the secret variable of <see cref="WithMirrorAuth"/> on its target.</summary>
    public static string WithMirrorAuthSecret(string definition) =>
        definition.Replace(
            "    base_image: bullseye\n",
            "    base_image: bullseye\n    secrets:\n      mirror_auth: IMAGEFORGE_TEST_MIRROR_AUTH\n",
            StringComparison.Ordinal
        );

    /// <summary>
    /// Starts a worker in this process on this build's data directory and environment (fakepacker, no mirror
    /// lookups), its API on a free loopback port, over the repository's content or a copy of it.
    /// </summary>
    public async Task<WorkerHost> StartWorkerAsync(
        WorkerConfig config,
        string? contentRoot = null,
        string? database = null
    )
    {
        var host = new PipelineHost(
            new HostPaths(
                ContentPaths.UnderRoot(contentRoot ?? RepoPaths.Root),
                new DataPaths(DataDir, database)
            ),
            TimeProvider.System,
            name =>
                Environment.TryGetValue(name, out var value)
                    ? value
                    : System.Environment.GetEnvironmentVariable(name),
            RepoPaths.Root,
            Environment
        )
        {
            Resolvers = [],
        };
        var worker = await WorkerHost.CreateAsync(
            new WorkerOptions(
                host,
                CliComposition.Providers(),
                config,
                ["--urls", "http://127.0.0.1:0"]
            ),
            CancellationToken.None
        );
        await worker.App.StartAsync();
        return worker;
    }

    public static bool GroupGone(int pgid) => ProcessGroup.Members(pgid).Count == 0;

    public void Dispose()
    {
        MountTable.UnmountBelow(_dir.Path);
        _dir.Dispose();
    }
}
