using Azure;
using Azure.Core;
using Azure.ResourceManager.Compute.Models;
using Azure.Storage.Blobs.Specialized;
using ImageForge.CloudFakes.Azure;
using Shouldly;
using Xunit;

namespace ImageForge.CloudFakes.Tests.Azure;

/// <summary>An image version's VHD source must be a fixed VHD page blob in the storage account it names, in Azurite.</summary>
public sealed class ArmSourceSpecs
{
    [Fact(Timeout = 60_000)]
    public async Task A_version_whose_source_is_not_a_fixed_vhd_page_blob_of_the_named_account_is_refused()
    {
        await using var azurite = await Azurite.StartAsync();
        await using var arm = await ArmFake.StartAsync(new ArmFakeOptions { Blobs = azurite });
        var image = await ArmSpecs.CreateImageAsync(arm);
        var vhd = await Vhds.UploadAsync(azurite, "vhds", "good.vhd", Vhds.Make(1 << 20));
        var raw = new Uri(vhd + "-raw");
        await new PageBlobClient(raw, Azurite.Credential).CreateAsync(2 << 20);
        var account = Azurite.StorageAccountId(
            ArmFake.DefaultSubscriptionId,
            ArmSpecs.ResourceGroup
        );
        (Uri Blob, string Account)[] refusedSources =
        [
            (new Uri(vhd + "-missing"), account),
            (raw, account),
            (vhd, account.Replace(Azurite.AccountName, "otheraccount", StringComparison.Ordinal)),
            (vhd, "devstoreaccount1"),
        ];

        var codes = new List<string>();
        foreach (var (blob, accountId) in refusedSources)
        {
            var version = ArmSpecs.VersionFrom(blob, "westeurope");
            ((GalleryDiskImageSource)version.StorageProfile.OSDiskImage.Source).StorageAccountId =
                new ResourceIdentifier(accountId);
            var refused = await Should.ThrowAsync<RequestFailedException>(() =>
                image
                    .GetGalleryImageVersions()
                    .CreateOrUpdateAsync(WaitUntil.Started, "1.0.0", version)
            );
            codes.Add($"{refused.Status} {refused.ErrorCode}");
        }

        var accepted = await image
            .GetGalleryImageVersions()
            .CreateOrUpdateAsync(
                WaitUntil.Started,
                "1.0.0",
                ArmSpecs.VersionFrom(vhd, "westeurope")
            );

        codes.ShouldBe([
            "400 InvalidParameter",
            "400 InvalidParameter",
            "400 InvalidParameter",
            "400 LinkedInvalidPropertyId",
        ]);
        var problems = arm.TakeProblems();
        problems.Count.ShouldBe(4);
        problems[0].ShouldContain("does not exist");
        problems[1].ShouldContain("no 'conectix' footer");
        problems[2].ShouldContain("is not in storage account");
        problems[3].ShouldContain("is invalid");
        accepted.HasCompleted.ShouldBeFalse();
        arm.State.Versions.Single().Properties["storageProfile"]!["osDiskImage"]!["sizeInGB"]!
            .GetValue<int>()
            .ShouldBe(1);
    }
}
