using System.Security.Cryptography;
using System.Text;
using Amazon.EC2.Model;
using Amazon.SimpleSystemsManagement.Model;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Promotion;
using ImageForge.Core.Provenance;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Aws.Tests;

/// <summary>
/// Promotion, rollback, revocation and retention of imported AMIs against the AWS fake: permissions per channel and
/// region, the SSM parameter per channel and region, deprecation of every copy, and nothing left after deletion.
/// </summary>
public sealed class AwsDistributionSpecs(AwsEnvironment env) : IClassFixture<AwsEnvironment>
{
    private const string Home = AwsEnvironment.Home;
    private const string Other = AwsEnvironment.Other;
    private const string DevAccount = "111111111111";
    private const string ProdAccount = "222222222222";
    private const string Organization =
        "arn:aws:organizations::123456789012:organization/o-abcd1234ef";

    private static readonly string[] Regions = [Home, Other];

    [Fact(Timeout = 30_000)]
    public async Task Promotion_shares_each_regional_AMI_and_its_snapshots_with_the_channels_accounts_and_points_its_parameter_at_it()
    {
        var (version, spec) = await ImportAsync("promoted");
        var distribution = Distribution();

        foreach (var step in PromotionService.Plan(version))
        {
            var outcome = await distribution.PublishAsync(
                version,
                "prod",
                step with
                {
                    Spec = spec,
                }
            );
            outcome.Succeeded.ShouldBeTrue(outcome.Detail);
        }

        foreach (var ami in Amis(version))
        {
            var ec2 = env.Aws.Ec2(ami.Region);
            var launch = await ec2.DescribeImageAttributeAsync(
                new DescribeImageAttributeRequest
                {
                    ImageId = ami.Location,
                    Attribute = "launchPermission",
                }
            );
            launch
                .ImageAttribute.LaunchPermissions.Select(p => p.UserId ?? p.OrganizationArn)
                .Order()
                .ShouldBe([ProdAccount, Organization]);
            var volume = await ec2.DescribeSnapshotAttributeAsync(
                new DescribeSnapshotAttributeRequest
                {
                    SnapshotId = ami.Details["snapshots"],
                    Attribute = "createVolumePermission",
                }
            );
            volume.CreateVolumePermissions.ShouldHaveSingleItem().UserId.ShouldBe(ProdAccount);
            (await ParameterAsync(ami.Region, "promoted", "prod")).ShouldBe(ami.Location);
            var tags = (
                await ec2.DescribeImagesAsync(
                    new DescribeImagesRequest { ImageIds = [ami.Location] }
                )
            )
                .Images.ShouldHaveSingleItem()
                .Tags.ToDictionary(t => t.Key, t => t.Value);
            tags["imageforge:channel:prod"].ShouldBe("published");
            tags["imageforge:provenance-sha256"].ShouldBe(StatementSha256(version.Version));
        }

        env.Fake.FailedImageParameterValidations.ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_region_failing_fails_only_its_step_and_leaves_its_parameter_where_it_was()
    {
        var (first, spec) = await ImportAsync("failing");
        var (second, _) = await ImportAsync("failing");
        var distribution = Distribution();
        await PublishAllAsync(distribution, first, "dev", spec);

        env.Fake.Faults.FailRegion(Other);
        var outcomes = new List<(string Region, StepOutcome Outcome)>();
        try
        {
            foreach (var step in PromotionService.Plan(second))
            {
                outcomes.Add(
                    (
                        step.Region,
                        await distribution.PublishAsync(second, "dev", step with { Spec = spec })
                    )
                );
            }
        }
        finally
        {
            env.Fake.Faults.RestoreRegion(Other);
        }

        outcomes.Single(o => o.Region == Home).Outcome.Succeeded.ShouldBeTrue();
        var failed = outcomes.Single(o => o.Region == Other).Outcome;
        failed.Succeeded.ShouldBeFalse();
        failed.Detail.ShouldContain(Other);
        (await ParameterAsync(Other, "failing", "dev")).ShouldBe(Ami(first, Other).Location);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_rollback_points_the_parameters_back_and_withdraws_only_what_the_channel_alone_gave()
    {
        var (first, spec) = await ImportAsync("rolled");
        var (second, _) = await ImportAsync("rolled");
        var distribution = Distribution();
        await PublishAllAsync(distribution, first, "prod", spec);
        await PublishAllAsync(distribution, second, "dev", spec);
        await PublishAllAsync(distribution, second, "prod", spec);

        var outcome = await distribution.RollBackAsync("prod", second, first, [spec]);

        outcome.Succeeded.ShouldBeTrue(outcome.Detail);
        foreach (var region in Regions)
        {
            (await ParameterAsync(region, "rolled", "prod")).ShouldBe(Ami(first, region).Location);
            (await ParameterAsync(region, "rolled", "dev")).ShouldBe(Ami(second, region).Location);
            // dev still serves the second version to both accounts; prod's organization loses it.
            (await LaunchersAsync(Ami(second, region)))
                .Order()
                .ShouldBe([DevAccount, ProdAccount]);
            (await LaunchersAsync(Ami(first, region)))
                .Order()
                .ShouldBe([ProdAccount, Organization]);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Revocation_deprecates_every_regional_copy_and_is_idempotent()
    {
        var (version, _) = await ImportAsync("revoked");
        var distribution = Distribution();

        var first = await distribution.DeprecateAsync(version, "CVE-2026-0001");
        var again = await distribution.DeprecateAsync(version, "CVE-2026-0001");

        first.Succeeded.ShouldBeTrue(first.Detail);
        again.Succeeded.ShouldBeTrue(again.Detail);
        foreach (var ami in Amis(version))
        {
            var image = (
                await env
                    .Aws.Ec2(ami.Region)
                    .DescribeImagesAsync(
                        new DescribeImagesRequest
                        {
                            ImageIds = [ami.Location],
                            IncludeDeprecated = true,
                        }
                    )
            ).Images.ShouldHaveSingleItem();
            image.DeprecationTime.ShouldNotBeNull();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Deletion_leaves_no_AMI_and_no_snapshot_of_the_version_in_any_region_and_can_run_again()
    {
        var (version, _) = await ImportAsync("collected");
        var distribution = Distribution();

        var deleted = await distribution.DeleteAsync(version);
        var again = await distribution.DeleteAsync(version);

        deleted.Succeeded.ShouldBeTrue(deleted.Detail);
        again.Succeeded.ShouldBeTrue(again.Detail);
        foreach (var region in Regions)
        {
            (await env.ImagesAsync(region, $"collected-{version.Version}")).ShouldBeEmpty();
            var ec2 = env.Aws.Ec2(region);
            var snapshots =
                (
                    await ec2.DescribeSnapshotsAsync(
                        new DescribeSnapshotsRequest { OwnerIds = ["self"] }
                    )
                ).Snapshots
                ?? [];
            snapshots
                .Select(s => s.SnapshotId)
                .ShouldNotContain(Ami(version, region).Details["snapshots"]);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task An_imported_version_inspects_as_available_and_tagged_with_its_version_in_every_region()
    {
        var (version, _) = await ImportAsync("inspected");

        var live = await Distribution().InspectAsync(version);

        live.Select(l => l.Region).Order().ShouldBe(Regions.Order());
        foreach (var image in live)
        {
            image.Id.ShouldBe(Ami(version, image.Region).Location);
            image.State.ShouldBe(LiveState.Available, image.Detail);
            image.TaggedVersion.ShouldBe(version.Version);
        }

        LiveImages.Compare(version, live, Inspectable).ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_revoked_version_inspects_as_deprecated_which_is_drift_only_while_the_catalog_calls_it_live()
    {
        var (version, _) = await ImportAsync("inspected-revoked");
        var distribution = Distribution();
        (await distribution.DeprecateAsync(version, "CVE-2026-0002")).Succeeded.ShouldBeTrue();

        var live = await distribution.InspectAsync(version);

        live.Count.ShouldBe(Regions.Length);
        live.ShouldAllBe(l =>
            l.State == LiveState.Deprecated && l.Detail.Contains("CVE-2026-0002")
        );
        LiveImages
            .Compare(version with { Status = VersionStatus.Revoked }, live, Inspectable)
            .ShouldBeEmpty();
        LiveImages
            .Compare(version, live, Inspectable)
            .Select(d => d.Region)
            .Order()
            .ShouldBe(Regions.Order());
    }

    [Fact(Timeout = 30_000)]
    public async Task An_AMI_deregistered_behind_ImageForges_back_inspects_as_missing_and_is_the_only_drift()
    {
        var (version, _) = await ImportAsync("inspected-deleted");
        var gone = Ami(version, Other);
        await env
            .Aws.Ec2(Other)
            .DeregisterImageAsync(new DeregisterImageRequest { ImageId = gone.Location });

        var live = await Distribution().InspectAsync(version);

        live.Single(l => l.Region == Other).State.ShouldBe(LiveState.Missing);
        live.Single(l => l.Region == Home).State.ShouldBe(LiveState.Available);
        var drift = LiveImages.Compare(version, live, Inspectable).ShouldHaveSingleItem();
        (drift.Region, drift.Id).ShouldBe((Other, gone.Location));
        drift.Problem.ShouldContain("missing");
    }

    [Fact(Timeout = 30_000)]
    public async Task Inspecting_a_region_that_does_not_answer_throws_naming_aws_and_the_region()
    {
        var (version, _) = await ImportAsync("inspected-unreachable");
        env.Fake.Faults.FailRegion(Other);
        try
        {
            var e = await Should.ThrowAsync<ToolFailedException>(() =>
                Distribution().InspectAsync(version)
            );
            e.Message.ShouldStartWith($"could not ask aws in {Other}");
        }
        finally
        {
            env.Fake.Faults.RestoreRegion(Other);
        }
    }

    private static readonly HashSet<string> Inspectable = ["aws"];

    private IDistributionTarget Distribution() => env.Connect().Distribution!;

    private static async Task PublishAllAsync(
        IDistributionTarget distribution,
        ImageVersion version,
        string channel,
        TargetSpec spec
    )
    {
        foreach (var step in PromotionService.Plan(version))
        {
            var outcome = await distribution.PublishAsync(
                version,
                channel,
                step with
                {
                    Spec = spec,
                }
            );
            outcome.Succeeded.ShouldBeTrue(outcome.Detail);
        }
    }

    private async Task<(ImageVersion Version, TargetSpec Spec)> ImportAsync(string image)
    {
        var definition = AwsEnvironment.Definition(name: image);
        var spec = definition.Targets[0] with
        {
            Channels = new Dictionary<string, IReadOnlyDictionary<string, string>>
            {
                ["dev"] = new Dictionary<string, string>
                {
                    ["ami_users"] = $"{DevAccount},{ProdAccount}",
                },
                ["prod"] = new Dictionary<string, string>
                {
                    ["ami_users"] = ProdAccount,
                    ["ami_org_arns"] = Organization,
                },
            },
        };
        var version = env.NextVersion();
        var artifacts = await env.Connect()
            .Importer!.ImportAsync(
                env.Request(definition, version, new MemoryJournal()),
                new RecordingSink()
            );
        return (
            new ImageVersion
            {
                Image = image,
                Version = version,
                BuildId = "build-" + version,
                CreatedAt = DateTimeOffset.UnixEpoch,
                Status = VersionStatus.Built,
                Fingerprint = "fingerprint-" + version,
                Artifacts = [env.Disk, .. artifacts],
                Evidence =
                [
                    new EvidenceDocument
                    {
                        Kind = ProvenanceSubjects.StatementKind,
                        Location = "provenance.json",
                        Sha256 = StatementSha256(version),
                        MediaType = "application/vnd.in-toto+json",
                    },
                ],
            },
            spec
        );
    }

    private static string StatementSha256(string version) =>
        Convert.ToHexStringLower(
            SHA256.HashData(Encoding.UTF8.GetBytes("statement of " + version))
        );

    private static IEnumerable<Artifact> Amis(ImageVersion version) =>
        version.Artifacts.Where(a => a.Kind == "ami");

    private static Artifact Ami(ImageVersion version, string region) =>
        Amis(version).Single(a => a.Region == region);

    private async Task<string> ParameterAsync(string region, string image, string channel) =>
        (
            await env
                .Aws.Ssm(region)
                .GetParameterAsync(
                    new GetParameterRequest { Name = $"/imageforge/{image}/{channel}" }
                )
        )
            .Parameter
            .Value;

    private async Task<IReadOnlyList<string>> LaunchersAsync(Artifact ami) =>
        [
            .. (
                await env
                    .Aws.Ec2(ami.Region)
                    .DescribeImageAttributeAsync(
                        new DescribeImageAttributeRequest
                        {
                            ImageId = ami.Location,
                            Attribute = "launchPermission",
                        }
                    )
            ).ImageAttribute.LaunchPermissions?.Select(p => p.UserId ?? p.OrganizationArn) ?? [],
        ];
}
