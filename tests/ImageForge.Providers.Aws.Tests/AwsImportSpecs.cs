using Amazon.EC2.Model;
using Amazon.S3;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Aws.Tests;

/// <summary>
/// The import path against the AWS fake with the real SDK: one AMI per region with the attributes AWS needs to boot
/// the disk, resumable after a crash at any step without a second AMI or an orphan snapshot, and the faults AWS throws
/// survived or reported with the step that met them.
/// </summary>
public sealed class AwsImportSpecs(AwsEnvironment env) : IClassFixture<AwsEnvironment>
{
    private const string Home = AwsEnvironment.Home;
    private const string Other = AwsEnvironment.Other;

    [Fact(Timeout = 30_000)]
    public async Task An_import_makes_one_available_uefi_ena_imdsv2_gp3_AMI_per_region_tagged_with_the_version()
    {
        var version = env.NextVersion();
        var definition = AwsEnvironment.Definition();
        var journal = new MemoryJournal();

        var artifacts = await ImportAsync(definition, version, journal);

        artifacts.Select(a => a.Region).ShouldBe([Home, Other]);
        foreach (var artifact in artifacts)
        {
            var image = (
                await env.ImagesAsync(artifact.Region, $"base-{version}")
            ).ShouldHaveSingleItem();
            image.ImageId.ShouldBe(artifact.Location);
            image.State.Value.ShouldBe("available");
            image.BootMode.Value.ShouldBe("uefi");
            image.EnaSupport.ShouldBe(true);
            image.ImdsSupport.Value.ShouldBe("v2.0");
            image.Architecture.Value.ShouldBe("x86_64");
            image.VirtualizationType.Value.ShouldBe("hvm");
            var root = image.BlockDeviceMappings.ShouldHaveSingleItem();
            root.DeviceName.ShouldBe(image.RootDeviceName);
            root.Ebs.VolumeType.Value.ShouldBe("gp3");
            artifact.Details["snapshots"].ShouldBe(root.Ebs.SnapshotId);
            var tags = image.Tags.ToDictionary(t => t.Key, t => t.Value);
            tags["imageforge:image"].ShouldBe("base");
            tags["imageforge:version"].ShouldBe(version);
            tags["imageforge:fingerprint"].ShouldBe("fingerprint-" + version);
            tags["imageforge:disk-sha256"].ShouldBe(env.Disk.Sha256);
            artifact.SourceSha256.ShouldBe(env.Disk.Sha256);
            artifact.Kind.ShouldBe("ami");
            (await env.OrphanSnapshotsAsync(artifact.Region)).ShouldBeEmpty();
        }

        journal.Steps.ShouldAllBe(s => s.State == ImportStepState.Done);
        journal
            .Steps.Select(s => $"{s.Region}/{s.Step}")
            .Order()
            .ShouldBe([
                $"{Home}/delete-upload",
                $"{Home}/import-snapshot",
                $"{Home}/register",
                $"{Home}/upload",
                $"{Other}/copy",
            ]);
        var gone = await Should.ThrowAsync<AmazonS3Exception>(() =>
            env
                .Aws.S3(Home)
                .GetObjectMetadataAsync(
                    AwsEnvironment.Bucket,
                    $"imageforge/base/{version}/disk.raw"
                )
        );
        gone.StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
    }

    /// <summary>Where the process dies: a step's region and name, and when.</summary>
    public enum Moment
    {
        /// <summary>The cloud made it, its id never reached the journal: only the ClientToken (or name) finds it.</summary>
        BeforeItsIdWasJournaled,

        /// <summary>The step finished, the journal does not say so.</summary>
        BeforeItWasJournaledDone,

        /// <summary>The step was journaled done, nothing after it ran.</summary>
        RightAfterItWasJournaledDone,
    }

