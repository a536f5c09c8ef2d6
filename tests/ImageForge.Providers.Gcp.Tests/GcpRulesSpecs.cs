using ImageForge.Core.Definitions;
using ImageForge.Core.Providers;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Providers.Gcp.Tests;

/// <summary>What a GCP target refuses, each at its file and line, before anything is built or written.</summary>
public sealed class GcpRulesSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("imageforge-gcp-rules");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("project_id: My_Project", 11, "targets[0].options.project_id", "a project id")]
    [InlineData("project_id: abc", 11, "targets[0].options.project_id", "6 to 30")]
    [InlineData("bucket: Uploads", 11, "targets[0].options.bucket", "Cloud Storage bucket name")]
    [InlineData(
        "bucket: goog-images",
        11,
        "targets[0].options.bucket",
        "may not start with 'goog'"
    )]
    [InlineData("bucket: 192.168.1.10", 11, "targets[0].options.bucket", "IP address")]
    [InlineData(
        "storage_location: europe-west99",
        11,
        "targets[0].options.storage_location",
        "unknown value 'europe-west99'"
    )]
    [InlineData(
        "credentials_variable: key-file",
        11,
        "targets[0].options.credentials_variable",
        "environment variable"
    )]
    public void A_bad_option_is_a_problem_at_its_line(
        string option,
        int line,
        string field,
        string message
    )
    {
        var set = Load($"    options:\n      {option}\n");

        var problem = set.Problems.ShouldHaveSingleItem();
        problem.Line.ShouldBe(line);
        problem.Field.ShouldBe(field);
        problem.Message.ShouldContain(message);
        problem.File.ShouldEndWith("gcp-rules.yaml");
    }

    [Theory]
    [InlineData("Prod_Family", "lowercase letters")]
    [InlineData("-prod", "starting with a letter")]
    public void A_bad_channel_family_is_a_problem_at_its_line(string family, string message)
    {
        var set = Load($"    channels:\n      prod: {{ family: \"{family}\" }}\n");

        var problem = set.Problems.ShouldHaveSingleItem();
        problem.Line.ShouldBe(11);
        problem.Field.ShouldBe("targets[0].channels.prod.family");
        problem.Message.ShouldContain(message);
    }

    [Fact]
    public void A_good_target_takes_its_options_and_channel_families()
    {
        var set = Load(
            "    options:\n      project_id: imageforge-prod\n      bucket: imageforge_uploads.eu\n"
                + "      storage_location: eu\n    channels:\n      prod: { family: debian-11-hardened }\n"
        );

        set.Problems.ShouldBeEmpty();
        var target = set.FindImage("gcp-rules")!.FindTarget("gcp")!;
        target.Option("storage_location").ShouldBe("eu");
        target.ChannelOption("prod", "family").ShouldBe("debian-11-hardened");
    }

    [Theory]
    [InlineData("debian-11-cis-gcp", "2026.12.02.1", "debian-11-cis-gcp-20261202-1")]
    [InlineData("web", "2026.01.31.12", "web-20260131-12")]
    [InlineData("9lives", "2026.01.31.1", "i-9lives-20260131-1")]
    public void A_version_is_named_in_gce_without_dots(string image, string version, string name)
    {
        new GcpProvider().NameInProvider(image, version).ShouldBe(name);
    }

    [Fact]
    public void A_name_too_long_for_gce_keeps_a_digest_of_the_whole_and_stays_63_characters()
    {
        var image = new string('a', 60);

        var name = new GcpProvider().NameInProvider(image, "2026.12.02.1");
        var other = new GcpProvider().NameInProvider(new string('a', 59) + "b", "2026.12.02.1");

        name.Length.ShouldBe(63);
        name.ShouldEndWith("-20261202-1");
        name.ShouldNotBe(other);
        System
            .Text.RegularExpressions.Regex.IsMatch(name, "^[a-z]([-a-z0-9]*[a-z0-9])?$")
            .ShouldBeTrue();
    }

    [Theory]
    [InlineData("projects/imageforge-test/global/images/web-20261202-1")]
    [InlineData(
        "https://www.googleapis.com/compute/v1/projects/imageforge-test/global/images/web-20261202-1"
    )]
    [InlineData(
        "https://compute.googleapis.com/compute/v1/projects/imageforge-test/global/images/web-20261202-1"
    )]
    public async Task An_image_id_given_to_admit_is_looked_up_by_its_self_link(string id)
    {
        var query = await new GcpProvider().ResolveImageIdAsync(id, "/");

        query.Location.ShouldBe(
            "https://www.googleapis.com/compute/v1/projects/imageforge-test/global/images/web-20261202-1"
        );
        query.Sha256.ShouldBeNull();
    }

    private Loaded Load(string targetTail)
    {
        var root = ContentCopy.Create(_dir.Combine(Guid.NewGuid().ToString("N")));
        File.WriteAllText(
            Path.Combine(root, "templates", "images", "gcp-rules.yaml"),
            "name: gcp-rules\n"
                + "description: rules\n"
                + "os: { family: debian, release: \"11\" }\n"
                + "baseline: debian-11-anssi\n"
                + "targets:\n"
                + "  - provider: gcp\n"
                + "    build: native\n"
                + "    base_image: debian-11\n"
                + "    regions: [europe-west1]\n"
                + targetTail
        );
        var set = DefinitionLoader.Load(
            ContentPaths.UnderRoot(root),
            new DateOnly(2026, 12, 2),
            new ProviderRegistry([new GcpProvider()])
        );
        // Only this file's problems: the shipped definitions of other providers are not registered here.
        return new Loaded(
            [
                .. set.Problems.Where(p =>
                    p.File.EndsWith("gcp-rules.yaml", StringComparison.Ordinal)
                ),
            ],
            set
        );
    }

    private sealed record Loaded(
        IReadOnlyList<Core.Errors.InputProblem> Problems,
        DefinitionSet Set
    )
    {
        public ImageDefinition? FindImage(string name) => Set.FindImage(name);
    }
}
