using ImageForge.Core.Admission;
using ImageForge.Core.Errors;
using ImageForge.Policy.Checking;
using ImageForge.Policy.Rules;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Policy.Tests;

public sealed class PolicyCheckSpecs
{
    private static readonly DateOnly Today = new(2026, 12, 2);

    private static string Fixture(string rule, string name) =>
        Path.Combine(PolicyFiles.Shipped, "tests", rule, name + ".plan.json");

    private static PolicyReport Check(
        string plan,
        string? channel,
        params PlannedImage[] admitted
    ) =>
        PolicyCheck.Run(
            PolicySet.Load(PolicyFiles.Shipped),
            PlanResources.Read(plan),
            channel,
            admitted,
            Today
        );

    [Fact]
    public void A_violation_names_the_rule_the_address_and_the_plan_path_that_decided_it()
    {
        var report = Check(Fixture("no-ssh-from-internet", "aws-inline-ssh-from-anywhere"), "prod");

        report.Allowed.ShouldBeFalse();
        var denied = report.Findings.ShouldHaveSingleItem();
        denied.Effect.ShouldBe(Effect.Deny);
        denied.Binding.ShouldBe("default");
        denied.Finding.Rule.ShouldBe("no-ssh-from-internet");
        denied.Finding.Address.ShouldBe("aws_security_group.web.ingress[0].cidr_blocks[0]");
        denied.Finding.Path.ShouldBe("resource_changes[0].change.after.ingress[0].cidr_blocks[0]");
        denied.Finding.Message.ShouldBe(
            "aws_security_group.web.ingress[0].cidr_blocks[0]: accepts port 22 from the internet"
        );
    }

    [Theory]
    [InlineData("prod", false, Effect.Deny)]
    [InlineData(null, false, Effect.Deny)]
    [InlineData("dev", true, Effect.Warn)]
    public void A_binding_naming_the_channel_beats_the_binding_for_every_channel(
        string? channel,
        bool allowed,
        Effect effect
    )
    {
        var report = Check(Fixture("no-ssh-from-internet", "azure-internet-tag"), channel);

        report.Allowed.ShouldBe(allowed);
        report.Findings.ShouldHaveSingleItem().Effect.ShouldBe(effect);
    }

    [Fact]
    public void A_binding_sets_a_rules_parameter_for_its_channels()
    {
        // dev binds key: platform, so a Microsoft-managed key passes there and fails elsewhere.
        var plan = Fixture("storage-encrypted", "azure-account-microsoft-managed");

        Check(plan, "dev").Passed.ShouldBe(1);
        Check(plan, "prod").Findings.ShouldHaveSingleItem().Finding.Outcome.ShouldBe(Outcome.Fail);
    }

    [Fact]
    public void An_unknown_value_is_never_decided_and_warns_as_its_rule_says()
    {
        var report = Check(
            Fixture("storage-encrypted", "aws-key-unknown-from-data-source"),
            "prod"
        );

        report.Allowed.ShouldBeTrue();
        var finding = report.Findings.ShouldHaveSingleItem();
        finding.Finding.Outcome.ShouldBe(Outcome.Unknown);
        finding.Effect.ShouldBe(Effect.Warn);
        finding.Finding.Path.ShouldBe(
            "resource_changes[1].change.after.rule[0].apply_server_side_encryption_by_default[0].kms_master_key_id"
        );
    }

    [Fact]
    public void An_unknown_value_compared_with_null_stays_unknown()
    {
        // CEL answers 'placeholder == null' with false; the rule must not pass on that.
        using var dir = new TempDirectory();
        var policies = PolicyFiles.Copy(dir);
        PolicyFiles.Edit(
            policies,
            "storage-encrypted.yaml",
            yaml =>
                yaml.Replace(
                    "r.encryption == 'customer-managed' ||",
                    "r.key != null ||",
                    StringComparison.Ordinal
                )
        );

        var report = PolicyCheck.Run(
            PolicySet.Load(policies),
            PlanResources.Read(Fixture("storage-encrypted", "aws-key-unknown-from-data-source")),
            "prod",
            [],
            Today
        );

        report.Findings.ShouldHaveSingleItem().Finding.Outcome.ShouldBe(Outcome.Unknown);
    }

    [Fact]
    public void The_catalogs_admitted_images_decide_the_image_rule()
    {
        var plan = Fixture("vm-admitted-image", "aws-instance-admitted");

        Check(plan, "prod", new PlannedImage("aws_instance.web", "aws", "ami-0123456789abcdef0"))
            .Allowed.ShouldBeTrue();
        Check(plan, "prod")
            .Findings.ShouldHaveSingleItem()
            .Finding.Path.ShouldBe("resource_changes[0].change.after.ami");
    }

    [Fact]
    public void A_predicate_reading_an_attribute_its_kind_does_not_have_is_bad_input_naming_the_rule_file()
    {
        using var dir = new TempDirectory();
        var policies = PolicyFiles.Copy(dir);
        PolicyFiles.Edit(
            policies,
            "no-ssh-from-internet.yaml",
            yaml =>
                yaml.Replace("r.access == 'allow'", "r.acess == 'allow'", StringComparison.Ordinal)
        );

        var error = Should.Throw<InvalidInputException>(() =>
            PolicyCheck.Run(
                PolicySet.Load(policies),
                PlanResources.Read(Fixture("no-ssh-from-internet", "azure-star-source")),
                "prod",
                [],
                Today
            )
        );

        error.Message.ShouldStartWith(
            Path.Combine(policies, "no-ssh-from-internet.yaml")
                + ": predicate of rule 'no-ssh-from-internet' cannot be evaluated on azurerm_network_security_rule.ssh.source_address_prefix"
        );
        error.Message.ShouldContain(
            "the attributes of network_ingress_rule are: source, protocol, ports, access, address, type, provider"
        );
    }
}
