using Azure;
using Azure.Core;
using Azure.ResourceManager;
using Azure.ResourceManager.Compute;
using Azure.ResourceManager.Compute.Models;
using ImageForge.CloudFakes.Azure;
using Shouldly;
using Xunit;

namespace ImageForge.CloudFakes.Tests.Azure;

/// <summary>Faults a spec injects into the ARM fake, as the real SDK sees them.</summary>
public sealed class ArmFaultSpecs
{
    [Fact(Timeout = 60_000)]
    public async Task A_region_whose_replication_fails_is_reported_failed_alone_and_fails_the_version()
    {
        await using var arm = await ArmFake.StartAsync();
        arm.Faults.FailReplicationIn("northeurope", "Failed with internal server error.");
        var image = await ArmSpecs.CreateImageAsync(arm);

        var failure = await Should.ThrowAsync<RequestFailedException>(() =>
            image
                .GetGalleryImageVersions()
                .CreateOrUpdateAsync(
                    WaitUntil.Completed,
                    "1.0.0",
                    ArmSpecs.VersionFromManagedImage("westeurope", "northeurope", "swedencentral")
                )
        );
        var version = (
            await image.GetGalleryImageVersionAsync(
                "1.0.0",
                ReplicationStatusType.ReplicationStatus
            )
        )
            .Value
            .Data;

        failure.ErrorCode.ShouldBe("ReplicationFailed");
        failure.Message.ShouldContain("region:northeurope");
        version.ProvisioningState.ShouldBe(GalleryProvisioningState.Failed);
        version.ReplicationStatus.AggregatedState.ShouldBe(AggregatedReplicationState.Failed);
        version
            .ReplicationStatus.Summary.Select(s => (s.Region, s.State, s.Details))
            .ShouldBe([
                ("westeurope", RegionalReplicationState.Completed, ""),
                (
                    "northeurope",
                    RegionalReplicationState.Failed,
                    "Failed with internal server error."
                ),
                ("swedencentral", RegionalReplicationState.Completed, ""),
            ]);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_region_stays_failed_until_it_is_removed_and_added_back_after_it_healed()
    {
        await using var arm = await ArmFake.StartAsync(
            new ArmFakeOptions { RetryAfterSeconds = 0 }
        );
        arm.Faults.FailReplicationIn("northeurope");
        var image = await ArmSpecs.CreateImageAsync(arm);
        await Should.ThrowAsync<RequestFailedException>(() =>
            image
                .GetGalleryImageVersions()
                .CreateOrUpdateAsync(
                    WaitUntil.Completed,
                    "1.0.0",
                    ArmSpecs.VersionFromManagedImage("westeurope", "northeurope")
                )
        );
        var version = (await image.GetGalleryImageVersionAsync("1.0.0")).Value;
        arm.Faults.HealReplicationIn("northeurope");
        var stillFailed = arm
            .State.Versions.Single()
            .Replication.Single(r => r.Region == "northeurope");

        await version.UpdateAsync(WaitUntil.Completed, Regions("westeurope"));
        var readded = await version.UpdateAsync(
            WaitUntil.Completed,
            Regions("westeurope", "northeurope")
        );

        stillFailed.State.ShouldBe("Failed");
        readded.Value.Data.ProvisioningState.ShouldBe(GalleryProvisioningState.Succeeded);
        arm.State.Versions.Single()
            .Replication.Select(r => (r.Region, r.State))
            .ShouldBe([("westeurope", "Completed"), ("northeurope", "Completed")]);

        static GalleryImageVersionPatch Regions(params string[] regions)
        {
            var patch = new GalleryImageVersionPatch { PublishingProfile = new() };
            foreach (var region in regions)
            {
                patch.PublishingProfile.TargetRegions.Add(new TargetRegion(region));
            }

            return patch;
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Throttled_calls_are_retried_by_the_sdk_after_the_retry_after_the_fake_sent()
    {
        await using var arm = await ArmFake.StartAsync();
        // The SDK's own back-off made tiny: only honouring Retry-After can space the retries a second apart.
        var gallery = ArmSpecs.GalleryOf(
            arm,
            options =>
            {
                options.Retry.Delay = TimeSpan.FromMilliseconds(10);
                options.Retry.Mode = RetryMode.Fixed;
            }
        );
        arm.Faults.Throttle(calls: 2, retryAfter: TimeSpan.FromSeconds(1));

        var found = await gallery.GetAsync();

        found.Value.Data.Name.ShouldBe("imageforge");
        arm.Faults.ThrottledCalls.ShouldBe(2);
        var calls = arm.Requests.Where(r => r.Operation == "Galleries_Get").ToList();
        calls.Select(c => c.Status).ShouldBe([429, 429, 200]);
        // Arrival times at the fake: each retry waited out the Retry-After of the 429 before it.
        (calls[1].At - calls[0].At).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.95));
        (calls[2].At - calls[1].At).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.95));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_long_running_operation_that_fails_surfaces_as_request_failed_exception_with_its_error()
    {
        await using var arm = await ArmFake.StartAsync();
        arm.Faults.FailNextOperation("InternalOperationError", "Replication source is busy.");

        var failure = await Should.ThrowAsync<RequestFailedException>(() =>
            ArmSpecs
                .GalleryOf(arm)
                .GetGalleryImages()
                .CreateOrUpdateAsync(WaitUntil.Completed, "debian-12", ArmSpecs.ImageDefinition())
        );

        failure.ErrorCode.ShouldBe("InternalOperationError");
        failure.Message.ShouldContain("Replication source is busy.");
        arm.State.ImageDefinitions.Single().ProvisioningState.ShouldBe("Failed");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_sdk_authenticates_with_the_test_credential_and_a_wrong_token_gets_401()
    {
        await using var arm = await ArmFake.StartAsync();
        var credential = new TestTokenCredential("not-the-token");
        var client = new ArmClient(
            credential,
            ArmFake.DefaultSubscriptionId,
            arm.CreateClientOptions()
        );

        var refused = await Should.ThrowAsync<RequestFailedException>(() =>
            client.GetGalleryResource(new ResourceIdentifier(ArmSpecs.AddGallery(arm))).GetAsync()
        );

        refused.Status.ShouldBe(401);
        refused.ErrorCode.ShouldBe("AuthenticationFailed");
        credential.Scopes.ShouldAllBe(s => s == "https://management.azure.com/.default");
    }
}
