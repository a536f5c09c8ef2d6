using System.Text.Json;
using ImageForge.Storage;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Cli.Tests;

/// <summary>IMAGEFORGE_DATABASE puts every command's catalog in PostgreSQL (docs/cluster.md).</summary>
public sealed class PostgresCatalogCliSpecs
{
    [Fact(Timeout = 90_000)]
    public async Task With_IMAGEFORGE_DATABASE_a_build_and_the_commands_reading_it_use_the_PostgreSQL_catalog()
    {
        // Arrange
        var server = ThrowawayPostgres.Shared;
        using var build = new FakePackerBuild(BuildCommandSpecs.FailureTranscript, exitCode: 1);
        build.Environment[CliContext.DatabaseVariable] = server.ConnectionString(
            server.CreateDatabase()
        );

        // Act
        var result = await build.RunAsync(CancellationToken.None, "build", "debian-11-cis");
        var show = await build.ShowBuildAsync();

        // Assert: recorded in PostgreSQL, no SQLite file beside the artifacts, and never the password.
        result.ExitCode.ShouldBe(3, result.ToString());
        show.ExitCode.ShouldBe(0, show.ToString());
        using var json = JsonDocument.Parse(show.Out);
        json.RootElement.GetProperty("status").GetString().ShouldBe("failed");
        File.Exists(Path.Combine(build.DataDir, Catalog.FileName)).ShouldBeFalse();
        foreach (var text in new[] { result.Out, result.Error, show.Out, show.Error })
        {
            text.ShouldNotContain(server.Password);
        }
    }

    [Theory]
    [InlineData("Hots=db;Password=hunter2-secret", "not a PostgreSQL connection string")]
    [InlineData("Username=imageforge;Password=hunter2-secret", "names no Host")]
    public async Task A_bad_IMAGEFORGE_DATABASE_is_bad_input_that_names_the_variable_never_its_password_and_writes_nothing(
        string value,
        string problem
    )
    {
        using var build = new FakePackerBuild(BuildCommandSpecs.FailureTranscript, exitCode: 1);
        build.Environment[CliContext.DatabaseVariable] = value;

        var result = await build.RunAsync(CancellationToken.None, "images", "list");

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain("IMAGEFORGE_DATABASE");
        result.Error.ShouldContain(problem);
        result.Error.ShouldNotContain("hunter2");
        Directory.Exists(build.DataDir).ShouldBeFalse();
    }
}
