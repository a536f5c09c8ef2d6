using Azure;
using Azure.ResourceManager.Compute;
using Azure.ResourceManager.Compute.Models;
using ImageForge.CloudFakes.Azure;
using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace ImageForge.Providers.Azure.Tests;

/// <summary>The importer on the real SDKs against Azurite and the ARM fake (every request checked against the spec).</summary>
[Collection(AzureFakesGroup.Name)]
public sealed class ImportSpecs(AzureWorld world, ITestOutputHelper output)
{
    [Fact(Timeout = 60_000)]
    public async Task An_import_makes_one_gallery_version_replicated_to_each_region_and_excluded_from_latest()
    {
        var definition = world.NewImageDefinition();
        var target = AzureWorld.Target(definition, "westeurope", "northeurope");
        var disk = world.Disk($"{definition}.vhd");
        var journal = new MemoryJournal();
        var sink = new RecordingSink();
        var before = world.Arm.TotalCalls;

        var artifacts = await world
            .Importer()
            .ImportAsync(AzureWorld.Request(target, "2026.12.02.1", disk, journal), sink);

        var version = world.Arm.State.Versions.Single(v =>
            v.Id.Contains($"/images/{definition}/", StringComparison.Ordinal)
        );
        output.WriteLine($"ARM calls for one import: {world.Arm.TotalCalls - before}");
        output.WriteLine(string.Join(Environment.NewLine, sink.Lines));
        version.Id.ShouldEndWith("/versions/2026.1202.1");
        version.ProvisioningState.ShouldBe("Succeeded");
        version
            .Replication.Select(r => (r.Region, r.State))
            .ShouldBe([("westeurope", "Completed"), ("northeurope", "Completed")]);
        var data = await world.VersionDataAsync(definition, "2026.1202.1");
        data.PublishingProfile.IsExcludedFromLatest.ShouldBe(true);
        data.StorageProfile.OSDiskImage.Source.Uri.AbsolutePath.ShouldEndWith(
            "/vhds/debian-11-cis-azure/2026.12.02.1.vhd"
        );
        artifacts.Select(a => a.Region).ShouldBe(["westeurope", "northeurope"]);
        artifacts.ShouldAllBe(a =>
            a.Location == version.Id
            && a.SourceSha256 == disk.Sha256
            && a.Kind == "azure-gallery-image-version"
        );
        artifacts[0].Details["latest_channels"].ShouldBe("prod");
        sink.Lines.ShouldContain(l =>
            l.Contains("northeurope Replicating 50%", StringComparison.Ordinal)
        );
        // The upload blob is gone once every region has its copy.
        (
            await world
                .Azurite.CreateServiceClient()
                .GetBlobContainerClient(AzureWorld.Container)
                .GetBlobClient("debian-11-cis-azure/2026.12.02.1.vhd")
                .ExistsAsync()
        ).Value.ShouldBeFalse();
        world.Arm.TakeProblems().ShouldBeEmpty();
        journal["westeurope", "replicate"]!.State.ShouldBe(ImportStepState.Done);
        journal["northeurope", "replicate"]!.State.ShouldBe(ImportStepState.Done);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("upload")]
    [InlineData("image-definition")]
    [InlineData("version")]
    [InlineData("replicate")]
    [InlineData("cleanup")]
    public async Task An_import_resumed_after_it_died_past_a_step_finishes_without_a_second_version(
        string step
    )
    {
        var definition = world.NewImageDefinition();
        var target = AzureWorld.Target(definition);
        var disk = world.Disk($"{definition}.vhd");
        var journal = new MemoryJournal { CrashAfter = step };
        var request = AzureWorld.Request(target, "2026.12.02.2", disk, journal);

        await Should.ThrowAsync<ProcessDiedException>(() =>
            world.Importer().ImportAsync(request, new RecordingSink())
        );
        var artifacts = await world.Importer().ImportAsync(request, new RecordingSink());

        world.PutsOf(definition, "2026.1202.2").ShouldBe(1);
        world
            .Arm.State.Versions.Count(v =>
                v.Id.Contains($"/images/{definition}/", StringComparison.Ordinal)
            )
            .ShouldBe(1);
        artifacts.Select(a => a.Region).ShouldBe(["westeurope", "northeurope"]);
        (await world.VersionDataAsync(definition, "2026.1202.2")).ProvisioningState.ShouldBe(
            GalleryProvisioningState.Succeeded
        );
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_region_that_fails_fails_its_step_alone_and_a_resume_retries_only_that_region()
    {
        var definition = world.NewImageDefinition();
        var target = AzureWorld.Target(definition, "westeurope", "northeurope", "swedencentral");
        var journal = new MemoryJournal();
        var request = AzureWorld.Request(
            target,
            "2026.12.02.3",
            world.Disk($"{definition}.vhd"),
            journal
        );
        world.Arm.Faults.FailReplicationIn("northeurope", "Failed with internal server error.");

        ToolFailedException failed;
        try
        {
            failed = await Should.ThrowAsync<ToolFailedException>(() =>
                world.Importer().ImportAsync(request, new RecordingSink())
            );
        }
        finally
        {
            world.Arm.Faults.HealReplicationIn("northeurope");
        }

        var stepsAfterFailure = (
            journal["westeurope", "replicate"]?.State,
            journal["northeurope", "replicate"]?.State,
            journal["swedencentral", "replicate"]?.State
        );
        var sink = new RecordingSink();
        var artifacts = await world.Importer().ImportAsync(request, sink);

        output.WriteLine(failed.Message);
        failed.Message.ShouldContain(
            "step replicate northeurope failed: Failed with internal server error."
        );
        failed.Message.ShouldContain("replicated to westeurope, swedencentral");
        stepsAfterFailure.ShouldBe(
            (ImportStepState.Done, ImportStepState.Started, ImportStepState.Done)
        );
        sink.Lines.ShouldContain(l =>
            l.EndsWith("retrying replication to northeurope only", StringComparison.Ordinal)
        );
        world.PutsOf(definition, "2026.1202.3").ShouldBe(1);
        // Removed, then added back: Azure's own way to retry a region (azure-cli#15539).
        world.Calls("PATCH", definition, "2026.1202.3").ShouldBe(2);
        artifacts.Select(a => a.Region).ShouldBe(["westeurope", "northeurope", "swedencentral"]);
        world
            .Arm.State.Versions.Single(v =>
                v.Id.Contains($"/images/{definition}/", StringComparison.Ordinal)
            )
            .Replication.ShouldAllBe(r => r.State == "Completed");
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_replication_whose_wait_ran_out_while_azure_finished_is_read_again_and_succeeds()
    {
        var definition = world.NewImageDefinition();
        var target = AzureWorld.Target(definition);
        var request = AzureWorld.Request(
            target,
            "2026.12.02.4",
            world.Disk($"{definition}.vhd"),
            new MemoryJournal()
        );

        // No time to wait at all: the first look sees 50%, Azure finishes meanwhile (packer#7865).
        var artifacts = await world
            .Importer(replicationTimeout: TimeSpan.Zero)
            .ImportAsync(request, new RecordingSink());

        artifacts.Count.ShouldBe(2);
        // One look while it replicated, one more after the wait ran out: then it was done.
        world
            .Arm.Requests.Count(r =>
                r.Method == "GET"
                && r.PathAndQuery.Contains(
                    $"/images/{definition}/versions/2026.1202.4?",
                    StringComparison.Ordinal
                )
                && r.PathAndQuery.Contains("ReplicationStatus", StringComparison.OrdinalIgnoreCase)
            )
            .ShouldBe(2);
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task Throttled_calls_are_retried_after_their_retry_after_and_the_import_succeeds()
    {
        var (definition, request) = world.Fresh("2026.12.02.5");
        var throttledBefore = world.Arm.Faults.ThrottledCalls;
        world.Arm.Faults.Throttle(calls: 2, retryAfter: TimeSpan.FromSeconds(1));

        var artifacts = await world.Importer().ImportAsync(request, new RecordingSink());

        artifacts.Count.ShouldBe(2);
        (world.Arm.Faults.ThrottledCalls - throttledBefore).ShouldBe(2);
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_version_whose_operation_fails_is_reported_naming_the_version_step_and_the_error()
    {
        var (definition, request) = world.Fresh("2026.12.02.6");
        // The image definition exists, so the next long-running operation is the version's.
        await world
            .Arm.CreateClient()
            .GetGalleryResource(
                GalleryResource.CreateResourceIdentifier(
                    ArmFake.DefaultSubscriptionId,
                    AzureWorld.ResourceGroup,
                    AzureWorld.Gallery
                )
            )
            .GetGalleryImages()
            .CreateOrUpdateAsync(
                WaitUntil.Completed,
                definition,
                new GalleryImageData(global::Azure.Core.AzureLocation.WestEurope)
                {
                    OSType = SupportedOperatingSystemType.Linux,
                    OSState = OperatingSystemStateType.Generalized,
                    HyperVGeneration = HyperVGeneration.V2,
                    Identifier = new GalleryImageIdentifier("imageforge", "debian", definition),
                }
            );
        world.Arm.Faults.FailNextOperation(
            "InternalOperationError",
            "An internal execution error occurred."
        );

        var failed = await Should.ThrowAsync<ToolFailedException>(() =>
            world.Importer().ImportAsync(request, new RecordingSink())
        );

        output.WriteLine(failed.Message);
        failed.Message.ShouldContain("step version failed");
        failed.Message.ShouldContain("InternalOperationError");
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_gallery_that_does_not_exist_is_reported_with_what_to_do()
    {
        var definition = world.NewImageDefinition();
        var target = AzureWorld.Target(definition);
        target = target with
        {
            Options = new SortedDictionary<string, string>(
                target.Options.ToDictionary(),
                StringComparer.Ordinal
            )
            {
                ["gallery"] = "nosuchgallery",
            },
        };
        var request = AzureWorld.Request(
            target,
            "2026.12.02.7",
            world.Disk($"{definition}.vhd"),
            new MemoryJournal()
        );

        var failed = await Should.ThrowAsync<ToolFailedException>(() =>
            world.Importer().ImportAsync(request, new RecordingSink())
        );

        failed.Message.ShouldContain("step image-definition: the gallery");
        failed.Message.ShouldContain("does not exist; create it");
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact]
    public void A_target_without_its_gallery_settings_is_stopped_before_the_build_starts()
    {
        var target = AzureWorld.Target("debian-11");
        target = target with
        {
            Options = new SortedDictionary<string, string>(
                target
                    .Options.Where(o => o.Key is not ("gallery" or "storage_account"))
                    .ToDictionary(),
                StringComparer.Ordinal
            ),
            Secrets = new Dictionary<string, string>
            {
                ["client_secret"] = "AZURE_SECRET_VARIABLE",
            },
        };

        var problems = world.Importer().Preflight(target);

        problems.ShouldBe([
            "azure: options.gallery is required to import into a compute gallery",
            "azure: options.storage_account is required to import into a compute gallery",
            "azure: secrets.client_secret needs options.tenant_id and options.client_id (the service principal it belongs to)",
        ]);
    }
}
