using ImageForge.Policy.Rules;
using Shouldly;
using Xunit;

namespace ImageForge.Policy.Tests;

public sealed class CelFunctionSpecs
{
    [Theory]
    [InlineData("0.0.0.0/0", true)]
    [InlineData("::/0", true)]
    [InlineData("*", true)]
    [InlineData("Internet", true)]
    [InlineData("any", true)]
    [InlineData("203.0.113.10/32", true)]
    [InlineData("203.0.113.10", true)]
    [InlineData("0.0.0.0/1", true)]
    [InlineData("8.0.0.0/7", true)]
    [InlineData("10.0.0.0/8", false)]
    [InlineData("10.1.2.3/8", false)]
    [InlineData("172.16.0.0/12", false)]
    [InlineData("172.0.0.0/8", true)]
    [InlineData("192.168.1.0/24", false)]
    [InlineData("100.64.0.0/10", false)]
    [InlineData("127.0.0.1/32", false)]
    [InlineData("fd00::/8", false)]
    [InlineData("2001:db8::/32", true)]
    [InlineData("VirtualNetwork", false)]
    [InlineData("AzureLoadBalancer", false)]
    [InlineData("10.0.0.0/33", false)]
    public void Is_public_cidr_is_true_when_the_source_includes_internet_addresses(
        string source,
        bool expected
    ) => CelFunctions.IsPublic(source).ShouldBe(expected);

    [Theory]
    [InlineData("10.0.0.0/8", "10.1.0.0/16", true)]
    [InlineData("10.0.0.0/8", "10.1.2.3", true)]
    [InlineData("10.0.0.0/16", "10.0.0.0/8", false)]
    [InlineData("0.0.0.0/0", "8.8.8.8", true)]
    [InlineData("*", "8.8.8.8/32", true)]
    [InlineData("10.0.0.0/8", "::1", false)]
    [InlineData("not a cidr", "10.0.0.1", false)]
    public void Cidr_contains_is_true_when_every_address_of_the_inner_range_is_in_the_outer(
        string outer,
        string inner,
        bool expected
    ) => CelFunctions.CidrContains(outer, inner).ShouldBe(expected);

    [Theory]
    [InlineData("22", 22, true)]
    [InlineData("20-30", 22, true)]
    [InlineData("20-21", 22, false)]
    [InlineData("*", 22, true)]
    [InlineData("0-65535", 22, true)]
    [InlineData("443", 22, false)]
    [InlineData("ssh", 22, false)]
    public void Port_range_covers_reads_every_clouds_port_notation(
        string range,
        long port,
        bool expected
    )
    {
        CelFunctions.Covers(range, port).ShouldBe(expected);
        CelFunctions.Covers(new List<object?> { "80", range }, port).ShouldBe(expected);
    }

    [Theory]
    [InlineData("cidr_contains('10.0.0.0/8', '10.9.0.0/16')", true)]
    [InlineData("is_public_cidr('Internet') && !is_public_cidr('10.0.0.0/8')", true)]
    [InlineData("port_range_covers(['80', '20-30'], 22)", true)]
    [InlineData("port_range_covers('80', 22)", false)]
    public void The_functions_are_callable_from_a_predicate(string predicate, bool expected) =>
        CelFunctions
            .Environment()
            .Compile(predicate)
            .Invoke(new Dictionary<string, object?>())
            .ShouldBe(expected);
}