    public static TheoryData<string, string, Moment> Crashes =>
        new()
        {
            { "upload", Home, Moment.BeforeItsIdWasJournaled },
            { "upload", Home, Moment.BeforeItWasJournaledDone },
            { "upload", Home, Moment.RightAfterItWasJournaledDone },
            { "import-snapshot", Home, Moment.BeforeItsIdWasJournaled },
            { "import-snapshot", Home, Moment.BeforeItWasJournaledDone },
            { "import-snapshot", Home, Moment.RightAfterItWasJournaledDone },
            { "register", Home, Moment.BeforeItWasJournaledDone },
            { "register", Home, Moment.RightAfterItWasJournaledDone },
            { "delete-upload", Home, Moment.BeforeItWasJournaledDone },
            { "copy", Other, Moment.BeforeItsIdWasJournaled },
            { "copy", Other, Moment.BeforeItWasJournaledDone },
            { "copy", Other, Moment.RightAfterItWasJournaledDone },
        };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Crashes))]
    public async Task A_import_resumed_after_a_crash_at_any_step_leaves_exactly_one_AMI_per_region_and_no_orphan_snapshot(
        string step,
        string region,
        Moment moment
    )
    {
        var version = env.NextVersion();
        var definition = AwsEnvironment.Definition();
        var journal = new MemoryJournal();
        Func<ImportStep, bool> at = e =>
            e.Step == step
            && e.Region == region
            && (
                moment == Moment.BeforeItsIdWasJournaled
                    ? e is { State: ImportStepState.Started, Data: not null }
                    : e.State == ImportStepState.Done
            );
        if (moment == Moment.RightAfterItWasJournaledDone)
        {
            journal.CrashAfter = at;
        }
        else
        {
            journal.CrashBefore = at;
        }

        await Should.ThrowAsync<CrashException>(() => ImportAsync(definition, version, journal));
        var resumed = await ImportAsync(definition, version, journal);

        foreach (var r in new[] { Home, Other })
        {
            (await env.ImagesAsync(r, $"base-{version}"))
                .ShouldHaveSingleItem()
                .ImageId.ShouldBe(resumed.Single(a => a.Region == r).Location);
            (await env.OrphanSnapshotsAsync(r)).ShouldBeEmpty();
        }

        // Every import task ends as a snapshot in AWS: a second task of the version would be an orphan snapshot soon.
        var tasks = await env
            .Aws.Ec2(Home)
            .DescribeImportSnapshotTasksAsync(new DescribeImportSnapshotTasksRequest());
        tasks
            .ImportSnapshotTasks.Count(t =>
                (t.Tags ?? []).Any(tag => tag.Key == "imageforge:version" && tag.Value == version)
            )
            .ShouldBe(1);
        var uploads = await env
            .Aws.S3(Home)
            .ListMultipartUploadsAsync(
                new Amazon.S3.Model.ListMultipartUploadsRequest
                {
                    BucketName = AwsEnvironment.Bucket,
                    Prefix = $"imageforge/base/{version}/",
                }
            );
        (uploads.MultipartUploads ?? []).ShouldBeEmpty("no unfinished upload is left to pay for");
    }

    [Fact(Timeout = 30_000)]
    public async Task Throttling_hidden_copies_and_a_cut_upload_part_are_survived()
    {
        var version = env.NextVersion();
        env.Fake.Faults.Throttle("ImportSnapshot", 2);
        env.Fake.Faults.Throttle("RegisterImage", 1);
        env.Fake.Faults.Throttle("CopyImage", 2);
        env.Fake.Faults.Throttle("UploadPart", 2);
        env.Fake.Faults.HideCopiedImages(3);
        env.Fake.Faults.CutUploadPart(2, 1000, times: 1);
        try
        {
            var artifacts = await ImportAsync(
                AwsEnvironment.Definition(),
                version,
                new MemoryJournal()
            );

            artifacts.Count.ShouldBe(2);
            (await env.ImagesAsync(Other, $"base-{version}")).ShouldHaveSingleItem();
        }
        finally
        {
            env.Fake.Faults.Reset();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_region_that_fails_is_reported_by_its_step_and_resuming_finishes_only_that_region()
    {
        var version = env.NextVersion();
        var definition = AwsEnvironment.Definition();
        var journal = new MemoryJournal();
        env.Fake.Faults.FailRegion(Other);
        ToolFailedException failed;
        try
        {
            failed = await Should.ThrowAsync<ToolFailedException>(() =>
                ImportAsync(definition, version, journal)
            );
        }
        finally
        {
            env.Fake.Faults.RestoreRegion(Other);
        }

        var homeCalls = env.Fake.Requests.In(Home);
        var resumed = await ImportAsync(definition, version, journal);

        failed.Message.ShouldContain($"copy in {Other} failed");
        resumed.Select(a => a.Region).ShouldBe([Home, Other]);
        env.Fake.Requests.In(Home)
            .ShouldBe(homeCalls, "the home region's steps were done and are not repeated");
        (await env.ImagesAsync(Other, $"base-{version}")).ShouldHaveSingleItem();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_resumed_upload_sends_only_the_parts_S3_does_not_hold()
    {
        var version = env.NextVersion();
        var journal = new MemoryJournal();
        var before = env.Fake.Requests.Of("UploadPart");
        // The third part is cut more often than the SDK retries: the upload step fails with two parts held.
        env.Fake.Faults.CutUploadPart(3, 100, times: 100);
        try
        {
            var failed = await Should.ThrowAsync<ToolFailedException>(() =>
                ImportAsync(AwsEnvironment.Definition(), version, journal)
            );
            failed.Message.ShouldContain($"upload in {Home} failed");
        }
        finally
        {
            env.Fake.Faults.Reset();
        }

        var firstRun = env.Fake.Requests.Of("UploadPart") - before;
        await ImportAsync(AwsEnvironment.Definition(), version, journal);

        (env.Fake.Requests.Of("UploadPart") - before - firstRun).ShouldBe(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task Encrypted_copies_use_the_KMS_key_named_for_their_region()
    {
        var version = env.NextVersion();
        const string key =
            "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        var definition = AwsEnvironment.Definition(
            new Dictionary<string, string>
            {
                ["import_bucket"] = AwsEnvironment.Bucket,
                ["encrypt"] = "true",
                ["upload_part_mib"] = "5",
                ["region_kms_key_ids"] = $"{Other}={key}",
            }
        );

        var artifacts = await ImportAsync(definition, version, new MemoryJournal());

        var snapshots = await SnapshotsAsync(Other, artifacts.Single(a => a.Region == Other));
        snapshots.ShouldHaveSingleItem().Encrypted.ShouldBe(true);
        snapshots[0].KmsKeyId.ShouldBe(key);
        (await SnapshotsAsync(Home, artifacts.Single(a => a.Region == Home)))
            .ShouldHaveSingleItem()
            .Encrypted.ShouldBe(true);
    }

    private async Task<List<Snapshot>> SnapshotsAsync(string region, Artifact ami) =>
        (
            await env
                .Aws.Ec2(region)
                .DescribeSnapshotsAsync(
                    new DescribeSnapshotsRequest
                    {
                        SnapshotIds = [.. ami.Details["snapshots"].Split(',')],
                    }
                )
        ).Snapshots;

    private async Task<IReadOnlyList<Artifact>> ImportAsync(
        Core.Definitions.ImageDefinition definition,
        string version,
        MemoryJournal journal
    ) =>
        await env.Connect()
            .Importer!.ImportAsync(
                env.Request(definition, version, journal),
                new RecordingSink(),
                CancellationToken.None
            );
}
