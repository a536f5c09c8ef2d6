using System.Text;
using ImageForge.Core.Errors;
using ImageForge.Policy.Checking;
using ImageForge.Policy.Rules;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Policy.Tests;

public sealed class PolicyInputSpecs
{
    private const string Ssh = "no-ssh-from-internet.yaml";
    private const string Storage = "storage-encrypted.yaml";
    private const string Bindings = "bindings.yaml";

    public static TheoryData<string, string, string, string> BrokenFiles =>
        new()
        {
            {
                Ssh,
                "predicate: >-\n  !(r.access == 'allow' &&",
                "predicate: >-\n  !(r.access == 'allow' && &&",
                ":13: predicate: not a CEL expression"
            },
            {
                Ssh,
                "kind: network_ingress_rule",
                "kind: load_balancer",
                ":9: kind: unknown kind 'load_balancer'"
            },
            {
                Ssh,
                "severity: critical",
                "severity: urgent",
                ":8: severity: one of low, medium, high, critical"
            },
            {
                Ssh,
                "when_unknown: warn",
                "when_unknown: maybe",
                ":16: when_unknown: one of fail, warn or pass"
            },
            {
                Ssh,
                "title: No server",
                "titel: x\ntitle: No server",
                ":7: rule: unknown field 'titel'"
            },
            // CEL's parser recurses on each bracket: 1,000 levels would overflow the stack.
            {
                Ssh,
                "predicate: >-\n  !(r.access == 'allow' &&",
                "predicate: >-\n  "
                    + new string('(', 1000)
                    + "true"
                    + new string(')', 1000)
                    + " && !(r.access == 'allow' &&",
                ":13: predicate: brackets nested 1000 deep; at most 32"
            },
            { Storage, "expires: 2027-06-30\n", "", ":17: exceptions.expires: required" },
            {
                Storage,
                "expires: 2027-06-30",
                "expires: next summer",
                ":20: exceptions.expires: a date, YYYY-MM-DD"
            },
            {
                Storage,
                "    owner: platform-security@example.com\n",
                "",
                ":17: exceptions.owner: required"
            },
            { Bindings, "action: deny", "action: block", ":6: action: one of deny, warn or audit" },
            {
                Bindings,
                "      key: platform",
                "      key: none",
                ":11: parameters.key: 'none' is not one of platform, customer-managed"
            },
            {
                Bindings,
                "    action: warn\n",
                "    action: warn\n    rules: [no-such-rule]\n",
                ":7: rules: no rule 'no-such-rule' in this directory"
            },
        };

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    [Trait(BadInput.Trait, BadInput.JsonShape)]
    public void A_broken_rule_or_binding_is_refused_with_its_file_line_and_field(
        string file,
        string find,
        string replace,
        string expected
    )
    {
        using var dir = new TempDirectory();
        var policies = PolicyFiles.Copy(dir);
        PolicyFiles.Edit(
            policies,
            file,
            yaml => yaml.Replace(find, replace, StringComparison.Ordinal)
        );

        var error = Should.Throw<InvalidInputException>(() => PolicySet.Load(policies));

        error.ExitCode.ShouldBe(2);
        error.Message.ShouldContain(Path.Combine(policies, file) + expected);
    }

    public static TheoryData<string, string, string> BrokenPlans =>
        new()
        {
            {
                "an unknown format major version",
                """{"format_version":"2.0","resource_changes":[]}""",
                "$.format_version: '2.0' is a plan format this imageforge does not know"
            },
            { "no format version", """{"resource_changes":[]}""", "$.format_version is missing" },
            {
                "resource_changes not a list",
                """{"format_version":"1.2","resource_changes":{}}""",
                "$.resource_changes: expected an array, found an object"
            },
            {
                "a change without actions",
                """{"format_version":"1.2","resource_changes":[{"address":"a.b","type":"a","change":{}}]}""",
                "$.resource_changes[0].change.actions is missing"
            },
            {
                "a port that is not a number",
                """{"format_version":"1.2","resource_changes":[{"address":"aws_security_group.a","type":"aws_security_group","change":{"actions":["create"],"after":{"ingress":[{"cidr_blocks":["0.0.0.0/0"],"from_port":"ssh","to_port":22,"protocol":"tcp"}]}}}]}""",
                "$.resource_changes[0].change.after.ingress[0].from_port: expected a whole number, found a string"
            },
            { "an array root", "[]", "$: expected a Terraform JSON plan" },
            {
                "nested 100,000 levels deep",
                """{"format_version":"1.2","x":"""
                    + new StringBuilder().Insert(0, "[", 100_000).ToString(),
                "not valid JSON"
            },
        };

    [Theory]
    [MemberData(nameof(BrokenPlans))]
    [Trait(BadInput.Trait, BadInput.JsonShape)]
    public void A_plan_that_cannot_be_checked_is_refused_with_its_file_and_path(
        string label,
        string json,
        string expected
    )
    {
        using var dir = new TempDirectory();
        var plan = PolicyFiles.Plan(dir, json);

        var error = Should.Throw<InvalidInputException>(() => PlanResources.Read(plan), label);

        error.ExitCode.ShouldBe(2);
        error.Message.ShouldStartWith(plan + ":");
        error.Message.ShouldContain(expected);
    }

    [Fact]
    [Trait(BadInput.Trait, BadInput.Limits)]
    public void A_50_MB_plan_is_refused_before_it_is_parsed()
    {
        using var dir = new TempDirectory();
        var plan = dir.Combine("huge.json");
        using (var file = File.Create(plan))
        {
            file.Write("{\"format_version\":\"1.2\",\"pad\":\""u8);
            var padding = new byte[50 * 1024 * 1024];
            Array.Fill(padding, (byte)'x');
            file.Write(padding);
            file.Write("\"}"u8);
        }

        var error = Should.Throw<InvalidInputException>(() => PlanResources.Read(plan));

        error.Message.ShouldBe(
            $"{plan}: too large for a Terraform JSON plan ('terraform show -json plan.out > plan.json'): 50 MiB, the limit is 32 MiB"
        );
    }
}
