using Azure;
using Azure.Storage.Blobs.Specialized;
using ImageForge.CloudFakes.Azure;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.CloudFakes.Tests.Azure;

public sealed class AzuriteSpecs
{
    [Fact(Timeout = 60_000)]
    public async Task A_vhd_page_blob_uploaded_in_parallel_pages_reads_back_with_the_sources_sha256_and_an_unaligned_one_is_refused()
    {
        await using var azurite = await Azurite.StartAsync();
        var vhd = Vhds.Make(6 << 20);

        var uri = await Vhds.UploadAsync(azurite, "vhds", "debian-12.vhd", vhd);
        var blob = new PageBlobClient(uri, Azurite.Credential);
        using var copy = new MemoryStream();
        await blob.DownloadToAsync(copy);
        var unaligned = new PageBlobClient(new Uri(uri + "-odd"), Azurite.Credential);
        var refused = await Should.ThrowAsync<RequestFailedException>(() =>
            unaligned.CreateAsync(vhd.Length + 100)
        );

        uri.Host.ShouldBe("127.0.0.1");
        copy.Length.ShouldBe(vhd.Length);
        Vhds.Sha256(copy.ToArray()).ShouldBe(Vhds.Sha256(vhd));
        var facts = await azurite.DescribeAsync(uri);
        facts.ShouldBe(new VhdBlobFacts(Azurite.AccountName, true, vhd.Length, null));
        refused.Status.ShouldBe(400);
        (await unaligned.ExistsAsync()).Value.ShouldBeFalse();
    }

    [Fact(Timeout = 60_000)]
    public async Task Disposing_azurite_leaves_no_process_of_its_group()
    {
        var azurite = await Azurite.StartAsync();
        var group = azurite.ProcessGroupId;
        ProcessGroup.Members(group).ShouldNotBeEmpty();

        await azurite.DisposeAsync();

        ProcessGroup.Members(group).ShouldBeEmpty();
    }
}
