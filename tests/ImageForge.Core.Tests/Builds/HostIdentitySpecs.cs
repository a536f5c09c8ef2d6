using ImageForge.Core.Builds;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Builds;

public sealed class HostIdentitySpecs
{
    private const string Here = "build-01/8c2e5d0a-2f6e-4c1b-9a1d-3f0e8e3b7c11";

    [Theory]
    [InlineData(null, OwnerPlace.ThisBoot)]
    [InlineData(Here, OwnerPlace.ThisBoot)]
    [InlineData("build-01/0b1d2c3e-0000-4000-8000-000000000000", OwnerPlace.EarlierBoot)]
    [InlineData("build-02/8c2e5d0a-2f6e-4c1b-9a1d-3f0e8e3b7c11", OwnerPlace.OtherMachine)]
    [InlineData("build-0/8c2e5d0a-2f6e-4c1b-9a1d-3f0e8e3b7c11", OwnerPlace.OtherMachine)]
    public void An_owner_is_placed_on_this_boot_an_earlier_boot_or_another_machine(
        string? owner,
        OwnerPlace place
    ) => HostIdentity.Locate(owner, Here).ShouldBe(place);

    [Fact]
    public void This_machine_is_its_host_name_and_the_kernels_boot_id()
    {
        var boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();

        HostIdentity.Current.ShouldBe($"{Environment.MachineName}/{boot}");
        HostIdentity.Locate(HostIdentity.Current).ShouldBe(OwnerPlace.ThisBoot);
    }
}
