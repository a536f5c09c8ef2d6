using Azure.ResourceManager.Compute;
using ImageForge.CloudFakes.Azure;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
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

    [Fact(Timeout = 60_000)]
    public async Task A_rollback_moves_the_channel_tag_back_and_makes_the_earlier_version_the_latest_again()
    {
        var (definition, serving, leaving, target) = await BothInProdAsync(
            "2026.12.05.1",
            "2026.12.05.2",
            "dev"
        );
        var gallery = world.Distribution();

        var back = await gallery.RollBackAsync("prod", leaving, serving, [target]);
        var patches = world.Calls("PATCH", definition, "2026.1205.2");
        var again = await gallery.RollBackAsync("prod", leaving, serving, [target]);
        var left = await world.VersionDataAsync(definition, "2026.1205.2");
        var served = await world.VersionDataAsync(definition, "2026.1205.1");

        back.Succeeded.ShouldBeTrue(back.Detail);
        served.Tags["imageforge-channel-prod"].ShouldBe("2026.12.05.1");
        served.PublishingProfile.IsExcludedFromLatest.ShouldBe(false);
        // dev keeps the newer version; it is not a latest channel, so the newer one leaves latest.
        left.Tags.ShouldBe(
            new Dictionary<string, string> { ["imageforge-channel-dev"] = "2026.12.05.2" }
        );
        left.PublishingProfile.IsExcludedFromLatest.ShouldBe(true);
        again.Succeeded.ShouldBeTrue(again.Detail);
        again.Detail.ShouldContain("already");
        world.Calls("PATCH", definition, "2026.1205.2").ShouldBe(patches);
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_rollback_whose_patch_fails_fails_and_the_next_run_finishes_it()
    {
        var (definition, serving, leaving, target) = await BothInProdAsync(
            "2026.12.05.3",
            "2026.12.05.4"
        );
        var gallery = world.Distribution();

        world.Arm.Faults.FailNextOperation("InternalOperationError", "try later");
        var failed = await gallery.RollBackAsync("prod", leaving, serving, [target]);
        var finished = await gallery.RollBackAsync("prod", leaving, serving, [target]);
        var left = await world.VersionDataAsync(definition, "2026.1205.4");

        failed.Succeeded.ShouldBeFalse();
        failed.Detail.ShouldContain("2026.1205.4: following the rollback of prod failed");
        finished.Succeeded.ShouldBeTrue(finished.Detail);
        left.Tags.ShouldNotContainKey("imageforge-channel-prod");
        left.PublishingProfile.IsExcludedFromLatest.ShouldBe(true);
        (
            await world.VersionDataAsync(definition, "2026.1205.3")
        ).PublishingProfile.IsExcludedFromLatest.ShouldBe(false);
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task An_imported_version_inspects_as_available_in_every_region_named_by_its_gallery_version()
    {
        var (_, version) = await ImportedAsync("2026.12.04.1");

        var live = await world.Distribution().InspectAsync(version);

        live.Select(l => l.Region).ShouldBe(["westeurope", "northeurope"]);
        live.ShouldAllBe(l =>
            l.State == LiveState.Available
            && l.TaggedVersion == "2026.12.04.1"
            && l.Id == version.Artifacts[0].Location
        );
        LiveImages.Compare(version, live, Inspectable).ShouldBeEmpty();
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_revoked_version_inspects_as_deprecated_which_is_drift_only_while_the_catalog_calls_it_live()
    {
        var (_, version) = await ImportedAsync("2026.12.04.2");
        var gallery = world.Distribution();
        (await gallery.DeprecateAsync(version, "CVE-2026-0002")).Succeeded.ShouldBeTrue();

        var live = await gallery.InspectAsync(version);

        live.Count.ShouldBe(2);
        live.ShouldAllBe(l =>
            l.State == LiveState.Deprecated
            && l.Detail.Contains("imageforge-revoked: CVE-2026-0002")
        );
        LiveImages
            .Compare(version with { Status = VersionStatus.Revoked }, live, Inspectable)
            .ShouldBeEmpty();
        LiveImages
            .Compare(version, live, Inspectable)
            .Select(d => d.Region)
            .ShouldBe(["westeurope", "northeurope"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_gallery_version_deleted_behind_ImageForges_back_inspects_as_missing_in_each_region()
    {
        var (_, version) = await ImportedAsync("2026.12.04.3");
        var (_, other) = await ImportedAsync("2026.12.04.4");
        world.Arm.State.Delete(version.Artifacts[0].Location).ShouldBeTrue();
        var gallery = world.Distribution();

        var live = await gallery.InspectAsync(version);
        var untouched = await gallery.InspectAsync(other);

        live.ShouldAllBe(l => l.State == LiveState.Missing);
        var drifts = LiveImages.Compare(version, live, Inspectable);
        drifts.Select(d => d.Region).ShouldBe(["westeurope", "northeurope"]);
        drifts.ShouldAllBe(d => d.Problem.Contains("missing"));
        LiveImages.Compare(other, untouched, Inspectable).ShouldBeEmpty();
        world.Arm.TakeProblems().ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task Inspecting_when_ARM_keeps_refusing_throws_naming_azure_and_the_region()
    {
        var (_, version) = await ImportedAsync("2026.12.04.5");
        world.Arm.Faults.Throttle(1, TimeSpan.Zero);
        try
        {
            var e = await Should.ThrowAsync<ImageForge.Core.Errors.ToolFailedException>(() =>
                world.Distribution(arm: o => o.Retry.MaxRetries = 0).InspectAsync(version)
            );
            e.Message.ShouldStartWith("could not ask azure in westeurope");
            e.Message.ShouldContain("2026.1204.5");
            e.Message.ShouldContain("429");
        }
        finally
        {
            world.Arm.Faults.Throttle(0, TimeSpan.Zero);
        }
    }

    private static readonly HashSet<string> Inspectable = ["azure"];

    private async Task<(string Definition, ImageVersion Version)> ImportedAsync(string number)
    {
        var (definition, request) = world.Fresh(number);
        var artifacts = await world.Importer().ImportAsync(request, new RecordingSink());
        return (definition, Version(number, artifacts));
    }

    // Two versions of one image definition, promoted to prod one after the other (the newer also to the others).
    private async Task<(
        string Definition,
        ImageVersion Earlier,
        ImageVersion Newer,
        TargetSpec Target
    )> BothInProdAsync(string earlier, string newer, params string[] others)
    {
        var (definition, first) = await ImportedAsync(earlier);
        var target = AzureWorld.Target(definition);
        var request = AzureWorld.Request(
            target,
            newer,
            world.Disk($"{definition}-{newer}.vhd"),
            new MemoryJournal()
        );
        var second = Version(
            newer,
            await world.Importer().ImportAsync(request, new RecordingSink())
        );
        var gallery = world.Distribution();
        foreach (
            var (version, channel) in new[] { (first, "prod") }
                .Concat(others.Select(c => (second, c)))
                .Append((second, "prod"))
        )
        {
            (
                await PublishAllAsync(gallery, version, channel, PromotionService.Plan(version))
            ).ShouldAllBe(o => o.Succeeded);
        }

        return (definition, first, second, target);
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
