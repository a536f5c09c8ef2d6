using System.Text.Json;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.SimpleSystemsManagement.Model;
using ImageForge.Core.Providers;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Aws.Tests;

/// <summary>
/// The AWS module through the unchanged imageforge command: definitions refused at validate time with file:line, and a
/// definition whose disk (made by a disk-building module of this spec) is imported into two regions of the AWS fake,
/// promoted, admitted, revoked and collected.
/// </summary>
public sealed class AwsCliSpecs(AwsEnvironment env) : IClassFixture<AwsEnvironment>, IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-aws-cli");

    public static TheoryData<string, int, string, string> BadTargets =>
        new()
        {
            {
                "regions: [eu-west-1, eu-westt-1]",
                9,
                "targets[0].regions[1]",
                "'eu-westt-1' is not a region name for aws"
            },
            {
                "regions: [eu-west-1]\n    options: { ami_users: \"12345678901\" }",
                10,
                "targets[0].options.ami_users",
                "12-digit AWS account ids"
            },
            {
                "regions: [eu-west-1]\n    options:\n      encrypt: false\n      region_kms_key_ids: us-east-1=alias/images",
                11,
                "targets[0].options",
                "region_kms_key_ids names a key for us-east-1, which is not among the target's regions"
            },
            {
                "regions: [eu-west-1]\n    options: { ami_users: \"123456789012\" }",
                10,
                "targets[0].options",
                "needs a customer-managed KMS key in region_kms_key_ids for every region"
            },
            {
                "regions: [eu-west-1]\n    channels:\n      prod: { ami_users: \"123456789012\" }",
                7,
                "targets[0].options",
                "needs a customer-managed KMS key in region_kms_key_ids for every region"
            },
        };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(BadTargets))]
    public async Task A_definition_the_aws_rules_refuse_fails_validation_with_its_file_and_line(
        string target,
        int line,
        string field,
        string message
    )
    {
        var content = ContentCopy.Create(_dir.Combine("content"));
        File.WriteAllText(
            Path.Combine(content, "templates", "images", "bad.yaml"),
            "name: bad\ndescription: refused\nos: { family: debian, release: \"11\" }\nbaseline: debian-11-anssi\n"
                + "channels: [dev, prod]\ntargets:\n  - provider: aws\n    base_image: ami-0123456789abcdef0\n    "
                + target
                + "\n"
        );

        var result = await CliRunner.RunAsync(
            content,
            null,
            CancellationToken.None,
            "validate",
            "--data-dir",
            _dir.Combine("data")
        );

        result.ExitCode.ShouldBe(2, result.ToString());
        var text = result.ToString();
        text.ShouldContain($"bad.yaml:{line}: {field}: ", Case.Sensitive, text);
        text.ShouldContain(message, Case.Sensitive, text);
        Directory.Exists(_dir.Combine("data")).ShouldBeFalse("validate writes nothing");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_build_imports_into_both_regions_and_the_version_is_promoted_admitted_rolled_back_to_revoked_and_collected()
    {
        var content = WriteContent();
        var providers = new ProviderRegistry([new DiskMaker(), AwsEnvironment.Module()]);

        var first = await RunAsync(providers, content, "build", "imported", "--output", "json");
        first.ExitCode.ShouldBe(0, first.ToString());
        var version = Version(first);
        var verify = await RunAsync(providers, content, "verify", $"imported@{version}");
        var show = await RunAsync(providers, content, "images", "show", $"imported@{version}");
        var promote = await RunAsync(
            providers,
            content,
            "promote",
            $"imported@{version}",
            "--to",
            "dev"
        );
        promote.ExitCode.ShouldBe(0, promote.ToString());
        var parameters = new List<string>();
        foreach (var region in new[] { AwsEnvironment.Home, AwsEnvironment.Other })
        {
            parameters.Add(
                (
                    await env
                        .Aws.Ssm(region)
                        .GetParameterAsync(
                            new GetParameterRequest { Name = "/imageforge/imported/dev" }
                        )
                )
                    .Parameter
                    .Value
            );
        }

        var homeAmi = (
            await env.ImagesAsync(AwsEnvironment.Home, $"imported-{version}")
        ).ShouldHaveSingleItem();
        var admit = await RunAsync(
            providers,
            content,
            "admit",
            "--provider",
            "aws",
            "--image-id",
            homeAmi.ImageId,
            "--region",
            AwsEnvironment.Home
        );
        var second = await RunAsync(providers, content, "build", "imported", "--output", "json");
        var promoteSecond = await RunAsync(
            providers,
            content,
            "promote",
            $"imported@{Version(second)}",
            "--to",
            "dev"
        );
        var afterPromotion = await DevParameterAsync();
        var rollback = await RunAsync(
            providers,
            content,
            "rollback",
            "imported",
            "--channel",
            "dev"
        );
        var afterRollback = await DevParameterAsync();
        var revoke = await RunAsync(
            providers,
            content,
            "revoke",
            $"imported@{version}",
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

        first.ExitCode.ShouldBe(0, first.ToString());
        verify.ExitCode.ShouldBe(0, verify.ToString());
        promote.ExitCode.ShouldBe(0, promote.ToString());
        admit.ExitCode.ShouldBe(0, admit.ToString());
        admit.ToString().ShouldContain(version);
        second.ExitCode.ShouldBe(0, second.ToString());
        promoteSecond.ExitCode.ShouldBe(0, promoteSecond.ToString());
        rollback.ExitCode.ShouldBe(0, rollback.ToString());
        afterPromotion.ShouldBe(
            (await env.ImagesAsync(AwsEnvironment.Home, $"imported-{Version(second)}"))
                .Single()
                .ImageId
        );
        afterRollback.ShouldBe(homeAmi.ImageId, "the rollback pointed the parameter back");
        revoke.ExitCode.ShouldBe(0, revoke.ToString());
        gc.ExitCode.ShouldBe(0, gc.ToString());
        parameters[0].ShouldBe(homeAmi.ImageId);
        parameters[1].ShouldStartWith("ami-");
        parameters[1].ShouldNotBe(homeAmi.ImageId);
        // images show lists the AMI of each region, with the disk it came from and its snapshot.
        show.ExitCode.ShouldBe(0, show.ToString());
        var amiLines = show.Out.Split('\n').Where(l => l.TrimStart().StartsWith("aws ")).ToList();
        amiLines.Count.ShouldBe(2, show.Out);
        amiLines[0].ShouldContain($"{AwsEnvironment.Home} ");
        amiLines[0].ShouldContain(homeAmi.ImageId);
        amiLines[1].ShouldContain($"{AwsEnvironment.Other} ");
        amiLines[1].ShouldContain(parameters[1]);
        amiLines.ShouldAllBe(l => l.Contains("from disk sha256:") && l.Contains("snapshots=snap-"));
        foreach (var region in new[] { AwsEnvironment.Home, AwsEnvironment.Other })
        {
            (await env.ImagesAsync(region, $"imported-{version}")).ShouldBeEmpty(
                "gc collected the revoked version"
            );
            (await env.ImagesAsync(region, $"imported-{Version(second)}")).ShouldHaveSingleItem();
            (await env.OrphanSnapshotsAsync(region)).ShouldBeEmpty();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_revocation_moves_dev_back_and_its_parameter_and_sharing_follow_in_both_regions()
    {
        // Arrange: dev served v1, then v2 (its own image name, so the shared fake holds no AMI of another spec's).
        const string Image = "revoked";
        var content = WriteContent(Image);
        var providers = new ProviderRegistry([new DiskMaker(), AwsEnvironment.Module()]);
        var versions = new List<string>();
        foreach (var _ in new[] { 1, 2 })
        {
            var built = await RunAsync(providers, content, "build", Image, "--output", "json");
            built.ExitCode.ShouldBe(0, built.ToString());
            versions.Add(Version(built));
            var promoted = await RunAsync(
                providers,
                content,
                "promote",
                $"{Image}@{versions[^1]}",
                "--to",
                "dev"
            );
            promoted.ExitCode.ShouldBe(0, promoted.ToString());
        }

        // Act: revoking v2 moves dev back to v1 in the catalog.
        var revoke = await RunAsync(
            providers,
            content,
            "revoke",
            $"{Image}@{versions[1]}",
            "--reason",
            "spec: bad kernel"
        );
        var again = await RunAsync(
            providers,
            content,
            "revoke",
            $"{Image}@{versions[1]}",
            "--reason",
            "spec: bad kernel"
        );
        var audit = await RunAsync(
            providers,
            content,
            "audit",
            "log",
            "--image",
            Image,
            "--output",
            "json"
        );

        // Assert: in each region the parameter names v1's AMI, v1 is shared with dev's account and v2 is not, and v2
        // is deprecated; a second revoke follows again, idempotently.
        revoke.ExitCode.ShouldBe(0, revoke.ToString());
        again.ExitCode.ShouldBe(0, again.ToString());
        foreach (var region in new[] { AwsEnvironment.Home, AwsEnvironment.Other })
        {
            var v1 = (
                await env.ImagesAsync(region, $"{Image}-{versions[0]}")
            ).ShouldHaveSingleItem();
            var v2 = (
                await env.ImagesAsync(region, $"{Image}-{versions[1]}")
            ).ShouldHaveSingleItem();
            var parameter = await env
                .Aws.Ssm(region)
                .GetParameterAsync(new GetParameterRequest { Name = $"/imageforge/{Image}/dev" });
            parameter.Parameter.Value.ShouldBe(v1.ImageId, region);
            (await LaunchUsersAsync(region, v1.ImageId)).ShouldBe(["111111111111"], region);
            (await LaunchUsersAsync(region, v2.ImageId)).ShouldBeEmpty(region);
            v2.DeprecationTime.ShouldNotBeNull(region);
        }
        using var trail = JsonDocument.Parse(audit.Out);
        var follows = trail
            .RootElement.EnumerateArray()
            .Where(e => e.GetProperty("action").GetString() == "revoke-follow")
            .Select(e =>
                (e.GetProperty("version").GetString(), e.GetProperty("channel").GetString())
            )
            .ToList();
        // Both providers of the versions (the disk's, which has nothing to follow, and aws), at each revoke.
        follows.ShouldBe([.. Enumerable.Repeat((versions[1], "dev"), 4)]);
        revoke.Out.ShouldContain($"followed   aws: dev now serves {versions[0]}");
        again.Out.ShouldContain($"followed   aws: dev now serves {versions[0]}");

        // Revoking v1 as well leaves dev empty: its parameter goes in each region (Terraform's lookup then fails
        // instead of launching a revoked AMI), and dev's sharing of v1 is withdrawn.
        var last = await RunAsync(
            providers,
            content,
            "revoke",
            $"{Image}@{versions[0]}",
            "--reason",
            "spec: bad kernel too"
        );
        last.ExitCode.ShouldBe(0, last.ToString());
        last.Out.ShouldContain("followed   aws: dev now serves nothing (left empty)");
        foreach (var region in new[] { AwsEnvironment.Home, AwsEnvironment.Other })
        {
            await Should.ThrowAsync<ParameterNotFoundException>(() =>
                env
                    .Aws.Ssm(region)
                    .GetParameterAsync(
                        new GetParameterRequest { Name = $"/imageforge/{Image}/dev" }
                    )
            );
            var v1 = (
                await env.ImagesAsync(region, $"{Image}-{versions[0]}")
            ).ShouldHaveSingleItem();
            (await LaunchUsersAsync(region, v1.ImageId)).ShouldBeEmpty(region);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_baseline_that_disables_on_revocation_leaves_every_regional_copy_deprecated_and_disabled()
    {
        const string Image = "disabled";
        var content = WriteContent(Image);
        File.AppendAllText(
            Path.Combine(content, "baselines", "open.yaml"),
            "\nrevocation:\n  disable: true\n"
        );
        var providers = new ProviderRegistry([new DiskMaker(), AwsEnvironment.Module()]);
        var built = await RunAsync(providers, content, "build", Image, "--output", "json");
        built.ExitCode.ShouldBe(0, built.ToString());
        var version = Version(built);

        var revoke = await RunAsync(
            providers,
            content,
            "revoke",
            $"{Image}@{version}",
            "--reason",
            "spec: must not launch"
        );
        var again = await RunAsync(
            providers,
            content,
            "revoke",
            $"{Image}@{version}",
            "--reason",
            "spec: must not launch"
        );

        revoke.ExitCode.ShouldBe(0, revoke.ToString());
        again.ExitCode.ShouldBe(0, again.ToString());
        again.Out.ShouldContain("disabled already");
        foreach (var region in new[] { AwsEnvironment.Home, AwsEnvironment.Other })
        {
            (await env.ImagesAsync(region, $"{Image}-{version}")).ShouldBeEmpty(
                "a disabled AMI is not listed without IncludeDisabled"
            );
            var ami = (
                await env
                    .Aws.Ec2(region)
                    .DescribeImagesAsync(
                        new DescribeImagesRequest
                        {
                            Owners = ["self"],
                            IncludeDisabled = true,
                            Filters = [new Amazon.EC2.Model.Filter("name", [$"{Image}-{version}"])],
                        }
                    )
            ).Images.ShouldHaveSingleItem();
            ami.State.ShouldBe(ImageState.Disabled, region);
            ami.DeprecationTime.ShouldNotBeNull(region);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_version_built_under_a_role_is_revoked_and_collected_in_the_roles_account()
    {
        // Arrange: the target assumes a role of another account, which owns the AMIs.
        const string Image = "roled";
        const string Role = "arn:aws:iam::210987654321:role/imageforge-spec";
        const string Bucket = "imageforge-spec-role-imports";
        env.Aws.Fake.AddRole(Role);
        var role = await env.AssumeAsync(Role);
        await env
            .Aws.S3(AwsEnvironment.Home, role)
            .PutBucketAsync(
                new Amazon.S3.Model.PutBucketRequest
                {
                    BucketName = Bucket,
                    BucketRegionName = AwsEnvironment.Home,
                }
            );
        var content = WriteContent(Image, Role, Bucket);
        var providers = new ProviderRegistry([new DiskMaker(), AwsEnvironment.Module()]);
        var built = await RunAsync(providers, content, "build", Image, "--output", "json");
        built.ExitCode.ShouldBe(0, built.ToString());
        var version = Version(built);

        // Act: revoke it, build the next one, and collect the revoked one.
        var revoke = await RunAsync(
            providers,
            content,
            "revoke",
            $"{Image}@{version}",
            "--reason",
            "spec"
        );
        var deprecated = new List<bool>();
        foreach (var region in new[] { AwsEnvironment.Home, AwsEnvironment.Other })
        {
            var ami = (
                await env.ImagesAsync(region, $"{Image}-{version}", role)
            ).ShouldHaveSingleItem("the role's account owns the AMI");
            deprecated.Add(ami.DeprecationTime is not null);
        }
        var next = await RunAsync(providers, content, "build", Image, "--output", "json");
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

        // Assert: the deprecation and the deletion acted in the role's account, not in the base credentials' one.
        revoke.ExitCode.ShouldBe(0, revoke.ToString());
        deprecated.ShouldBe([true, true]);
        next.ExitCode.ShouldBe(0, next.ToString());
        gc.ExitCode.ShouldBe(0, gc.ToString());
        foreach (var region in new[] { AwsEnvironment.Home, AwsEnvironment.Other })
        {
            (await env.ImagesAsync(region, $"{Image}-{version}", role)).ShouldBeEmpty(region);
            (await env.ImagesAsync(region, $"{Image}-{Version(next)}", role)).ShouldHaveSingleItem(
                region
            );
            (await env.OrphanSnapshotsAsync(region, role)).ShouldBeEmpty(region);
        }
    }

    private async Task<IReadOnlyList<string>> LaunchUsersAsync(string region, string ami) =>
        [
            .. (
                await env
                    .Aws.Ec2(region)
                    .DescribeImageAttributeAsync(
                        new Amazon.EC2.Model.DescribeImageAttributeRequest
                        {
                            ImageId = ami,
                            Attribute = "launchPermission",
                        }
                    )
            ).ImageAttribute.LaunchPermissions?.Select(p => p.UserId) ?? [],
        ];

    public void Dispose() => _dir.Dispose();

    private async Task<string> DevParameterAsync() =>
        (
            await env
                .Aws.Ssm(AwsEnvironment.Home)
                .GetParameterAsync(new GetParameterRequest { Name = "/imageforge/imported/dev" })
        )
            .Parameter
            .Value;

    private static string Version(CliResult built) =>
        JsonDocument
            .Parse(built.Out)
            .RootElement.GetProperty("version")
            .GetProperty("version")
            .GetString()
        ?? throw new InvalidOperationException(built.ToString());

    private Task<CliResult> RunAsync(
        ProviderRegistry providers,
        string content,
        params string[] args
    ) =>
        CliRunner.RunAsync(
            content,
            env.Variables,
            providers,
            CancellationToken.None,
            [.. args, "--data-dir", _dir.Combine("data")]
        );

    // The shipped content, plus an image whose disk the spec's disk maker builds and the aws target imports.
    private string WriteContent(
        string image = "imported",
        string roleArn = "",
        string bucket = AwsEnvironment.Bucket
    )
    {
        var root = ContentCopy.Create(_dir.Combine("content"));
        ContentCopy.AddOpenBaseline(root);
        File.WriteAllText(
            Path.Combine(root, "templates", "images", image + ".yaml"),
            $$"""
            name: {{image}}
            description: an image imported into AWS
            os: { family: debian, release: "11" }
            baseline: open
            targets:
              - provider: diskmaker
                base_image: bullseye
              - provider: aws
                build: import
                base_image: debian-11-amd64-*
                regions: [{{AwsEnvironment.Home}}, {{AwsEnvironment.Other}}]
                options:
                  source_ami_owner: "136693071363"
                  import_bucket: {{bucket}}
                  encrypt: false
                  {{(roleArn.Length == 0 ? "" : "role_arn: " + roleArn)}}
                channels:
                  dev: { ami_users: "111111111111" }
            channels: [dev, prod]
            """
        );
        return root;
    }
}
