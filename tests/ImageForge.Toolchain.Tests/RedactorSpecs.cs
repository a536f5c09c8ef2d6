using ImageForge.Toolchain.Processes;

namespace ImageForge.Toolchain.Tests;

public sealed class RedactorSpecs
{
    [Theory]
    [InlineData("token hunter2 here", "token <redacted> here")]
    [InlineData("hunter2hunter2", "<redacted><redacted>")]
    [InlineData("nothing secret", "nothing secret")]
    public void Every_occurrence_of_a_secret_is_masked(string text, string expected)
    {
        // Arrange
        var redactor = new Redactor(["hunter2"]);

        // Act
        var redacted = redactor.Redact(text);

        // Assert
        redacted.ShouldBe(expected);
    }

    [Fact]
    public void A_secret_containing_another_secret_is_masked_whole()
    {
        // Arrange
        var redactor = new Redactor(["abc", "abcdef"]);

        // Act
        var redacted = redactor.Redact("x abcdef y abc");

        // Assert
        redacted.ShouldBe("x <redacted> y <redacted>");
    }

    [Fact]
    public void A_secret_with_a_comma_is_masked_in_Packers_escaped_form()
    {
        // Arrange
        var redactor = new Redactor(["top,secret"]);

        // Act
        var redacted = redactor.Redact(
            "1795330132,,ui,message,    null.local: token is top%!(PACKER_COMMA)secret"
        );

        // Assert
        redacted.ShouldBe("1795330132,,ui,message,    null.local: token is <redacted>");
    }

    [Theory]
    [InlineData("key: line-one\\nline-two end", "key: <redacted> end")]
    [InlineData("key: line-one\\r\\nline-two end", "key: <redacted> end")]
    public void A_multi_line_secret_is_masked_across_an_escaped_newline(
        string text,
        string expected
    )
    {
        // Arrange
        var redactor = new Redactor(["line-one\nline-two", "line-one\r\nline-two"]);

        // Act
        var redacted = redactor.Redact(text);

        // Assert
        redacted.ShouldBe(expected);
    }

    [Fact]
    public void Each_line_of_a_multi_line_secret_is_masked_on_its_own()
    {
        // Arrange: tools print a multi-line value one line at a time.
        var redactor = new Redactor(["-----BEGIN KEY-----\nMIIEpAIBAAKCAQEA\n}"]);

        // Act
        var first = redactor.Redact("    null.local: -----BEGIN KEY-----");
        var second = redactor.Redact("    null.local: MIIEpAIBAAKCAQEA");
        var shortLine = redactor.Redact("}");

        // Assert
        first.ShouldBe("    null.local: <redacted>");
        second.ShouldBe("    null.local: <redacted>");
        shortLine.ShouldBe("}");
    }

    [Fact]
    public void Empty_secrets_are_ignored_and_None_masks_nothing()
    {
        // Arrange
        var redactor = new Redactor(["", ""]);

        // Act
        var redacted = redactor.Redact("text");

        // Assert
        redacted.ShouldBe("text");
        Redactor.None.Redact("hunter2").ShouldBe("hunter2");
    }

    [Fact]
    public void With_adds_secrets_without_changing_the_original()
    {
        // Arrange
        var original = new Redactor(["one"]);

        // Act
        var more = original.With(["two"]);

        // Assert
        more.Redact("one two").ShouldBe("<redacted> <redacted>");
        original.Redact("one two").ShouldBe("<redacted> two");
    }

    [Fact]
    public void A_mask_is_never_masked_again()
    {
        // Arrange: "red" occurs inside "<redacted>"; masking in one pass must not touch it.
        var redactor = new Redactor(["secret", "red"]);

        // Act
        var redacted = redactor.Redact("secret red");

        // Assert
        redacted.ShouldBe("<redacted> <redacted>");
    }
}
