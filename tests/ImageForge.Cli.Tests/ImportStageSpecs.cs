using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Providers;
using ImageForge.Storage;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// Build once, import everywhere (docs/clouds.md), with a disk provider and a cloud written here: the disk is built
/// once and imported into the cloud target as the reserved version; an import that fails keeps the version, the disk
/// and the journal, and <c>build --resume</c> finishes it without repeating a finished step.
/// </summary>
public sealed class ImportStageSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-import");

    [Fact(Timeout = 60_000)]
    public async Task A_failed_import_resumes_as_the_same_build_and_version_without_repeating_a_finished_step()
    {
        var content = WriteContent();
        var disk = new FakeDisk();
        var cloud = new FakeCloud { FailRegisterIn = "south-2" };
        var providers = new ProviderRegistry([disk, cloud]);

        var failed = await RunAsync(providers, content, "build", "imported");
        var builds = await RunAsync(providers, content, "builds", "show", "1", "--output", "json");
        var resumed = await RunAsync(
            providers,
            content,
            "build",
            "--resume",
            "1",
            "--output",
            "json"
        );
        var verify = await RunAsync(providers, content, "verify", "imported");
        await using var catalog = await Catalog.OpenAsync(
            _dir.Combine("data"),
            TimeProvider.System
        );
        var version = (await catalog.ListVersionsAsync("imported", 10)).ShouldHaveSingleItem();

        failed.ExitCode.ShouldBe(3, failed.ToString());
        failed.ToString().ShouldContain("register failed in south-2");
        failed.ToString().ShouldContain("imageforge build --resume 1");
        var row = JsonDocument.Parse(builds.Out).RootElement;
        row.GetProperty("status").GetString().ShouldBe("failed");
        row.GetProperty("resumable").GetBoolean().ShouldBeTrue();
        row.GetProperty("target").GetString().ShouldBe("fakedisk,fakecloud");
        var reserved = row.GetProperty("version").GetString();
        resumed.ExitCode.ShouldBe(0, resumed.ToString());
        verify.ExitCode.ShouldBe(0, verify.ToString());
        disk.Built.ShouldBe(1);
        cloud.Calls.ShouldBe([
            "upload",
            "register north-1",
            "register south-2 (failed)",
            "register south-2",
        ]);
        version.Version.ShouldBe(reserved);
        version.BuildId.ShouldBe("1");
        var images = version.Artifacts.Where(a => a.Target == "fakecloud").ToList();
        images.Select(a => a.Region).ShouldBe(["north-1", "south-2"]);
        var raw = version.Artifacts.Single(a => a.Kind == "disk-raw");
        images.ShouldAllBe(a =>
            a.SourceSha256 == raw.Sha256 && a.Details["upload"] == "fake://bucket/" + raw.Sha256
        );
        images.ShouldAllBe(a =>
            a.Location.EndsWith("/imported-" + reserved, StringComparison.Ordinal)
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task A_build_that_never_began_importing_cannot_be_resumed()
    {
        var content = WriteContent();
        var providers = new ProviderRegistry([new FakeDisk { Fail = true }, new FakeCloud()]);

        var failed = await RunAsync(providers, content, "build", "imported");
        var resumed = await RunAsync(providers, content, "build", "--resume", "1");
        var both = await RunAsync(providers, content, "build", "imported", "--resume", "1");

        failed.ExitCode.ShouldBe(3, failed.ToString());
        resumed.ExitCode.ShouldBe(2, resumed.ToString());
        resumed.Error.ShouldContain("ended (failed) before it began importing");
        both.ExitCode.ShouldBe(2, both.ToString());
    }

    [Fact]
    public void A_definition_importing_without_a_disk_building_target_is_a_problem_at_its_line()
    {
        var set = DefinitionLoader.Load(
            ContentPaths.UnderRoot(WriteContent(withDiskTarget: false)),
            new DateOnly(2026, 12, 1),
            new ProviderRegistry([new FakeDisk(), new FakeCloud()])
        );

        set.Problems.ShouldContain(p =>
            p.Field == "targets[0].build" && p.Message.Contains("add a target of fakedisk")
        );
    }

    public void Dispose() => _dir.Dispose();

    private Task<CliResult> RunAsync(
        ProviderRegistry providers,
        string content,
        params string[] args
    ) =>
        CliRunner.RunAsync(
            content,
            null,
            providers,
            CancellationToken.None,
            [.. args, "--data-dir", _dir.Combine("data")]
        );

    private string WriteContent(bool withDiskTarget = true)
    {
        var root = ContentCopy.Create(
            _dir.Combine(withDiskTarget ? "content" : "content-without-disk")
        );

        ContentCopy.AddOpenBaseline(root);
        File.WriteAllText(
            Path.Combine(root, "templates", "images", "imported.yaml"),
            $"""
            name: imported
            description: a disk built once and imported into a cloud
            os: {"{"} family: debian, release: "11" {"}"}
            baseline: open
            targets:
              - provider: fakecloud
                base_image: any
                regions: [north-1, south-2]
            {(withDiskTarget ? "  - provider: fakedisk\n    base_image: any\n" : "")}
            """
        );
        return root;
    }

    private static ProviderRules Rules(string name, bool disks) =>
        new()
        {
            Name = name,
            HasRegions = !disks,
            RegionPattern = new Regex("^[a-z]+-[0-9]$"),
            RegionExample = "north-1",
            BaseImageExpectation = "anything",
            CheckBaseImage = (_, _) => null,
            Options = [],
            SecretVariables = [],
            BuildsDisks = disks,
            BuildModes = disks ? [] : [BuildMode.Import],
        };

    // Builds a "disk" (a few bytes) and an inventory, as the local target would.
    private sealed class FakeDisk : ProviderModule, ITargetBuilder
    {
        private int _built;

        public bool Fail { get; init; }

        public int Built => _built;

        public override ProviderRules Rules { get; } =
            ImportStageSpecs.Rules("fakedisk", disks: true);

        public string Provider => Name;

        // The build-time scan of the disk's inventory asks no archive outside this machine.
        public override string? SecurityMirror(TargetSpec target) =>
            ClosedLoopback.DebianSecurityMirror;

        public override ProviderServices Connect(ProviderContext context) => new(this, null, null);

        public IReadOnlyList<string> Preflight(
            Baseline baseline,
            TargetSpec target,
            ContentPaths content
        ) => [];

        public async Task<TargetBuildResult> BuildAsync(
            TargetBuildRequest request,
            ITargetBuildSink sink,
            CancellationToken cancellationToken = default
        )
        {
            Interlocked.Increment(ref _built);
            if (Fail)
            {
                throw new InvalidInputException("the disk build failed");
            }

            Directory.CreateDirectory(request.OutputDirectory);
            var diskFile = await WriteAsync(request, "disk.raw", "a disk", cancellationToken);
            var inventory = await WriteAsync(
                request,
                "packages.tsv",
                string.Join('\t', Core.Inventory.PackageInventory.Columns)
                    + "\nbash\t5.1-2\tamd64\tbash\t5.1-2\tDebian\t7000\tGPL-3\tdeb\n",
                cancellationToken
            );
            return new TargetBuildResult(
                [
                    new Artifact
                    {
                        Target = Name,
                        Region = Name,
                        Kind = "disk-raw",
                        Location = diskFile.Path,
                        Sha256 = diskFile.Sha256,
                    },
                ],
                [
                    new EvidenceDocument
                    {
                        Kind = "package-inventory",
                        Location = inventory.Path,
                        Sha256 = inventory.Sha256,
                        MediaType = "text/tab-separated-values",
                    },
                ]
            );
        }

        private static async Task<(string Path, string Sha256)> WriteAsync(
            TargetBuildRequest request,
            string name,
            string text,
            CancellationToken cancellationToken
        )
        {
            var path = Path.Combine(request.OutputDirectory, name);
            await File.WriteAllTextAsync(path, text, cancellationToken);
            return (
                path,
                Convert.ToHexStringLower(
                    SHA256.HashData(await File.ReadAllBytesAsync(path, cancellationToken))
                )
            );
        }
    }

    // Uploads once, then registers an image per region, recording each step; registering can fail once in a region.
    private sealed class FakeCloud : ProviderModule, IImageImporter
    {
        public string? FailRegisterIn { get; set; }

        public ConcurrentQueue<string> Calls { get; } = new();

        public override ProviderRules Rules { get; } =
            ImportStageSpecs.Rules("fakecloud", disks: false);

        public string Provider => Name;

        public string DiskKind => "disk-raw";

        public override ProviderServices Connect(ProviderContext context) =>
            ProviderServices.None with
            {
                Importer = this,
            };

        public IReadOnlyList<string> Preflight(TargetSpec target) => [];

        public async Task<IReadOnlyList<Artifact>> ImportAsync(
            ImportRequest request,
            ITargetBuildSink sink,
            CancellationToken cancellationToken = default
        )
        {
            var home = request.Target.Regions[0];
            var upload = await request.Journal.GetAsync(home, "upload", cancellationToken);
            if (upload is not { State: ImportStepState.Done })
            {
                Calls.Enqueue("upload");
                upload = new ImportStep(
                    home,
                    "upload",
                    ImportStepState.Done,
                    "fake://bucket/" + request.Disk.Sha256
                );
                await request.Journal.RecordAsync(upload, cancellationToken);
            }

            var images = new List<Artifact>();
            foreach (var region in request.Target.Regions)
            {
                var done = await request.Journal.GetAsync(region, "register", cancellationToken);
                if (done is not { State: ImportStepState.Done })
                {
                    if (region == FailRegisterIn)
                    {
                        FailRegisterIn = null;
                        Calls.Enqueue($"register {region} (failed)");
                        throw new InvalidInputException($"register failed in {region}");
                    }

                    Calls.Enqueue($"register {region}");
                    done = new ImportStep(
                        region,
                        "register",
                        ImportStepState.Done,
                        $"fakecloud://{region}/{request.Definition.Name}-{request.Version}"
                    );
                    await request.Journal.RecordAsync(done, cancellationToken);
                }

                images.Add(
                    new Artifact
                    {
                        Target = Name,
                        Region = region,
                        Kind = "fake-image",
                        Location = done.Data!,
                        SourceSha256 = request.Disk.Sha256,
                        Details = new SortedDictionary<string, string>
                        {
                            ["upload"] = upload.Data!,
                        },
                    }
                );
            }

            return images;
        }
    }
}
