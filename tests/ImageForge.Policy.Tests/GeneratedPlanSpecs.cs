using ImageForge.Core.Admission;
using ImageForge.Policy.Checking;
using ImageForge.Policy.Rules;
using ImageForge.TestUtils;
using ImageForge.Toolchain.Processes;
using Shouldly;
using Xunit;

namespace ImageForge.Policy.Tests;

/// <summary>
/// Runs when <c>terraform</c> is on PATH and an AWS provider filesystem mirror is on the machine
/// (<c>$IMAGEFORGE_TERRAFORM_MIRROR</c>, else <c>/opt/tf-plugins</c>); skipped with the reason otherwise. The
/// committed <c>aws-terraform-generated</c> fixtures are the same plan and run everywhere.
/// </summary>
public sealed class TerraformFactAttribute : FactAttribute
{
    public TerraformFactAttribute()
    {
        if (OfflineTerraform.Missing is { } reason)
        {
            Skip = reason;
        }
    }
}

internal static class OfflineTerraform
{
    public static string Mirror { get; } =
        Environment.GetEnvironmentVariable("IMAGEFORGE_TERRAFORM_MIRROR") is { Length: > 0 } m
            ? m
            : "/opt/tf-plugins";

    public static string? Executable { get; } =
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "terraform"))
            .FirstOrDefault(File.Exists);

    public static string? Missing =>
        Executable is null ? "terraform is not on PATH"
        : !Directory.Exists(Path.Combine(Mirror, "registry.terraform.io", "hashicorp", "aws"))
            ? $"no AWS provider in the filesystem mirror {Mirror} (set IMAGEFORGE_TERRAFORM_MIRROR)"
        : null;
}

public sealed class GeneratedPlanSpecs
{
    private static async Task<IReadOnlyList<string>> TerraformAsync(
        string directory,
        string cliConfig,
        params string[] arguments
    )
    {
        var spec = new ProcessSpec(OfflineTerraform.Executable!)
            .WithArguments(arguments)
            .WithWorkingDirectory(directory)
            .WithEnvironment("TF_CLI_CONFIG_FILE", cliConfig)
            .WithEnvironment("TF_IN_AUTOMATION", "1")
            .WithEnvironment("CHECKPOINT_DISABLE", "1")
            .WithEnvironment("AWS_EC2_METADATA_DISABLED", "true")
            .WithTimeout(TimeSpan.FromSeconds(90));
        var (exit, output, errors) = await new ProcessRunner(TimeProvider.System).RunToEndAsync(
            spec
        );
        exit.ShouldBe(0, $"terraform {string.Join(' ', arguments)}: {string.Join('\n', errors)}");
        return output;
    }

    [TerraformFact(Timeout = 240_000)]
    public async Task A_plan_made_by_terraform_is_checked_like_the_committed_fixtures()
    {
        // Arrange: the provider comes from the mirror only; nothing is downloaded.
        using var dir = new TempDirectory();
        File.Copy(
            Path.Combine(AppContext.BaseDirectory, "Terraform", "main.tf"),
            dir.Combine("main.tf")
        );
        var cliConfig = dir.Combine("cli.tfrc");
        await File.WriteAllTextAsync(
            cliConfig,
            $$"""
            provider_installation {
              filesystem_mirror {
                path    = "{{OfflineTerraform.Mirror}}"
                include = ["registry.terraform.io/hashicorp/aws"]
              }
            }
            """
        );
        await TerraformAsync(dir.Path, cliConfig, "init", "-input=false", "-no-color");
        await TerraformAsync(
            dir.Path,
            cliConfig,
            "plan",
            "-input=false",
            "-no-color",
            "-refresh=false",
            "-out=plan.out"
        );
        var json = await TerraformAsync(dir.Path, cliConfig, "show", "-json", "plan.out");
        var plan = dir.Combine("plan.json");
        await File.WriteAllLinesAsync(plan, json);

        // Act
        var report = PolicyCheck.Run(
            PolicySet.Load(PolicyFiles.Shipped),
            PlanResources.Read(plan),
            "prod",
            [new PlannedImage("aws_instance.web", "aws", "ami-0123456789abcdef0")],
            new DateOnly(2026, 12, 2)
        );

        // Assert: the key created in the same plan makes acme-data customer-managed; the internal group passes.
        report
            .Findings.Select(f => $"{f.Finding.Rule} {f.Finding.Address} {RuleFixturesName(f)}")
            .Order(StringComparer.Ordinal)
            .ShouldBe([
                "no-ssh-from-internet aws_security_group.web.ingress[0].cidr_blocks[0] fail",
                "storage-encrypted aws_s3_bucket.plain fail",
            ]);
        report
            .Findings.Single(f => f.Finding.Rule == "no-ssh-from-internet")
            .Finding.Path.ShouldEndWith(".change.after.ingress[0].cidr_blocks[0]");
        report.Passed.ShouldBe(3);
    }

    private static string RuleFixturesName(CheckedFinding f) =>
        Testing.RuleFixtures.Name(f.Finding.Outcome);
}
