using ImageForge.Toolchain.Packer;

namespace ImageForge.Toolchain.Tests;

public sealed class PackerInvocationSpecs
{
    public static TheoryData<PackerInvocation, string, string[], string[]> ArgumentVectors =>
        new()
        {
            {
                new PackerInvocation("."),
                "build",
                ["-machine-readable", "-color=false"],
                ["build", "-machine-readable", "-color=false", "."]
            },
            {
                new PackerInvocation("templates/debian")
                    .WithVariable("zeta", "last")
                    .WithVariable("alpha", "a b=c"),
                "validate",
                ["-machine-readable"],
                [
                    "validate",
                    "-machine-readable",
                    "-var",
                    "alpha=a b=c",
                    "-var",
                    "zeta=last",
                    "templates/debian",
                ]
            },
            {
                new PackerInvocation("t.pkr.hcl")
                    .WithVarFile("common.pkrvars.hcl")
                    .WithVarFile("user.pkrvars.hcl"),
                "build",
                [],
                ["build", "-var-file=common.pkrvars.hcl", "-var-file=user.pkrvars.hcl", "t.pkr.hcl"]
            },
            {
                new PackerInvocation("-odd").WithSensitiveVariable("token", "hunter2"),
                "build",
                [],
                ["build", "./-odd"]
            },
        };

    [Theory]
    [MemberData(nameof(ArgumentVectors))]
    public void Packer_gets_command_flags_variables_var_files_and_the_template_last(
        PackerInvocation invocation,
        string command,
        string[] flags,
        string[] expected
    )
    {
        // Act
        var spec = invocation.ToProcessSpec("packer", command, flags);

        // Assert
        spec.FileName.ShouldBe("packer");
        spec.Arguments.ShouldBe(expected);
    }

    [Fact]
    public void Sensitive_variables_go_only_through_the_environment_and_are_masked()
    {
        // Arrange
        var invocation = new PackerInvocation(".")
            .WithVariable("region", "eu-west-1")
            .WithSensitiveVariable("mirror_auth", "user:p@ss,word");

        // Act
        var spec = invocation.ToProcessSpec("packer", "build", ["-machine-readable"]);

        // Assert
        spec.Arguments.ShouldNotContain(a => a.Contains("p@ss", StringComparison.Ordinal));
        spec.Environment["PKR_VAR_mirror_auth"].ShouldBe("user:p@ss,word");
        spec.Secrets.ShouldContain("user:p@ss,word");
        spec.ToString().ShouldNotContain("p@ss");
        invocation.ToString().ShouldNotContain("p@ss");
        invocation.ToString().ShouldContain("PKR_VAR_mirror_auth=<redacted>");
    }

    [Fact]
    public void A_variable_moves_between_plain_and_sensitive_when_set_again()
    {
        // Arrange
        var plain = new PackerInvocation(".").WithVariable("token", "visible");

        // Act
        var sensitive = plain.WithSensitiveVariable("token", "hidden");

        // Assert
        sensitive.Variables.ShouldBeEmpty();
        sensitive.SensitiveVariables["token"].ShouldBe("hidden");
        plain.Variables["token"].ShouldBe("visible");
    }

    [Fact]
    public void The_environment_carries_temp_directory_checkpoint_opt_out_and_extras()
    {
        // Arrange
        var invocation = new PackerInvocation(".")
            .WithTempDirectory("/var/tmp/build-1")
            .WithEnvironment("PACKER_LOG", "1")
            .WithWorkingDirectory("/work")
            .WithTimeout(TimeSpan.FromMinutes(30))
            .WithGracePeriod(TimeSpan.FromSeconds(2));

        // Act
        var spec = invocation.ToProcessSpec("packer", "build", []);

        // Assert
        spec.Environment.ShouldBe(
            new Dictionary<string, string>
            {
                ["CHECKPOINT_DISABLE"] = "1",
                ["PACKER_LOG"] = "1",
                ["PACKER_TMP_DIR"] = "/var/tmp/build-1",
                ["TMPDIR"] = "/var/tmp/build-1",
            },
            ignoreOrder: true
        );
        spec.WorkingDirectory.ShouldBe("/work");
        spec.Timeout.ShouldBe(TimeSpan.FromMinutes(30));
        spec.GracePeriod.ShouldBe(TimeSpan.FromSeconds(2));
    }

    [Theory]
    [InlineData("")]
    [InlineData("9lives")]
    [InlineData("a=b")]
    [InlineData("has space")]
    public void A_name_that_cannot_be_a_Packer_variable_is_refused(string name)
    {
        // Arrange
        var invocation = new PackerInvocation(".");

        // Act
        var plain = () => invocation.WithVariable(name, "v");
        var sensitive = () => invocation.WithSensitiveVariable(name, "v");

        // Assert
        plain.ShouldThrow<ArgumentException>();
        sensitive.ShouldThrow<ArgumentException>();
    }
}
