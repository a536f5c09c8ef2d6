using System.Text.Json;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

public sealed class PolicyCheckCommandSpecs : IDisposable
{
    private readonly TempDirectory _data = new();

    private static string Fixture(string rule, string name) =>
        Path.Combine(RepoPaths.Root, "policies", "tests", rule, name + ".plan.json");

    private Task<CliResult> RunAsync(params string[] args) =>
        CliRunner.RunAsync(
            RepoPaths.Root,
            new Dictionary<string, string> { ["IMAGEFORGE_DATA_DIR"] = _data.Path },
            CancellationToken.None,
            args
        );

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task A_denied_plan_exits_1_and_prints_rule_address_and_deciding_path()
    {
        var result = await RunAsync(
            "policy",
            "check",
            "--terraform-plan",
            Fixture("no-ssh-from-internet", "aws-group-plus-separate-rules-on-update"),
            "--channel",
            "prod"
        );

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Out.ShouldBe(
            "deny  no-ssh-from-internet (critical, fail): aws_security_group_rule.ssh.cidr_blocks[0]: accepts port 22 from the internet\n"
                + "      at resource_changes[1].change.after.cidr_blocks[0]\n"
                + "2 resource(s), 3 rule(s) for channel prod: 1 denied, 0 warning(s), 0 audited, 0 excepted, 1 passed; refused\n"
        );
    }

    [Fact]
    public async Task A_warning_binding_exits_0_and_json_says_allowed_with_each_finding()
    {
        var result = await RunAsync(
            "policy",
            "check",
            "--terraform-plan",
            Fixture("no-ssh-from-internet", "azure-internet-tag"),
            "--channel",
            "dev",
            "--output",
            "json"
        );

        result.ExitCode.ShouldBe(0, result.ToString());
        using var json = JsonDocument.Parse(result.Out);
        json.RootElement.GetProperty("allowed").GetBoolean().ShouldBeTrue();
        var finding = json.RootElement.GetProperty("findings")[0];
        finding.GetProperty("effect").GetString().ShouldBe("warn");
        finding.GetProperty("binding").GetString().ShouldBe("development");
        finding
            .GetProperty("finding")
            .GetProperty("path")
            .GetString()
            .ShouldBe("resource_changes[0].change.after.source_address_prefix");
    }

    [Fact]
    public async Task A_machine_whose_image_the_empty_catalog_does_not_admit_is_denied()
    {
        var result = await RunAsync(
            "policy",
            "check",
            "--terraform-plan",
            Fixture("vm-admitted-image", "aws-instance-admitted"),
            "--channel",
            "prod"
        );

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Out.ShouldContain(
            "deny  vm-admitted-image (critical, fail): aws_instance.web: boots from an image the catalog does not admit for this channel"
        );
    }

    [Fact]
    [Trait(BadInput.Trait, BadInput.JsonShape)]
    public async Task A_plan_of_an_unknown_format_exits_2_naming_the_file()
    {
        using var dir = new TempDirectory();
        var plan = dir.Combine("plan.json");
        await File.WriteAllTextAsync(plan, """{"format_version":"2.0","resource_changes":[]}""");

        var result = await RunAsync("policy", "check", "--terraform-plan", plan);

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldStartWith(
            $"error: {plan}: $.format_version: '2.0' is a plan format this imageforge does not know"
        );
    }

    [Fact]
    [Trait(BadInput.Trait, BadInput.JsonShape)]
    public async Task A_rule_with_a_cel_syntax_error_exits_2_naming_the_file_and_line()
    {
        using var dir = new TempDirectory();
        var policies = dir.Combine("policies");
        Directory.CreateDirectory(policies);
        var rule = Path.Combine(policies, "broken.yaml");
        await File.WriteAllTextAsync(
            rule,
            "id: broken\ntitle: Broken\nseverity: low\nkind: vm_instance\npredicate: r.image ==\nmessage: x\n"
        );

        var result = await RunAsync(
            "policy",
            "check",
            "--policies",
            policies,
            "--terraform-plan",
            Fixture("vm-admitted-image", "aws-instance-admitted")
        );

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldStartWith($"error: {rule}:5: predicate: not a CEL expression");
    }

    [Fact]
    public async Task Policy_test_runs_the_rule_fixtures_with_the_baselines_cases()
    {
        var result = await RunAsync("policy", "test");

        result.ExitCode.ShouldBe(0, result.ToString());
        result.Out.ShouldContain("no-ssh-from-internet:\n");
        result.Out.ShouldContain("  ok    azure-port-range-20-30\n");
        result.Out.ShouldContain("  ok    aws-customer-key-created-in-same-plan\n");
        result.Out.ShouldNotContain("  FAIL  ", Case.Sensitive);
    }
}
