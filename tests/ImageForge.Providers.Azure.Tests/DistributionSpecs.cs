using Azure.ResourceManager.Compute;
using ImageForge.CloudFakes.Azure;
using ImageForge.Core.Builds;
using ImageForge.Core.Promotion;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Azure.Tests;

/// <summary>Promotion, revocation and deletion of an imported gallery version, through the provider's distribution.</summary>
[Collection(AzureFakesGroup.Name)]
public sealed class DistributionSpecs(AzureWorld world)
{
    [Fact(Timeout = 60_000)]
    public async Task Promotion_tags_each_channel_and_only_a_latest_channel_clears_exclude_from_latest()
    {
        var (definition, version) = await ImportedAsync("2026.12.03.1");
        var gallery = world.Distribution();
        var steps = PromotionService.Plan(version);

        var dev = await PublishAllAsync(gallery, version, "dev", steps);
        var afterDev = await world.VersionDataAsync(definition, "2026.1203.1");
        var prod = await PublishAllAsync(gallery, version, "prod", steps);
        var patches = world.Calls("PATCH", definition, "2026.1203.1");
        var again = await PublishAllAsync(gallery, version, "prod", steps);
        var afterProd = await world.VersionDataAsync(definition, "2026.1203.1");

        steps.Select(s => s.Region).ShouldBe(["westeurope", "northeurope"]);
        dev.ShouldAllBe(o => o.Succeeded);
        prod.ShouldAllBe(o => o.Succeeded);
        afterDev.PublishingProfile.IsExcludedFromLatest.ShouldBe(true);
        afterDev.Tags["imageforge-channel-dev"].ShouldBe("2026.12.03.1");
        afterProd.PublishingProfile.IsExcludedFromLatest.ShouldBe(false);
        afterProd.Tags.Keys.ShouldBe(
            ["imageforge-channel-dev", "imageforge-channel-prod"],
            ignoreOrder: true
        );
        // Each step reads first: the second region's step and a repeated promotion change nothing.
        patches.ShouldBe(2);
        again.ShouldAllBe(o => o.Succeeded && o.Detail.Contains("already"));
        world.Calls("PATCH", definition, "2026.1203.1").ShouldBe(2);
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task Revocation_ends_the_versions_life_now_and_excludes_it_from_latest_again()
    {
        var (definition, version) = await ImportedAsync("2026.12.03.2");
        var revokedAt = new DateTimeOffset(2026, 12, 2, 1, 30, 0, TimeSpan.Zero);
        var gallery = world.Distribution(new ManualTimeProvider(revokedAt));
        await PublishAllAsync(gallery, version, "prod", PromotionService.Plan(version));

        var revoked = await gallery.DeprecateAsync(version, "CVE-2026-0001 in openssl");
        var data = await world.VersionDataAsync(definition, "2026.1203.2");

        revoked.Succeeded.ShouldBeTrue(revoked.Detail);
        data.PublishingProfile.IsExcludedFromLatest.ShouldBe(true);
        data.PublishingProfile.EndOfLifeOn.ShouldBe(revokedAt);
        data.Tags["imageforge-revoked"].ShouldBe("CVE-2026-0001 in openssl");
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task Garbage_collection_deletes_the_version_and_a_leftover_blob_and_a_repeat_finds_nothing()
    {
        var (definition, version) = await ImportedAsync("2026.12.03.3");
        var gallery = world.Distribution();
        var blob = world
            .Azurite.CreateServiceClient()
            .GetBlobContainerClient(AzureWorld.Container)
            .GetBlobClient("debian-11-cis-azure/2026.12.03.3.vhd");
        await blob.UploadAsync(BinaryData.FromString("left over by a failed cleanup"));

        var deleted = await gallery.DeleteAsync(version);
        var repeated = await gallery.DeleteAsync(version);

        deleted.Succeeded.ShouldBeTrue(deleted.Detail);
        deleted.Detail.ShouldContain("2026.1203.3 deleted");
        deleted.Detail.ShouldContain("leftover blob");
        repeated.Succeeded.ShouldBeTrue(repeated.Detail);
        repeated.Detail.ShouldContain("was gone");
        world.Arm.State.Versions.ShouldNotContain(v =>
            v.Id.Contains($"/images/{definition}/", StringComparison.Ordinal)
        );
        (await blob.ExistsAsync()).Value.ShouldBeFalse();
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_version_whose_replication_failed_is_not_promoted_and_the_step_says_what_to_do()
    {
        var (definition, request) = world.Fresh("2026.12.03.4");
        world.Arm.Faults.FailReplicationIn("northeurope");
        try
        {
            await Should.ThrowAsync<ImageForge.Core.Errors.ToolFailedException>(() =>
                world.Importer().ImportAsync(request, new RecordingSink())
            );
        }
        finally
        {
            world.Arm.Faults.HealReplicationIn("northeurope");
        }

        var id = GalleryImageVersionResource
            .CreateResourceIdentifier(
                ArmFake.DefaultSubscriptionId,
                AzureWorld.ResourceGroup,
                AzureWorld.Gallery,
                definition,
                "2026.1203.4"
            )
            .ToString();
        var version = Version(
            "2026.12.03.4",
            [Artifact(id, "westeurope"), Artifact(id, "northeurope")]
        );

        var outcomes = await PublishAllAsync(
            world.Distribution(),
            version,
            "prod",
            PromotionService.Plan(version)
        );

        outcomes.ShouldAllBe(o => !o.Succeeded);
        outcomes[1].Detail.ShouldContain("replication failed in northeurope");
        outcomes[1].Detail.ShouldContain("--resume");
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    private async Task<(string Definition, ImageVersion Version)> ImportedAsync(string number)
    {
        var (definition, request) = world.Fresh(number);
        var artifacts = await world.Importer().ImportAsync(request, new RecordingSink());
        return (definition, Version(number, artifacts));
    }

    private static ImageVersion Version(string number, IReadOnlyList<Artifact> artifacts) =>
        new()
        {
            Image = "debian-11-cis-azure",
            Version = number,
            BuildId = "build-1",
            CreatedAt = DateTimeOffset.UnixEpoch,
            Status = VersionStatus.Built,
            Fingerprint = "fingerprint",
            Artifacts = artifacts,
        };

    private static Artifact Artifact(string id, string region) =>
        new()
        {
            Target = "azure",
            Region = region,
            Kind = AzureImporter.ArtifactKind,
            Location = id,
            Details = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                [AzureGallery.LatestChannelsKey] = "prod",
            },
        };

    private static async Task<List<StepOutcome>> PublishAllAsync(
        AzureGallery gallery,
        ImageVersion version,
        string channel,
        IReadOnlyList<DistributionStep> steps
    )
    {
        var outcomes = new List<StepOutcome>();
        foreach (var step in steps)
        {
            outcomes.Add(await gallery.PublishAsync(version, channel, step));
        }

        return outcomes;
    }
}
