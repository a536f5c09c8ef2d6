using ImageForge.Policy.Rules;
using ImageForge.Policy.Testing;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Policy.Tests;

public sealed class ShippedFixtureSpecs
{
    private static readonly DateOnly Today = new(2026, 12, 2);

    [Fact]
    public void Every_shipped_fixture_meets_its_expected_pass_fail_and_unknown_decisions()
    {
        var report = RuleFixtures.Run(PolicySet.Load(PolicyFiles.Shipped), Today);

        report
            .Cases.Where(c => !c.Passed)
            .SelectMany(c => c.Differences.Select(d => $"{c.Rule}/{c.Case}: {d}"))
            .ShouldBeEmpty();
        report.Untested.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("storage-encrypted", "aws-")]
    [InlineData("storage-encrypted", "azure-")]
    [InlineData("storage-encrypted", "gcp-")]
    [InlineData("no-ssh-from-internet", "aws-")]
    [InlineData("no-ssh-from-internet", "azure-")]
    [InlineData("no-ssh-from-internet", "gcp-")]
    public void Each_resource_rule_has_at_least_ten_fixture_plans_per_cloud(
        string rule,
        string cloud
    )
    {
        var report = RuleFixtures.Run(PolicySet.Load(PolicyFiles.Shipped), Today);

        report
            .Cases.Count(c => c.Rule == rule && c.Case.StartsWith(cloud, StringComparison.Ordinal))
            .ShouldBeGreaterThanOrEqualTo(10);
        report.Cases.Count.ShouldBeGreaterThanOrEqualTo(60);
    }

    [Theory]
    [InlineData("storage-encrypted", "aws-conditional-sse-algorithm-resolved-at-plan")]
    [InlineData("storage-encrypted", "aws-count-conditional-encryption-disabled")]
    [InlineData("storage-encrypted", "aws-customer-key-created-in-same-plan")]
    [InlineData("storage-encrypted", "aws-logging-bucket-exception")]
    [InlineData("no-ssh-from-internet", "aws-group-plus-separate-rules-on-update")]
    [InlineData("no-ssh-from-internet", "azure-star-source")]
    [InlineData("no-ssh-from-internet", "azure-internet-tag")]
    [InlineData("no-ssh-from-internet", "azure-port-range-20-30")]
    [InlineData("no-ssh-from-internet", "gcp-no-ports-means-all")]
    public void The_regression_cases_users_report_are_among_the_fixtures(string rule, string name)
    {
        var report = RuleFixtures.Run(PolicySet.Load(PolicyFiles.Shipped), Today);

        report.Cases.ShouldContain(c => c.Rule == rule && c.Case == name && c.Passed);
    }

    [Fact]
    public void A_changed_rule_that_flips_a_case_fails_the_run_and_names_the_case()
    {
        // Arrange: a rule that looks at port 23 lets every SSH case through.
        using var dir = new TempDirectory();
        var policies = PolicyFiles.Copy(dir, fixtures: true);
        PolicyFiles.Edit(
            policies,
            "no-ssh-from-internet.yaml",
            yaml => yaml.Replace("default: \"22\"", "default: \"23\"", StringComparison.Ordinal)
        );

        // Act
        var report = RuleFixtures.Run(PolicySet.Load(policies), Today);

        // Assert
        var flipped = report.Cases.Single(c => c.Case == "aws-inline-ssh-from-anywhere");
        flipped.Passed.ShouldBeFalse();
        flipped.Differences.ShouldBe([
            "aws_security_group.web.ingress[0].cidr_blocks[0]: expected fail, got pass "
                + "(resource_changes[0].change.after.ingress[0].from_port)",
        ]);
        report.Cases.Single(c => c.Case == "aws-udp-22-is-not-ssh").Passed.ShouldBeTrue();
    }

    [Fact]
    public void An_address_the_expectations_do_not_list_fails_the_case()
    {
        using var dir = new TempDirectory();
        var policies = PolicyFiles.Copy(dir, fixtures: true);
        PolicyFiles.Edit(
            policies,
            "tests/storage-encrypted/gcp-two-buckets-mixed.expected.yaml",
            yaml =>
                yaml.Replace(
                    "fail:\n  - \"google_storage_bucket.tmp\"\n",
                    "",
                    StringComparison.Ordinal
                )
        );

        var report = RuleFixtures.Run(PolicySet.Load(policies), Today);

        report
            .Cases.Single(c => c.Case == "gcp-two-buckets-mixed")
            .Differences.ShouldBe([
                "google_storage_bucket.tmp: not listed in gcp-two-buckets-mixed.expected.yaml, got fail "
                    + "(resource_changes[1].change.after)",
            ]);
    }
}
