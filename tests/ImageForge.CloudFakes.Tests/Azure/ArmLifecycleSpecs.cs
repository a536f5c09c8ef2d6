using Azure;
using Azure.ResourceManager.Compute;
using Azure.ResourceManager.Compute.Models;
using ImageForge.CloudFakes.Azure;
using Shouldly;
using Xunit;
using Xunit.Abstractions;

namespace ImageForge.CloudFakes.Tests.Azure;

/// <summary>The ARM fake driven by the real SDK (Azure.ResourceManager.Compute 1.2.0) through an image's life, as the Azure provider will.</summary>
public sealed class ArmLifecycleSpecs(ITestOutputHelper output)
{
    [Fact(Timeout = 30_000)]
    public async Task Tags_in_a_PATCH_replace_the_resources_tags_as_a_whole_while_the_rest_merges()
    {
        await using var arm = await ArmFake.StartAsync();
        var image = await ArmSpecs.CreateImageAsync(arm);

        var both = new GalleryImagePatch { Description = "kept" };
        both.Tags["a"] = "1";
        both.Tags["b"] = "2";
        await image.UpdateAsync(WaitUntil.Completed, both);
        var one = new GalleryImagePatch();
        one.Tags["a"] = "1";
        var afterOne = (await image.UpdateAsync(WaitUntil.Completed, one)).Value.Data;
        var none = new GalleryImagePatch();
        none.Tags.Clear();
        var afterNone = (await image.UpdateAsync(WaitUntil.Completed, none)).Value.Data;

        afterOne.Tags.ShouldBe(new Dictionary<string, string> { ["a"] = "1" });
        afterOne.Description.ShouldBe("kept");
        afterNone.Tags.ShouldBeEmpty();
        arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_resource_deleted_behind_the_clients_back_answers_404_ResourceNotFound()
    {
        await using var arm = await ArmFake.StartAsync();
        var image = await ArmSpecs.CreateImageAsync(arm);

        var deleted = arm.State.Delete(image.Id.ToString());
        var again = arm.State.Delete(image.Id.ToString());
        var failure = await Should.ThrowAsync<RequestFailedException>(() => image.GetAsync());

        deleted.ShouldBeTrue();
        again.ShouldBeFalse();
        failure.Status.ShouldBe(404);
        failure.ErrorCode.ShouldBe("ResourceNotFound");
        arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task An_image_version_from_an_azurite_vhd_replicates_per_region_is_patched_and_deleted()
    {
        await using var azurite = await Azurite.StartAsync();
        await using var arm = await ArmFake.StartAsync(new ArmFakeOptions { Blobs = azurite });
        var gallery = ArmSpecs.GalleryOf(arm);
        var vhd = await Vhds.UploadAsync(
            azurite,
            "vhds",
            "debian-12-1.0.0.vhd",
            Vhds.Make(4 << 20)
        );
        var images = gallery.GetGalleryImages();

        // The provider creates the definition only when it is missing.
        (await images.ExistsAsync("debian-12")).Value.ShouldBeFalse();
        var image = await ArmSpecs.CreateImageAsync(arm);
        var started = await image
            .GetGalleryImageVersions()
            .CreateOrUpdateAsync(
                WaitUntil.Started,
                "1.0.0",
                ArmSpecs.VersionFrom(vhd, "westeurope", "northeurope")
            );
        var version = arm.CreateClient()
            .GetGalleryImageVersionResource(
                GalleryImageVersionResource.CreateResourceIdentifier(
                    ArmFake.DefaultSubscriptionId,
                    ArmSpecs.ResourceGroup,
                    "imageforge",
                    "debian-12",
                    "1.0.0"
                )
            );
        var watched = new List<string>();
        while (!started.HasCompleted)
        {
            var seen = (await version.GetAsync(ReplicationStatusType.ReplicationStatus)).Value.Data;
            watched.Add(
                $"{seen.ProvisioningState}: "
                    + string.Join(
                        ", ",
                        seen.ReplicationStatus.Summary.Select(s =>
                            $"{s.Region} {s.State} {s.Progress}"
                        )
                    )
            );
            await started.UpdateStatusAsync();
        }

        var created = (await started.WaitForCompletionAsync()).Value.Data;
        var replicated = (await version.GetAsync(ReplicationStatusType.ReplicationStatus))
            .Value
            .Data;
        var listed = await image
            .GetGalleryImageVersions()
            .GetAllAsync()
            .Select(v => v.Data.Name)
            .ToListAsync();
        await version.UpdateAsync(
            WaitUntil.Completed,
            new GalleryImageVersionPatch
            {
                PublishingProfile = new() { IsExcludedFromLatest = false },
            }
        );
        var endOfLife = new DateTimeOffset(2027, 6, 30, 0, 0, 0, TimeSpan.Zero);
        var patch = new GalleryImageVersionPatch
        {
            PublishingProfile = new() { EndOfLifeOn = endOfLife },
        };
        patch.Tags["imageforge-build"] = "42";
        var patched = (await version.UpdateAsync(WaitUntil.Completed, patch)).Value.Data;
        await version.DeleteAsync(WaitUntil.Completed);
        await image.DeleteAsync(WaitUntil.Completed);

        watched.ShouldBe(["Creating: westeurope Replicating 50, northeurope Replicating 50"]);
        created.ProvisioningState.ShouldBe(GalleryProvisioningState.Succeeded);
        created.PublishingProfile.IsExcludedFromLatest.ShouldBe(true);
        created.StorageProfile.OSDiskImage.Source.Uri.ShouldBe(vhd);
        listed.ShouldBe(["1.0.0"]);
        replicated.ReplicationStatus.AggregatedState.ShouldBe(AggregatedReplicationState.Completed);
        replicated
            .ReplicationStatus.Summary.Select(s => (s.Region, s.State, s.Progress))
            .ShouldBe([
                ("westeurope", RegionalReplicationState.Completed, 100),
                ("northeurope", RegionalReplicationState.Completed, 100),
            ]);
        patched.PublishingProfile.IsExcludedFromLatest.ShouldBe(false);
        patched.PublishingProfile.EndOfLifeOn.ShouldBe(endOfLife);
        patched
            .PublishingProfile.TargetRegions.Select(r => r.Name)
            .ShouldBe(["westeurope", "northeurope"]);
        patched.Tags.ShouldBe(new Dictionary<string, string> { ["imageforge-build"] = "42" });
        patched.StorageProfile.OSDiskImage.SizeInGB.ShouldBe(1);
        (await image.GetGalleryImageVersions().ExistsAsync("1.0.0")).Value.ShouldBeFalse();
        arm.State.Resources.Select(r => r.Type).ShouldBe(["Microsoft.Compute/galleries"]);
        output.WriteLine(
            "ARM calls: "
                + string.Join(", ", arm.Calls.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"))
        );
        // The SDK asks no provider, subscription or resource group for this: gallery operations and their status only.
        arm.Calls.Keys.ShouldAllBe(k => k.StartsWith("Gallery") || k == "Compute_OperationStatus");
        arm.Calls["GalleryImageVersions_Update"].ShouldBe(2);
    }
}
