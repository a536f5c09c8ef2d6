using ImageForge.Toolchain.Processes;

namespace ImageForge.Toolchain.Tests;

public sealed class ProcessSpecSpecs
{
    public static TheoryData<string[], string> CommandLines =>
        new()
        {
            { [], "packer" },
            { ["version"], "packer version" },
            { ["build", "-var", "a=b c"], "packer build -var 'a=b c'" },
            { ["build", "it's"], "packer build 'it'\\''s'" },
            { ["build", ""], "packer build ''" },
            { ["-var", "x=$HOME;rm -rf /"], "packer -var 'x=$HOME;rm -rf /'" },
        };

    [Theory]
    [MemberData(nameof(CommandLines))]
    public void Arguments_stay_a_vector_and_print_quoted_for_a_shell(
        string[] arguments,
        string expected
    )
    {
        // Arrange
        var spec = new ProcessSpec("packer");

        // Act
        var withArguments = spec.WithArguments(arguments);

        // Assert
        withArguments.Arguments.ShouldBe(arguments);
        withArguments.ToString().ShouldBe(expected);
    }

    [Fact]
    public void With_methods_return_a_copy_and_leave_the_original_unchanged()
    {
        // Arrange
        var original = new ProcessSpec("tool");

        // Act
        var changed = original
            .WithArguments("a", "b")
            .WithEnvironment("X", "1")
            .WithSecret("s")
            .WithTimeout(TimeSpan.FromSeconds(3))
            .WithGracePeriod(TimeSpan.FromSeconds(1))
            .WithWorkingDirectory("/tmp");

        // Assert
        original.Arguments.ShouldBeEmpty();
        original.Environment.ShouldBeEmpty();
        original.Secrets.ShouldBeEmpty();
        original.Timeout.ShouldBeNull();
        original.GracePeriod.ShouldBe(TimeSpan.FromSeconds(5));
        original.WorkingDirectory.ShouldBeNull();
        changed.Arguments.ShouldBe(["a", "b"]);
        changed.Environment.ShouldBe(new Dictionary<string, string> { ["X"] = "1" });
        changed.Secrets.ShouldBe(["s"]);
        changed.Timeout.ShouldBe(TimeSpan.FromSeconds(3));
        changed.GracePeriod.ShouldBe(TimeSpan.FromSeconds(1));
        changed.WorkingDirectory.ShouldBe("/tmp");
    }

    [Fact]
    public void ToString_masks_secrets_in_arguments_and_environment_values()
    {
        // Arrange
        var spec = new ProcessSpec("curl")
            .WithArguments("-u", "admin:hunter2", "https://mirror")
            .WithEnvironment("MIRROR_TOKEN", "hunter2")
            .WithEnvironment("LANG", "C")
            .WithSecret("hunter2");

        // Act
        var text = spec.ToString();

        // Assert
        text.ShouldNotContain("hunter2");
        text.ShouldBe("LANG=C MIRROR_TOKEN='<redacted>' curl -u 'admin:<redacted>' https://mirror");
    }

    [Theory]
    [InlineData("")]
    [InlineData("A=B")]
    public void An_environment_name_that_cannot_exist_is_refused(string name)
    {
        // Arrange
        var spec = new ProcessSpec("tool");

        // Act
        var act = () => spec.WithEnvironment(name, "v");

        // Assert
        act.ShouldThrow<ArgumentException>();
    }
}
