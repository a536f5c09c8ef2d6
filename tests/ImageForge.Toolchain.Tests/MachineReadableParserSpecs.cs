using ImageForge.Toolchain.Packer;
using ImageForge.Toolchain.Processes;
using ImageForge.Toolchain.Tests.Support;

namespace ImageForge.Toolchain.Tests;

/// <summary>Parsing real Packer 1.6.6 output (Transcripts/) and the example of Packer's documentation.</summary>
public sealed class MachineReadableParserSpecs
{
    [Fact]
    public void A_successful_build_yields_every_artifact_with_ids_builder_ids_and_files()
    {
        // Act
        var events = TestFiles.Parse("null-artifice-success.txt");

        // Assert
        var artifacts = events.OfType<PackerArtifact>().ToList();
        artifacts.Select(a => a.Index).ShouldBe([0, 1, 2]);
        artifacts.ShouldAllBe(a => a.Target == "null.local");
        artifacts[0].BuilderId.ShouldBe("fnoeding.null");
        artifacts[0].Id.ShouldBe("Null");
        artifacts[0].Description.ShouldBe("Did not export anything. This is the null builder");
        artifacts[0].Files.ShouldBeEmpty();
        artifacts[1].BuilderId.ShouldBe("packer.post-processor.artifice");
        artifacts[1].Id.ShouldBe("");
        artifacts[1].Files.ShouldBe(["/tmp/pk/out/a.txt"]);
        artifacts[2].Files.ShouldBe(["/tmp/pk/out/a.txt"]);
        events.OfType<PackerOther>().Single(o => o.Type == "artifact-count").Data.ShouldBe(["3"]);
        events.OfType<PackerError>().ShouldBeEmpty();
    }

    [Fact]
    public void Artifact_lines_are_absorbed_until_the_artifact_ends()
    {
        // Arrange
        var parser = new MachineReadableParser();

        // Act
        var partial = parser
            .Push("1,b,artifact,0,builder-id,x")
            .Concat(parser.Push("1,b,artifact,0,id,y"))
            .ToList();
        var end = parser.Push("1,b,artifact,0,end").ToList();

        // Assert
        partial.ShouldBeEmpty();
        end.ShouldHaveSingleItem().ShouldBeOfType<PackerArtifact>().BuilderId.ShouldBe("x");
    }

    [Fact]
    public void A_failed_build_yields_its_error_and_ui_errors()
    {
        // Act
        var events = TestFiles.Parse("null-provisioner-failure.txt");

        // Assert
        var error = events.OfType<PackerError>().ShouldHaveSingleItem();
        error.Target.ShouldBe("null.local");
        error.Text.ShouldBe(
            "Script exited with non-zero exit status: 3.Allowed exit codes are: [0]"
        );
        events.OfType<PackerUi>().Where(u => u.Level == PackerUiLevel.Error).Count().ShouldBe(3);
        events.OfType<PackerOther>().Single(o => o.Type == "error-count").Data.ShouldBe(["1"]);
        events.OfType<PackerArtifact>().ShouldBeEmpty();
    }

    [Fact]
    public void Two_sources_where_one_fails_yield_the_error_of_one_and_the_artifacts_of_the_other()
    {
        // Act
        var events = TestFiles.Parse("null-two-sources-one-fails.txt");

        // Assert
        events.OfType<PackerError>().ShouldHaveSingleItem().Target.ShouldBe("null.bad");
        events.OfType<PackerArtifact>().Select(a => a.Target).ShouldBe(["null.good", "null.good"]);
        events
            .OfType<PackerUi>()
            .ShouldContain(u =>
                u.Level == PackerUiLevel.Error && u.Text == "==> null.bad: boom: disk full"
            );
    }

    [Fact]
    public void Escaped_commas_are_restored()
    {
        // Act
        var events = TestFiles.Parse("null-artifice-success.txt");

        // Assert
        events
            .OfType<PackerUi>()
            .ShouldContain(u =>
                u.Level == PackerUiLevel.Message && u.Text == "    null.local: hello, world"
            );
        events.OfType<PackerUi>().ShouldNotContain(u => u.Text.Contains("PACKER_COMMA"));
    }

