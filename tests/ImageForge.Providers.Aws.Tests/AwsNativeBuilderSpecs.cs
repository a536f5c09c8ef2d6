using Amazon.EC2.Model;
using ImageForge.CloudFakes.Aws;
using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Providers;
using ImageForge.Providers.Aws.Native;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Aws.Tests;

/// <summary>
/// The native builder (build: native) around a fake Packer: what it gives Packer (the var file, the credentials as
/// sensitive variables only, the fake's endpoint) and what it takes from Packer's manifest and downloads (an AMI per
/// region with its snapshots from EC2, the evidence of the local target's kinds). The AMIs are made in the AWS fake
/// with the calls amazon-ebs makes; the real Packer run is the E2E's. The template itself is validated by real Packer.
/// </summary>
public sealed class AwsNativeBuilderSpecs : IClassFixture<AwsEnvironment>, IDisposable
{
    private readonly AwsEnvironment _aws;
    private readonly TempDirectory _dir = new("imageforge-aws-native");

    public AwsNativeBuilderSpecs(AwsEnvironment aws) => _aws = aws;

    public void Dispose() => _dir.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task The_amis_of_the_manifest_become_the_versions_images_with_snapshots_and_the_downloads_its_evidence()
    {
        var (home, other) = await AmisAsync();
        var run = await BuildAsync($"{AwsEnvironment.Home}:{home},{AwsEnvironment.Other}:{other}");

        var result = run.Result.ShouldNotBeNull(run.Failure?.ToString());
        result
            .Artifacts.Select(a => (a.Region, a.Kind, a.Location))
            .ShouldBe([
                (AwsEnvironment.Home, AwsProvider.AmiKind, home),
                (AwsEnvironment.Other, AwsProvider.AmiKind, other),
            ]);
        foreach (var artifact in result.Artifacts)
        {
            var image = (
                await _aws
                    .Aws.Ec2(artifact.Region)
                    .DescribeImagesAsync(
                        new DescribeImagesRequest { ImageIds = [artifact.Location] }
                    )
            ).Images.Single();
            artifact
                .Details["snapshots"]
                .ShouldBe(image.BlockDeviceMappings.Single().Ebs.SnapshotId);
            artifact.Details["name"].ShouldBe("native-b-native");
        }

        result.Evidence.Select(e => e.Kind).ShouldBe(AwsNativeBuilder.Evidence.Select(e => e.Kind));
        result.Evidence.ShouldContain(e =>
            e.Kind == ComplianceCollector.AfterResultsKind && e.Sha256!.Length == 64
        );
        result.Tools["packer"].ShouldBe("1.6.6");
        // The stage scripts' progress markers, printed inside the instance, are the build's progress.
        run.Log.ShouldContain("harden | applying hardening rules");
        Directory.Exists(run.WorkDirectory).ShouldBeFalse("the work directory is removed");
    }

