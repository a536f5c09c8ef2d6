using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Promotion;
using ImageForge.Core.Providers;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>
/// The provider seam is real: a provider module written here, in the test project alone, is registered with the
/// imageforge command and builds, promotes, admits, revokes and garbage-collects through the unchanged pipeline.
/// </summary>
public sealed class ProviderModuleSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-provider");

    [Fact(Timeout = 60_000)]
    public async Task A_provider_module_from_a_test_builds_promotes_admits_revokes_and_is_collected_through_the_pipeline()
    {
        var content = WriteContent();
        var fake = new FakeCloud();
        var providers = new ProviderRegistry([.. TestProviders.Shipped.Modules, fake]);

        var validate = await RunAsync(providers, content, "validate");
        var built = await RunAsync(providers, content, "build", "cloud-image", "--output", "json");
        var version = JsonDocument
            .Parse(built.Out)
            .RootElement.GetProperty("version")
            .GetProperty("version")
            .GetString()!;
        var second = await RunAsync(providers, content, "build", "cloud-image");
        var promote = await RunAsync(
            providers,
            content,
            "promote",
            $"cloud-image@{version}",
            "--to",
            "dev"
        );
        var admit = await RunAsync(
            providers,
            content,
            "admit",
            "--provider",
            "fakecloud",
            "--image-id",
            "fakecloud://north-1/1",
            "--region",
            "north-1"
        );
        var revoke = await RunAsync(
            providers,
            content,
            "revoke",
            $"cloud-image@{version}",
            "--reason",
            "spec"
        );
        var gc = await RunAsync(
            providers,
            content,
            "gc",
            "--keep",
            "1",
            "--window",
            "0",
            "--apply"
        );

        validate.ExitCode.ShouldBe(0, validate.ToString());
        built.ExitCode.ShouldBe(0, built.ToString());
        second.ExitCode.ShouldBe(0, second.ToString());
        promote.ExitCode.ShouldBe(0, promote.ToString());
        admit.ExitCode.ShouldBe(0, admit.ToString());
        revoke.ExitCode.ShouldBe(0, revoke.ToString());
        gc.ExitCode.ShouldBe(0, gc.ToString());
        fake.Built.ShouldBe(2);
        fake.Log.ShouldBe([
            $"publish {version} dev north-1",
            $"publish {version} dev south-2",
            $"deprecate {version} spec",
            $"delete {version}",
        ]);
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

    // The shipped content, plus an image for the test provider with a baseline that gates nothing.
    private string WriteContent()
    {
        var root = ContentCopy.Create(_dir.Combine("content"));

        ContentCopy.AddOpenBaseline(root);
        File.WriteAllText(
            Path.Combine(root, "templates", "images", "cloud-image.yaml"),
            """
            name: cloud-image
            description: an image for a provider that exists only in this spec
            os: { family: debian, release: "11" }
            baseline: open
            targets:
              - provider: fakecloud
                base_image: base-7
                regions: [north-1, south-2]
            channels: [dev, prod]
            """
        );
        return root;
    }

    // A whole provider in a few dozen lines: rules, a builder, an id per region, and its distribution.
    private sealed class FakeCloud : ProviderModule, ITargetBuilder, IDistributionTarget
    {
        private int _built;

        public override ProviderRules Rules { get; } =
            new()
            {
                Name = "fakecloud",
                HasRegions = true,
                RegionPattern = new System.Text.RegularExpressions.Regex("^[a-z]+-[0-9]$"),
                RegionExample = "north-1",
                BaseImageExpectation = "a base image name",
                CheckBaseImage = (_, _) => null,
                Options = [],
                SecretVariables = [],
            };

        public int Built => _built;

        public ConcurrentQueue<string> Log { get; } = new();

        public string Provider => Name;

        public string Target => Name;

        // The build-time scan of the images' inventory asks no archive outside this machine.
        public override string? SecurityMirror(TargetSpec target) =>
            ClosedLoopback.DebianSecurityMirror;

        public override ProviderServices Connect(ProviderContext context) => new(this, null, this);

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
            sink.Progress("fake", "making images");
            Directory.CreateDirectory(request.OutputDirectory);
            var inventory = Path.Combine(request.OutputDirectory, "packages.tsv");
            await File.WriteAllTextAsync(
                inventory,
                string.Join('\t', Core.Inventory.PackageInventory.Columns)
                    + "\nbash\t5.1-2\tamd64\tbash\t5.1-2\tDebian\t7000\tGPL-3\tdeb\n",
                cancellationToken
            );
            // One image per region, named by the build (the two builds of the spec make different images).
            return new TargetBuildResult(
                [
                    .. request.Target.Regions.Select(region => new Artifact
                    {
                        Target = Name,
                        Region = region,
                        Kind = "fake-image",
                        Location = $"fakecloud://{region}/{request.BuildId}",
                    }),
                ],
                [
                    new EvidenceDocument
                    {
                        Kind = "package-inventory",
                        Location = inventory,
                        Sha256 = Convert.ToHexStringLower(
                            SHA256.HashData(
                                await File.ReadAllBytesAsync(inventory, cancellationToken)
                            )
                        ),
                        MediaType = "text/tab-separated-values",
                    },
                ]
            );
        }

        public Task<StepOutcome> PublishAsync(
            ImageVersion version,
            string channel,
            DistributionStep planned,
            CancellationToken cancellationToken = default
        ) => Done($"publish {version.Version} {channel} {planned.Region}");

        public Task<StepOutcome> DeprecateAsync(
            ImageVersion version,
            string reason,
            CancellationToken cancellationToken = default
        ) => Done($"deprecate {version.Version} {reason}");

        public Task<StepOutcome> DeleteAsync(
            ImageVersion version,
            CancellationToken cancellationToken = default
        ) => Done($"delete {version.Version}");

        private Task<StepOutcome> Done(string what)
        {
            Log.Enqueue(what);
            return Task.FromResult(StepOutcome.Done(what));
        }
    }
}