    [Fact]
    public void Escaped_newlines_become_line_breaks()
    {
        // Act
        var events = TestFiles.Parse("validate-unsupported-argument.txt");

        // Assert
        var error = events.OfType<PackerUi>().ShouldHaveSingleItem();
        error.Level.ShouldBe(PackerUiLevel.Error);
        error
            .Text.Split('\n')
            .ShouldContain("An argument named \"no_such_option\" is not expected here.");
        error.Text.ShouldStartWith("Error: Unsupported argument\n\n  on v/bad.pkr.hcl line 4:");
    }

    [Fact]
    public void The_documentation_example_yields_its_amis_and_keeps_the_interleaved_log_line_as_text()
    {
        // Arrange
        var parser = new MachineReadableParser();

        // Act
        var events = File.ReadLines(TestFiles.UpstreamExample).SelectMany(parser.Push).ToList();

        // Assert
        var artifacts = events.OfType<PackerArtifact>().ToList();
        artifacts.Count.ShouldBe(2);
        artifacts[0].Target.ShouldBe("amazon-ebs");
        artifacts[0].BuilderId.ShouldBe("mitchellh.amazonebs");
        artifacts[0].Id.ShouldBe("eu-west-1:ami-04d23aca8bdd36e30");
        artifacts[0].Description.ShouldBe("AMIs were created:\neu-west-1: ami-04d23aca8bdd36e30\n");
        artifacts[1].BuilderId.ShouldBe("");
        events
            .OfType<PackerStderr>()
            .ShouldHaveSingleItem()
            .Text.ShouldBe("2018/10/19 09:50:03 waiting for all plugin processes to complete...");
        events.First().Time.ShouldBe(DateTimeOffset.FromUnixTimeSeconds(1539967803));
    }

    [Theory]
    [InlineData("")]
    [InlineData("plain text from a plugin")]
    [InlineData("2018/10/19 09:50:03 a, log, line")]
    [InlineData("1539967803")]
    [InlineData("1539967803,target")]
    [InlineData("1539967803,target,")]
    [InlineData("-5,target,ui,say,x")]
    public void A_line_that_is_not_machine_readable_becomes_text_instead_of_an_exception(
        string line
    )
    {
        // Arrange
        var parser = new MachineReadableParser();

        // Act
        var events = parser.Push(line).ToList();

        // Assert
        events.ShouldHaveSingleItem().ShouldBeOfType<PackerStderr>().Text.ShouldBe(line);
    }

    [Theory]
    [InlineData("1,,ui,shout,x", "ui")]
    [InlineData("1,,version,1.6.6", "version")]
    [InlineData("1,,version-prelease,", "version-prelease")]
    [InlineData("1,b,artifact,notanumber,end", "artifact")]
    public void Unknown_or_odd_types_become_other_events(string line, string type)
    {
        // Arrange
        var parser = new MachineReadableParser();

        // Act
        var events = parser.Push(line).ToList();

        // Assert
        events.ShouldHaveSingleItem().ShouldBeOfType<PackerOther>().Type.ShouldBe(type);
    }

    [Fact]
    public void A_sensitive_value_printed_by_real_Packer_never_reaches_an_event()
    {
        // Arrange: recorded with PKR_VAR_token=$'top,secret\nline-two'; Packer printed it in clear.
        var redactor = new Redactor(["top,secret\nline-two"]);

        // Act
        var events = TestFiles.Parse("sensitive-multiline-secret.txt", redactor);

        // Assert
        var texts = events.Select(Text).ToList();
        texts.ShouldNotContain(t =>
            t.Contains("top,secret") || t.Contains("line-two") || t.Contains("PACKER_COMMA")
        );
        texts.ShouldContain("    null.local: token is <redacted>");
    }

    [Fact]
    public void A_secret_split_by_escaping_is_masked_after_unescaping()
    {
        // Arrange: the raw line holds the secret only in a form unescaping produces.
        var parser = new MachineReadableParser(new Redactor(["a,b\nc"]));

        // Act
        var ui = parser.Push("1,,ui,say,x a%!(PACKER_COMMA)b\\nc y").OfType<PackerUi>().Single();

        // Assert
        ui.Text.ShouldBe("x <redacted> y");
    }

    private static string Text(PackerEvent e) =>
        e switch
        {
            PackerUi u => u.Text,
            PackerError x => x.Text,
            PackerStderr s => s.Text,
            PackerArtifact a => string.Join(' ', [a.Id, a.Description, .. a.Files]),
            PackerOther o => string.Join(' ', o.Data),
            _ => "",
        };
}