    [Fact(Timeout = 60_000)]
    public async Task Packer_gets_the_fakes_endpoint_and_the_credentials_only_as_sensitive_variables_which_never_reach_the_log()
    {
        var (home, other) = await AmisAsync();

        var run = await BuildAsync($"{AwsEnvironment.Home}:{home},{AwsEnvironment.Other}:{other}");

        run.Failure.ShouldBeNull();
        var vars = run.VarFile.ShouldNotBeNull("the var file was read while Packer ran");
        vars.ShouldContain($"custom_endpoint_ec2 = \"{_aws.Fake.Url}\"");
        vars.ShouldContain("ami_regions = [\"us-east-1\"]");
        vars.ShouldContain("region = \"eu-west-1\"");
        vars.ShouldContain("source_ami_name = \"debian-11-amd64-*\"");
        vars.ShouldContain("source_ami_owner = \"136693071363\"");
        vars.ShouldContain("ssh_port = 2222");
        vars.ShouldNotContain(AwsFake.SecretAccessKey);
        vars.ShouldNotContain(AwsFake.AccessKeyId);
        // fakepacker printed PKR_VAR_secret_key, as Packer prints sensitive variables in machine-readable output.
        run.Log.ShouldContain(l =>
            l.Contains("secret_key=" + Redactor.Mask, StringComparison.Ordinal)
        );
        run.Log.ShouldNotContain(l =>
            l.Contains(AwsFake.SecretAccessKey, StringComparison.Ordinal)
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task A_manifest_without_an_ami_of_every_region_fails_the_build_and_leaves_no_output()
    {
        var (home, _) = await AmisAsync();

        var run = await BuildAsync($"{AwsEnvironment.Home}:{home}");

        run.Failure.ShouldBeOfType<ToolFailedException>()
            .Message.ShouldContain("made no AMI in us-east-1");
        Directory.Exists(run.OutputDirectory).ShouldBeFalse("no half-recorded output");
    }

    [Fact(Timeout = 120_000)]
    public async Task The_template_validates_under_real_packer_with_the_variables_the_builder_writes()
    {
        var (home, other) = await AmisAsync();
        var run = await BuildAsync($"{AwsEnvironment.Home}:{home},{AwsEnvironment.Other}:{other}");
        var vars = _dir.Combine("captured.pkrvars.hcl");
        // The output directory the var file names is gone after the spec's build; validate needs it only to exist.
        Directory.CreateDirectory(run.OutputDirectory);
        await File.WriteAllTextAsync(vars, run.VarFile);

        var (exit, output, errors) = await new ProcessRunner(TimeProvider.System).RunToEndAsync(
            new ProcessSpec("packer")
                .WithArguments(
                    "validate",
                    "-var-file=" + vars,
                    Path.Combine(run.Content, "templates", "packer", "aws")
                )
                .WithEnvironment("CHECKPOINT_DISABLE", "1")
        );

        exit.ShouldBe(0, string.Join('\n', output.Concat(errors)));
    }

    // What amazon-ebs leaves: an AMI made from an instance in the home region, copied to the other.
    private async Task<(string Home, string Other)> AmisAsync()
    {
        var source = _aws.Fake.RegisterSourceImage(
            AwsEnvironment.Home,
            "debian-11-amd64-20260101-1",
            "136693071363",
            "/nowhere"
        );
        var ec2 = _aws.Aws.Ec2(AwsEnvironment.Home);
        var instance = (
            await ec2.RunInstancesAsync(
                new RunInstancesRequest
                {
                    ImageId = source,
                    MinCount = 1,
                    MaxCount = 1,
                }
            )
        ).Reservation.Instances.Single().InstanceId;
        var name = "native-" + Guid.NewGuid().ToString("N")[..8];
        var image = await ec2.CreateImageAsync(
            new CreateImageRequest { InstanceId = instance, Name = name }
        );
        for (var i = 0; i < 5; i++)
        {
            await ec2.DescribeImagesAsync(new DescribeImagesRequest { ImageIds = [image.ImageId] });
        }

        var copy = await _aws
            .Aws.Ec2(AwsEnvironment.Other)
            .CopyImageAsync(
                new CopyImageRequest
                {
                    SourceImageId = image.ImageId,
                    SourceRegion = AwsEnvironment.Home,
                    Name = name,
                }
            );
        await ec2.TerminateInstancesAsync(
            new TerminateInstancesRequest { InstanceIds = [instance] }
        );
        return (image.ImageId, copy.ImageId);
    }

    private async Task<Run> BuildAsync(string artifactId)
    {
        var content = ContentCopy.Create(_dir.Combine("content-" + Guid.NewGuid().ToString("N")));
        var work = _dir.Combine("work-" + Guid.NewGuid().ToString("N"));
        var output = _dir.Combine("out-" + Guid.NewGuid().ToString("N"));
        // What the template's downloads would leave.
        Directory.CreateDirectory(output);
        foreach (var (file, _, _) in AwsNativeBuilder.Evidence)
        {
            await File.WriteAllTextAsync(Path.Combine(output, file), "evidence of " + file);
        }

        var manifest = _dir.Combine("manifest-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(
            manifest,
            $$"""
            {
              "builds": [
                {
                  "name": "aws",
                  "builder_type": "amazon-ebs",
                  "build_time": 1700000000,
                  "files": null,
                  "artifact_id": "{{artifactId}}",
                  "packer_run_uuid": "run-1",
                  "custom_data": { "build_id": "b-native", "image_name": "native" }
                }
              ],
              "last_run_uuid": "run-1"
            }
            """
        );
        var transcript = _dir.Combine("transcript-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllLinesAsync(
            transcript,
            [
                "1700000000,,ui,say,reading-vars",
                "1700000001,,ui,say,secret_key={{SECRET}}",
                "1700000002,,ui,say,imageforge-step: harden | applying hardening rules",
            ]
        );
        var tools = new Dictionary<string, string>
        {
            ["FAKEPACKER_TRANSCRIPT"] = transcript,
            ["FAKEPACKER_SECRET_VAR"] = "PKR_VAR_secret_key",
            ["FAKEPACKER_MANIFEST_IN"] = manifest,
            ["FAKEPACKER_MANIFEST_OUT"] = Path.Combine(output, "manifest.json"),
        };
        var variables = new Dictionary<string, string>(_aws.Variables.ToDictionary())
        {
            ["IMAGEFORGE_PACKER"] = Path.Combine(AppContext.BaseDirectory, "fakepacker"),
        };
        var services = AwsEnvironment
            .Module()
            .Connect(
                new ProviderContext(
                    TimeProvider.System,
                    new DataPaths(_dir.Combine("data")),
                    name => variables.GetValueOrDefault(name),
                    tools
                )
            );
        var builder = services.Builder.ShouldNotBeNull();
        var varFile = Path.Combine(work, "imageforge.pkrvars.hcl");
        var sink = new Sink(line =>
            line.Contains("reading-vars", StringComparison.Ordinal) && File.Exists(varFile)
                ? File.ReadAllText(varFile)
                : null
        );
        var request = new TargetBuildRequest(
            "b-native",
            Definition(),
            Baseline(),
            Definition().Targets[0],
            ContentPaths.UnderRoot(content),
            work,
            output,
            _dir.Combine("cache"),
            new Dictionary<string, string>()
        );
        builder.Preflight(request.Baseline, request.Target, request.Content).ShouldBeEmpty();
        try
        {
            var result = await builder.BuildAsync(request, sink);
            return new Run(result, null, sink.Lines, sink.VarFile, work, output, content);
        }
        catch (ImageForgeException e)
        {
            return new Run(null, e, sink.Lines, sink.VarFile, work, output, content);
        }
    }

    private static ImageDefinition Definition() =>
        AwsEnvironment.Definition(
            new Dictionary<string, string>
            {
                ["source_ami_owner"] = "136693071363",
                ["encrypt"] = "false",
                ["ssh_port"] = "2222",
                ["ssh_username"] = "admin",
            },
            "native"
        ) with
        {
            Targets =
            [
                AwsEnvironment.Definition().Targets[0] with
                {
                    Build = BuildMode.Native,
                    Options = new Dictionary<string, string>
                    {
                        ["source_ami_owner"] = "136693071363",
                        ["encrypt"] = "false",
                        ["ssh_port"] = "2222",
                        ["ssh_username"] = "admin",
                    },
                },
            ],
        };

    private static Baseline Baseline() =>
        new()
        {
            Name = "debian-11-anssi",
            Description = "spec",
            Os = new OsSpec("debian", "11"),
            Hardening = "cis/debian-11",
            Scap = new ScapSpec(
                "ssg-debian11-ds.xml",
                "xccdf_org.ssgproject.content_profile_anssi_np_nt28_high"
            ),
            MinScore = 0,
            Waivers = [],
            SourceFile = "baselines/debian-11-anssi.yaml",
        };

    private sealed record Run(
        TargetBuildResult? Result,
        ImageForgeException? Failure,
        IReadOnlyList<string> Log,
        string? VarFile,
        string WorkDirectory,
        string OutputDirectory,
        string Content
    );

    private sealed class Sink(Func<string, string?> capture) : ITargetBuildSink
    {
        public List<string> Lines { get; } = [];

        public string? VarFile { get; private set; }

        public void Progress(string stage, string detail) => Lines.Add($"{stage} | {detail}");

        public void Log(string stream, string text)
        {
            Lines.Add(text);
            VarFile ??= capture(text);
        }

        public void ToolStarted(int processGroup) { }
    }
}
