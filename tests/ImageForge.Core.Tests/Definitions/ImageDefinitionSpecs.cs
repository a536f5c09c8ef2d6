using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.TestSupport;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Definitions;

public sealed class ImageDefinitionSpecs : IDisposable
{
    private readonly ContentFixture _content = new();

    public void Dispose() => _content.Dispose();

    [Fact]
    public void A_minimal_definition_loads_with_every_default_filled_in()
    {
        // Arrange
        var file = _content.Definition("web.yaml", ContentFixture.MinimalDefinition);

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveNoProblems();
        var image = set.FindImage("web").ShouldNotBeNull();
        image.Description.ShouldBe("Web server");
        image.Os.ShouldBe(new OsSpec("debian", "11"));
        image.Os.DebianSuite.ShouldBe("bullseye");
        image.Baseline.ShouldBe("debian-11-anssi");
        image.Packages.Add.ShouldBeEmpty();
        image.Packages.Remove.ShouldBeEmpty();
        image.Schedule.ShouldBeNull();
        image.Channels.ShouldBe(["dev", "staging", "prod"]);
        image.SourceFile.ShouldBe(file);
        var target = image.Targets.ShouldHaveSingleItem();
        target.Provider.ShouldBe("local");
        target.BaseImage.ShouldBe("bullseye");
        target.Regions.ShouldBeEmpty();
        target.Secrets.ShouldBeEmpty();
        target.Options.ShouldBe(
            new Dictionary<string, string>
            {
                ["boot_test"] = "true",
                ["boot_test_kvm"] = "auto",
                ["boot_test_timeout"] = "300",
                ["disk_formats"] = "raw,vhd,tar-gz",
                ["disk_layout"] = "single",
                ["disk_size"] = "1G",
                ["mirror"] = "http://deb.debian.org/debian",
                ["security_mirror"] = "http://deb.debian.org/debian-security",
                ["security_updates"] = "true",
                ["variant"] = "minbase",
            },
            ignoreOrder: true
        );
        target.Options.Keys.ShouldBe(target.Options.Keys.Order(StringComparer.Ordinal));
        set.FindBaseline("debian-11-anssi").ShouldNotBeNull();
    }

    [Theory]
    [Trait(BadInput.Trait, BadInput.DefinitionName)]
    [InlineData("api.yaml")]
    [InlineData("web-server.yaml")]
    [InlineData("Web.yaml")]
    [InlineData("web.yml.yaml")]
    public void A_definition_whose_name_is_not_its_file_name_is_refused_at_the_name(string fileName)
    {
        var file = _content.Definition(fileName, ContentFixture.MinimalDefinition);

        var set = _content.Load();

        var stem = Path.GetFileNameWithoutExtension(fileName);
        set.ShouldHaveProblem(
            file,
            1,
            "name",
            $"image name 'web' must equal the file name '{stem}'",
            "rename the file to web.yaml"
        );
        set.FindImage("web").ShouldBeNull();
    }

    [Fact]
    public void A_definition_named_like_its_file_with_the_yml_extension_is_read()
    {
        _content.Definition("web.yml", ContentFixture.MinimalDefinition);

        var set = _content.Load();

        set.ShouldHaveNoProblems();
        set.FindImage("web").ShouldNotBeNull();
    }

    [Fact]
    public void A_full_definition_keeps_packages_schedule_channels_options_and_secret_references()
    {
        // Arrange
        _content.Definition(
            "full.yaml",
            """
            name: full
            description: Everything set
            os: { family: debian, release: 11 }
            baseline: debian-11-anssi
            packages:
              add: [openssh-server, rsyslog, libpam-pwquality]
              remove: [nano]
            targets:
              - provider: local
                base_image: bullseye
                options:
                  mirror: https://mirror.example.org/debian
                  security_updates: False
                  disk_size: 1536M
                  variant: standard
                secrets:
                  mirror_auth: IMAGEFORGE_MIRROR_AUTH
            schedule:
              cron: "0 2 * * *"
              time_zone: Europe/Berlin
            channels: [canary, prod]
            """
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveNoProblems();
        var image = set.FindImage("full").ShouldNotBeNull();
        image.Os.Release.ShouldBe("11");
        image.Packages.Add.ShouldBe(["openssh-server", "rsyslog", "libpam-pwquality"]);
        image.Packages.Remove.ShouldBe(["nano"]);
        var target = image.Targets.ShouldHaveSingleItem();
        target.Options["mirror"].ShouldBe("https://mirror.example.org/debian");
        target.Options["security_mirror"].ShouldBe("http://deb.debian.org/debian-security");
        target.Options["security_updates"].ShouldBe("false");
        target.Options["disk_size"].ShouldBe("1536M");
        target.Options["variant"].ShouldBe("standard");
        target.Secrets.ShouldBe(
            new Dictionary<string, string> { ["mirror_auth"] = "IMAGEFORGE_MIRROR_AUTH" },
            ignoreOrder: true
        );
        var schedule = image.Schedule.ShouldNotBeNull();
        schedule.Cron.Text.ShouldBe("0 2 * * *");
        schedule.TimeZone.ShouldBe("Europe/Berlin");
        schedule
            .GetNextOccurrence(new DateTimeOffset(2025, 1, 10, 12, 0, 0, TimeSpan.Zero))
            .ShouldBe(new DateTimeOffset(2025, 1, 11, 2, 0, 0, TimeSpan.FromHours(1)));
        image.Channels.ShouldBe(["canary", "prod"]);
    }

    [Theory]
    [InlineData("22.04", "ubuntu")]
    [InlineData("24.04", "ubuntu")]
    [InlineData("12", "debian")]
    [InlineData("9", "rhel")]
    public void A_release_written_as_a_yaml_number_is_read_as_its_text(
        string release,
        string family
    )
    {
        // Arrange
        _content.Baseline(
            "other.yaml",
            ContentFixture
                .ValidBaseline.Replace("name: debian-11-anssi", "name: other")
                .Replace("family: debian", $"family: {family}")
                .Replace("release: \"11\"", $"release: {release}")
        );
        _content.Definition(
            "cloud.yaml",
            $$"""
            name: cloud
            description: Cloud image
            os: { family: {{family}}, release: {{release}} }
            baseline: other
            targets:
              - provider: gcp
                base_image: some-family
                regions: [europe-west1]
            """
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveNoProblems();
        set.FindImage("cloud")!.Os.ShouldBe(new OsSpec(family, release));
    }

    [Fact]
    public void A_missing_field_points_at_its_parent_mapping_and_says_what_is_expected()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            """
            name: web
            os:
              family: debian
            baseline: debian-11-anssi
            targets:
              - provider: local
                base_image: bullseye
            """
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            1,
            "description",
            "missing required field 'description'",
            "expected a one-line description"
        );
        set.ShouldHaveProblem(
            file,
            3,
            "os.release",
            "missing required field 'release'",
            "expected a release such as \"11\""
        );
        set.Problems.Count.ShouldBe(2);
        set.Images.ShouldBeEmpty();
    }

    [Fact]
    public void An_empty_value_counts_as_missing_and_points_at_its_key()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Replace("description: Web server", "description:")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            2,
            "description",
            "'description' is empty",
            "expected a one-line description"
        );
    }

    [Fact]
    public void A_scalar_where_a_list_is_expected_is_reported_with_what_was_expected_and_found()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            """
            name: web
            description: Web server
            os: { family: debian, release: "11" }
            baseline: debian-11-anssi
            packages:
              add: openssh-server
            targets: local
            channels: { dev: 1 }
            """
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            6,
            "packages.add",
            "expected a list of package names, found a scalar"
        );
        set.ShouldHaveProblem(file, 7, "targets", "expected a list of targets", "found a scalar");
        set.ShouldHaveProblem(
            file,
            8,
            "channels",
            "expected a list of channel names",
            "found a mapping"
        );
        set.Problems.Count.ShouldBe(3);
    }

    [Fact]
    public void A_list_where_a_mapping_is_expected_is_reported_with_what_was_expected_and_found()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            """
            name: web
            description: [not, a, scalar]
            os: [debian, "11"]
            baseline: debian-11-anssi
            targets:
              - local
            """
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            2,
            "description",
            "expected a one-line description of the image, found a list"
        );
        set.ShouldHaveProblem(file, 3, "os", "expected a mapping with family", "found a list");
        set.ShouldHaveProblem(
            file,
            6,
            "targets[0]",
            "expected a target mapping with provider, base_image",
            "found a scalar"
        );
    }

    [Fact]
    public void A_document_that_is_not_a_mapping_is_refused()
    {
        // Arrange
        var file = _content.Definition("web.yaml", "- name: web\n");

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            1,
            "(file)",
            "expected a mapping of fields (name, description",
            "found a list"
        );
    }

    [Fact]
    public void An_unknown_provider_is_refused_with_the_list_of_known_ones()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Replace("provider: local", "provider: openstack")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            8,
            "targets[0].provider",
            "unknown provider 'openstack'",
            "expected one of: local, aws, azure, gcp"
        );
    }

    [Theory]
    [InlineData("lokal", "local")]
    [InlineData("gpc", "gcp")]
    [InlineData("AWS", "aws")]
    public void A_misspelt_provider_gets_a_suggestion(string given, string suggested)
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Replace("provider: local", $"provider: {given}")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            8,
            "targets[0].provider",
            $"unknown provider '{given}'",
            $"did you mean '{suggested}'?"
        );
    }

    [Fact]
    public void A_provider_given_twice_is_refused()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + "  - provider: local\n    base_image: bullseye\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            10,
            "targets[1].provider",
            "provider 'local' already has a target (line 8)"
        );
    }

    [Fact]
    public void An_empty_target_list_is_refused()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Split("targets:")[0] + "targets: []\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            7,
            "targets",
            "is empty",
            "expected a non-empty list of targets"
        );
    }

    [Fact]
    public void A_target_without_provider_or_base_image_reports_both_on_the_target_line()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Split("targets:")[0]
                + "targets:\n  - regions: [eu-west-1]\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            8,
            "targets[0].provider",
            "missing required field 'provider'",
            "expected one of: local, aws, azure, gcp"
        );
        set.ShouldHaveProblem(
            file,
            8,
            "targets[0].base_image",
            "missing required field 'base_image'"
        );
    }

    [Theory]
    [InlineData("61 2 * * *", "minute: 61 is out of range 0-59")]
    [InlineData("0 2 * *", "expected 5 fields")]
    [InlineData("0 2 * * funday", "day-of-week: 'funday' is not a number from 0 to 7")]
    public void A_bad_cron_expression_is_reported_with_the_field_and_range(
        string cron,
        string expected
    )
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition
                + $"schedule:\n  cron: \"{cron}\"\n  time_zone: Europe/Berlin\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 11, "schedule.cron", "invalid cron expression", expected);
    }

    [Fact]
    public void A_cron_expression_that_never_fires_is_refused()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + "schedule:\n  cron: 0 0 30 2 *\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 11, "schedule.cron", "never fires", "30 February");
    }

    [Fact]
    public void A_schedule_without_time_zone_runs_in_utc()
    {
        // Arrange
        _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + "schedule: { cron: \"@daily\" }\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveNoProblems();
        set.FindImage("web")!.Schedule.ShouldNotBeNull().TimeZone.ShouldBe("UTC");
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("../../etc/passwd")]
    [InlineData("W. Europe Standard Time")]
    public void An_unknown_time_zone_is_refused_with_an_example_of_a_valid_one(string zone)
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition
                + $"schedule:\n  cron: \"0 2 * * *\"\n  time_zone: \"{zone}\"\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            12,
            "schedule.time_zone",
            $"unknown time zone '{zone}'",
            "IANA time zone id such as Europe/Berlin"
        );
    }

    [Fact]
    public void An_unknown_baseline_is_refused_with_the_list_of_known_ones()
    {
        // Arrange
        _content.Baseline(
            "debian-12-cis.yaml",
            ContentFixture
                .ValidBaseline.Replace("name: debian-11-anssi", "name: debian-12-cis")
                .Replace("\"11\"", "\"12\"")
        );
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Replace(
                "baseline: debian-11-anssi",
                "baseline: debian-11-stig"
            )
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            6,
            "baseline",
            "unknown baseline 'debian-11-stig'",
            "known baselines: debian-11-anssi, debian-12-cis"
        );
    }

    [Theory]
    [InlineData("../../etc/cron.d/evil")]
    [InlineData("..")]
    [InlineData("images/web")]
    [InlineData("web\\\\..\\\\x")]
    public void A_name_that_could_escape_its_directory_is_refused_as_such(string name)
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Replace("name: web", $"name: \"{name}\"")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            1,
            "name",
            "must not contain '/', '\\' or '..'",
            "may not point to another directory",
            "e.g. debian-11-cis"
        );
        set.Images.ShouldBeEmpty();
    }

    [Fact]
    public void A_baseline_reference_that_could_escape_the_baselines_directory_is_refused_before_any_lookup()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Replace(
                "baseline: debian-11-anssi",
                "baseline: ../templates/images/web"
            )
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 6, "baseline", "must not contain '/', '\\' or '..'");
        set.Problems.Count.ShouldBe(1);
    }

    [Theory]
    [InlineData("Web")]
    [InlineData("web server")]
    [InlineData("-web")]
    [InlineData("w")]
    [InlineData("web_server")]
    public void A_name_outside_the_allowed_pattern_is_refused(string name)
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Replace("name: web", $"name: \"{name}\"")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            1,
            "name",
            $"invalid image name '{name}'",
            "lowercase letters, digits and '-'"
        );
    }

    [Fact]
    public void Image_names_must_be_unique_across_files()
    {
        // Arrange: a name is its file's name, so only the two extensions can collide.
        var first = _content.Definition("web.yaml", ContentFixture.MinimalDefinition);
        var second = _content.Definition("web.yml", ContentFixture.MinimalDefinition);

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            first,
            1,
            "name",
            "image name 'web' is also used in",
            $"{second}:1",
            "must be unique"
        );
        set.ShouldHaveProblem(second, 1, "name", $"{first}:1");
        set.Images.ShouldBeEmpty();
    }

    [Fact]
    public void An_unknown_key_is_reported_with_the_expected_keys_and_a_suggestion()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Replace("description:", "descripton:")
                + "    region: eu-west-1\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            2,
            "descripton",
            "unknown key 'descripton'",
            "expected one of: name, description, os, baseline, packages, targets, schedule, channels",
            "did you mean 'description'?"
        );
        set.ShouldHaveProblem(
            file,
            10,
            "targets[0].region",
            "unknown key 'region'",
            "expected one of: provider, base_image, regions, options, secrets"
        );
    }

    [Fact]
    public void An_unknown_option_is_reported_with_the_options_of_that_provider()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + "    options:\n      instance_type: t3.small\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            11,
            "targets[0].options.instance_type",
            "unknown key 'instance_type'",
            "expected one of: mirror, security_mirror, security_updates, disk_size, variant, disk_layout, disk_formats, boot_test, boot_test_timeout, boot_test_kvm"
        );
    }

    [Fact]
    public void A_duplicate_key_is_reported_with_the_line_of_the_first()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + "name: other\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            10,
            "name",
            "duplicate key 'name' (first given on line 1)",
            "keep only one"
        );
    }

    [Fact]
    public void A_duplicate_key_in_a_nested_mapping_names_its_full_path()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + "    base_image: bookworm\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            10,
            "targets[0].base_image",
            "duplicate key 'base_image' (first given on line 9)"
        );
    }

    [Fact]
    public void A_yaml_syntax_error_is_reported_at_its_line()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            """
            name: web
            description: Web server
            os:
              family: debian
             release: "11"
            """
        );

        // Act
        var set = _content.Load();

        // Assert
        var problem = set.Problems.ShouldHaveSingleItem();
        problem.File.ShouldBe(file);
        problem.Line.ShouldBe(5);
        problem.Field.ShouldBe("(file)");
        problem.Message.ShouldContain("YAML syntax error");
        problem.Message.ShouldContain("Check indentation");
    }

    [Fact]
    public void An_unclosed_bracket_is_reported_as_a_syntax_error()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            "name: web\nchannels: [dev, staging\nbaseline: x\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        var problem = set.Problems.ShouldHaveSingleItem();
        problem.File.ShouldBe(file);
        problem.Field.ShouldBe("(file)");
        problem.Line.ShouldBeInRange(2, 3);
        problem.Message.ShouldContain("YAML syntax error");
    }

    [Fact]
    public void An_empty_file_is_reported()
    {
        // Arrange
        var file = _content.Definition("web.yaml", "# nothing yet\n");

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 1, "(file)", "the file is empty", "expected a mapping");
    }

    [Fact]
    public void A_second_document_in_one_file_is_refused()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + "---\nname: other\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 10, "(file)", "expected one YAML document per file");
    }

    [Fact]
    public void Anchors_and_aliases_are_resolved_and_an_unknown_alias_is_reported()
    {
        // Arrange
        var good = _content.Definition(
            "good.yaml",
            ContentFixture
                .MinimalDefinition.Replace("name: web", "name: &n good")
                .Replace("description: Web server", "description: *n")
        );
        var bad = _content.Definition(
            "bad.yaml",
            ContentFixture.MinimalDefinition.Replace("name: web", "name: *missing")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.FindImage("good")!.Description.ShouldBe("good");
        set.Problems.ShouldNotContain(p => p.File == good);
        set.Problems.ShouldContain(p =>
            p.File == bad && p.Line == 1 && p.Message.Contains("unknown alias '*missing'")
        );
    }

    [Fact]
    public void Every_problem_of_a_file_is_reported_at_once()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            """
            name: Web
            os: { family: solaris, release: "11" }
            baseline: debian-11-anssi
            colour: blue
            targets:
              - provider: local
                base_image: buster
                regions: [eu-west-1]
            schedule: { cron: "0 25 * * *", time_zone: Nowhere/City }
            channels: [dev, Prod, dev]
            """
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 1, "name", "invalid image name 'Web'");
        set.ShouldHaveProblem(file, 1, "description", "missing required field 'description'");
        set.ShouldHaveProblem(
            file,
            2,
            "os.family",
            "unknown os family 'solaris'",
            "expected one of: debian, ubuntu, rhel"
        );
        set.ShouldHaveProblem(file, 4, "colour", "unknown key 'colour'");
        set.ShouldHaveProblem(
            file,
            7,
            "targets[0].base_image",
            "unknown Debian suite 'buster'",
            "expected one of: bullseye, bookworm"
        );
        set.ShouldHaveProblem(file, 8, "targets[0].regions", "takes no regions");
        set.ShouldHaveProblem(file, 9, "schedule.cron", "hour: 25 is out of range 0-23");
        set.ShouldHaveProblem(file, 9, "schedule.time_zone", "unknown time zone 'Nowhere/City'");
        set.ShouldHaveProblem(file, 10, "channels[1]", "invalid channel name 'Prod'");
        set.ShouldHaveProblem(file, 10, "channels[2]", "channel 'dev' is listed twice");
        set.Problems.Count.ShouldBe(10);
        set.Problems.Select(p => p.Line).ShouldBeInOrder();
    }

    [Fact]
    public void Throwing_if_invalid_carries_every_problem_and_exit_code_2()
    {
        // Arrange
        _content.Definition(
            "a.yaml",
            ContentFixture.MinimalDefinition.Replace("name: web", "name: A")
        );
        _content.Definition(
            "bb.yaml",
            ContentFixture
                .MinimalDefinition.Replace("name: web", "name: bb")
                .Replace("provider: local", "provider: x")
        );
        var set = _content.Load();

        // Act
        var thrown = Should.Throw<InvalidInputException>(set.ThrowIfInvalid);

        // Assert
        thrown.ExitCode.ShouldBe(2, thrown.Message);
        thrown.Problems.Count.ShouldBe(2, thrown.Message);
        thrown.Message.ShouldContain("a.yaml:1: name: invalid image name 'A'");
        thrown.Message.ShouldContain("bb.yaml:8: targets[0].provider: unknown provider 'x'");
    }

    [Fact]
    public void A_valid_set_does_not_throw()
    {
        // Arrange
        _content.Definition("web.yaml", ContentFixture.MinimalDefinition);
        var set = _content.Load();

        // Act + Assert
        Should.NotThrow(set.ThrowIfInvalid);
        set.IsValid.ShouldBeTrue();
    }

    [Fact]
    public void A_broken_definition_does_not_hide_the_valid_ones()
    {
        // Arrange
        _content.Definition("web.yaml", ContentFixture.MinimalDefinition);
        _content.Definition("broken.yaml", "name: broken\n");

        // Act
        var set = _content.Load();

        // Assert
        set.Images.Select(i => i.Name).ShouldBe(["web"]);
        set.Problems.ShouldAllBe(p => p.File.EndsWith("broken.yaml", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(
        "ubuntu",
        "\"11\"",
        "unsupported ubuntu release '11'",
        "expected one of: 22.04, 24.04"
    )]
    [InlineData("rhel", "\"7\"", "unsupported rhel release '7'", "expected one of: 8, 9")]
    [InlineData("debian", "10", "unsupported debian release '10'", "expected one of: 11, 12")]
    public void A_release_outside_its_family_is_refused_with_the_releases_of_that_family(
        string family,
        string release,
        string expected,
        string known
    )
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture
                .MinimalDefinition.Replace("family: debian", $"family: {family}")
                .Replace("release: \"11\"", $"release: {release}")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 5, "os.release", expected, known);
    }

    [Fact]
    public void An_os_that_differs_from_the_baselines_is_refused()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture
                .MinimalDefinition.Replace("\"11\"", "\"12\"")
                .Replace("bullseye", "bookworm")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            4,
            "os",
            "os is debian 12 but baseline 'debian-11-anssi' is for debian 11"
        );
        set.Problems.Count.ShouldBe(1);
    }

    [Fact]
    public void A_definition_using_an_invalid_baseline_is_refused_and_points_to_the_baseline_file()
    {
        // Arrange
        var baseline = _content.Baseline(
            "debian-11-anssi.yaml",
            ContentFixture.ValidBaseline.Replace("min_score: 60", "min_score: 101")
        );
        var file = _content.Definition("web.yaml", ContentFixture.MinimalDefinition);

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(baseline, 10, "min_score", "expected a whole number from 0 to 100");
        set.ShouldHaveProblem(
            file,
            6,
            "baseline",
            "baseline 'debian-11-anssi' is invalid",
            baseline
        );
        set.Images.ShouldBeEmpty();
        set.Baselines.ShouldBeEmpty();
    }

    [Fact]
    public void Package_names_are_checked_and_may_not_be_both_added_and_removed()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition
                + """
                packages:
                  add: [openssh-server, Bad_Name, "curl=7.74", sudo, sudo]
                  remove: [sudo, [nested]]
                """
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            11,
            "packages.add[1]",
            "invalid package name 'Bad_Name'",
            "a Debian package name"
        );
        set.ShouldHaveProblem(
            file,
            11,
            "packages.add[2]",
            "invalid package name 'curl=7.74'",
            "no version"
        );
        set.ShouldHaveProblem(file, 11, "packages.add[4]", "package 'sudo' is listed twice");
        set.ShouldHaveProblem(
            file,
            12,
            "packages.remove[0]",
            "package 'sudo' is both added (line 11) and removed"
        );
        set.ShouldHaveProblem(
            file,
            12,
            "packages.remove[1]",
            "expected a Debian package name",
            "found a list"
        );
    }

    [Fact]
    public void Rpm_package_names_follow_rpm_rules_on_rhel()
    {
        // Arrange
        _content.Baseline(
            "rhel-9-cis.yaml",
            ContentFixture
                .ValidBaseline.Replace("name: debian-11-anssi", "name: rhel-9-cis")
                .Replace("family: debian", "family: rhel")
                .Replace("\"11\"", "\"9\"")
        );
        _content.Definition(
            "rhel.yaml",
            """
            name: rhel
            description: RHEL
            os: { family: rhel, release: "9" }
            baseline: rhel-9-cis
            packages: { add: [NetworkManager, python3.11, perl-Time-HiRes] }
            targets:
              - provider: aws
                base_image: ami-0123456789abcdef0
                regions: [eu-west-1]
            """
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveNoProblems();
        var target = set.FindImage("rhel")!.FindTarget("aws").ShouldNotBeNull();
        target.Options["ssh_username"].ShouldBe("ec2-user");
    }

    [Theory]
    [InlineData("aws", "ami-0123456789abcdef0", "eu-west-1")]
    [InlineData("azure", "Debian:debian-11:11-gen2:latest", "westeurope")]
    [InlineData("gcp", "debian-11", "europe-west1")]
    public void A_cloud_target_needs_regions(string provider, string baseImage, string region)
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture
                .MinimalDefinition.Replace("provider: local", $"provider: {provider}")
                .Replace("bullseye", baseImage)
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            8,
            "targets[0].regions",
            "missing required field 'regions'",
            $"e.g. [{region}]"
        );
    }

    [Theory]
    [InlineData(
        "aws",
        "ami-0123456789abcdef0",
        "westeurope",
        "not a region name for aws",
        "like eu-west-1"
    )]
    [InlineData(
        "azure",
        "Debian:debian-11:11-gen2:latest",
        "eu-west-1",
        "not a region name for azure",
        "like westeurope"
    )]
    [InlineData(
        "gcp",
        "debian-11",
        "europe-west1-b",
        "not a region name for gcp",
        "like europe-west1"
    )]
    public void Regions_must_have_the_shape_of_the_providers_regions(
        string provider,
        string baseImage,
        string region,
        string expected,
        string example
    )
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture
                .MinimalDefinition.Replace("provider: local", $"provider: {provider}")
                .Replace("bullseye", baseImage) + $"    regions: [{region}]\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 10, "targets[0].regions[0]", expected, example);
    }

    [Fact]
    public void A_region_listed_twice_and_an_empty_region_list_are_refused()
    {
        // Arrange
        var twice = _content.Definition(
            "twice.yaml",
            ContentFixture
                .MinimalDefinition.Replace("name: web", "name: twice")
                .Replace("provider: local", "provider: gcp")
                .Replace("bullseye", "debian-11") + "    regions: [europe-west1, europe-west1]\n"
        );
        var empty = _content.Definition(
            "empty.yaml",
            ContentFixture
                .MinimalDefinition.Replace("name: web", "name: empty")
                .Replace("provider: local", "provider: gcp")
                .Replace("bullseye", "debian-11") + "    regions: []\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            twice,
            10,
            "targets[0].regions[1]",
            "region 'europe-west1' is listed twice"
        );
        set.ShouldHaveProblem(
            empty,
            10,
            "targets[0].regions",
            "is empty",
            "non-empty list of regions"
        );
    }

    [Theory]
    [InlineData("bookworm", "'bookworm' is Debian 12 but os.release is '11'", "use 'bullseye'")]
    [InlineData("jammy", "unknown Debian suite 'jammy'", "expected one of: bullseye, bookworm")]
    public void The_local_base_image_is_a_debian_suite_matching_the_release(
        string suite,
        string expected,
        string hint
    )
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Replace("bullseye", suite)
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 9, "targets[0].base_image", expected, hint);
    }

    [Fact]
    public void The_local_target_builds_debian_only()
    {
        // Arrange
        _content.Baseline(
            "ubuntu.yaml",
            ContentFixture
                .ValidBaseline.Replace("name: debian-11-anssi", "name: ubuntu")
                .Replace("family: debian", "family: ubuntu")
                .Replace("\"11\"", "\"22.04\"")
        );
        var file = _content.Definition(
            "web.yaml",
            ContentFixture
                .MinimalDefinition.Replace("family: debian", "family: ubuntu")
                .Replace("\"11\"", "\"22.04\"")
                .Replace("debian-11-anssi", "ubuntu")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            9,
            "targets[0].base_image",
            "the local target builds Debian images only"
        );
    }

    [Theory]
    [InlineData("ami-12345", "is not a valid AMI id")]
    [InlineData("ami-0123456789ABCDEF0", "is not a valid AMI id")]
    [InlineData("x", "expected an AMI id or an AMI name filter")]
    [InlineData("debian;rm -rf", "expected an AMI id or an AMI name filter")]
    public void An_aws_base_image_is_an_ami_id_or_a_name_filter(string baseImage, string expected)
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture
                .MinimalDefinition.Replace("provider: local", "provider: aws")
                .Replace("bullseye", $"\"{baseImage}\"")
                + "    regions: [eu-west-1]\n    options: { source_ami_owner: \"136693071363\" }\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 9, "targets[0].base_image", expected);
    }

    [Fact]
    public void An_aws_name_filter_needs_the_owner_of_the_image()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture
                .MinimalDefinition.Replace("provider: local", "provider: aws")
                .Replace("bullseye", "debian-11-amd64-*") + "    regions: [eu-west-1]\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            9,
            "targets[0].base_image",
            "needs options.source_ami_owner",
            "136693071363"
        );
    }

    [Theory]
    [InlineData("Debian:debian-11:11-gen2")]
    [InlineData("Debian:debian-11:11-gen2:newest")]
    [InlineData("Debian::11-gen2:latest")]
    public void An_azure_base_image_is_a_marketplace_urn(string baseImage)
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture
                .MinimalDefinition.Replace("provider: local", "provider: azure")
                .Replace("bullseye", $"\"{baseImage}\"") + "    regions: [westeurope]\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            9,
            "targets[0].base_image",
            "publisher:offer:sku:version",
            "Debian:debian-11:11-gen2:latest"
        );
    }

    [Fact]
    public void A_gcp_base_image_is_an_image_family_or_name()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture
                .MinimalDefinition.Replace("provider: local", "provider: gcp")
                .Replace("bullseye", "Debian_11") + "    regions: [europe-west1]\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            9,
            "targets[0].base_image",
            "expected an image family or image name",
            "e.g. debian-11"
        );
    }

    [Theory]
    [InlineData(
        "disk_size: 12X",
        "targets[0].options.disk_size",
        "a size in M or G, e.g. 1G or 1536M"
    )]
    [InlineData("disk_size: 100M", "targets[0].options.disk_size", "from 256M to 2048G")]
    [InlineData(
        "security_updates: sometimes",
        "targets[0].options.security_updates",
        "expected true or false, found 'sometimes'"
    )]
    [InlineData(
        "variant: buildd",
        "targets[0].options.variant",
        "unknown value 'buildd'; expected one of: minbase, standard"
    )]
    [InlineData(
        "mirror: ftp://mirror.example.org/debian",
        "targets[0].options.mirror",
        "expected an http:// or https:// URL"
    )]
    [InlineData(
        "mirror: [a, b]",
        "targets[0].options.mirror",
        "expected a single value, found a list"
    )]
    [InlineData(
        "disk_layout: lvm",
        "targets[0].options.disk_layout",
        "unknown value 'lvm'; expected one of: single, cis"
    )]
    [InlineData("disk_formats: raw,qcow2", "targets[0].options.disk_formats", "unknown: 'qcow2'")]
    [InlineData(
        "disk_formats: vhd,tar-gz",
        "targets[0].options.disk_formats",
        "expected raw among the formats"
    )]
    [InlineData(
        "boot_test: maybe",
        "targets[0].options.boot_test",
        "expected true or false, found 'maybe'"
    )]
    [InlineData(
        "boot_test_timeout: 10",
        "targets[0].options.boot_test_timeout",
        "from 30 to 3600, found '10'"
    )]
    [InlineData(
        "boot_test_kvm: always",
        "targets[0].options.boot_test_kvm",
        "unknown value 'always'; expected one of: auto, required"
    )]
    public void Local_option_values_are_checked(string option, string field, string expected)
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + $"    options:\n      {option}\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 11, field, expected);
    }

    [Theory]
    [InlineData("disk_layout: cis\n      disk_size: 1536M", 12, "needs at least 2G")]
    [InlineData("disk_size: 512M\n      disk_layout: single", 11, "needs at least 1G")]
    // disk_size left at its default (1G): the problem is reported where the options begin.
    [InlineData("disk_layout: cis", 11, "disk_size 1G is too small for disk_layout cis")]
    public void A_disk_too_small_for_its_layout_is_refused_on_the_line_of_disk_size(
        string options,
        int line,
        string expected
    )
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + $"    options:\n      {options}\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, line, "targets[0].options.disk_size", expected);
    }

    [Fact]
    public void Requiring_kvm_without_a_boot_test_is_refused_naming_the_fix()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition
                + "    options:\n      boot_test: false\n      boot_test_kvm: required\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            12,
            "targets[0].options.boot_test_kvm",
            "boot_test is false",
            "set boot_test: true"
        );
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("boot_test_kvm: auto", false)]
    [InlineData("boot_test_kvm: required", true)]
    public void A_local_target_requires_kvm_only_when_its_definition_says_required(
        string option,
        bool requires
    )
    {
        // Arrange
        _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition
                + $"    options:\n      variant: minbase\n      {option}\n"
        );

        // Act
        var target = _content.Load().FindImage("web")!.Targets.ShouldHaveSingleItem();

        // Assert
        TestProviders.Shipped.Get(target.Provider).RequiresKvm(target).ShouldBe(requires);
    }

    [Fact]
    public void Disk_formats_are_kept_once_each_in_a_fixed_order()
    {
        // Arrange
        _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition
                + "    options:\n      disk_formats: tar-gz, raw,tar-gz\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveNoProblems();
        set.FindImage("web")!.Targets[0].Options["disk_formats"].ShouldBe("raw,tar-gz");
    }

    [Fact]
    public void A_mirror_url_with_credentials_is_refused_without_repeating_them()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition
                + "    options:\n      mirror: https://me:hunter2@mirror.example.org/debian\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        var problem = set.ShouldHaveProblem(
            file,
            11,
            "targets[0].options.mirror",
            "without credentials",
            "secrets.mirror_auth"
        );
        problem.Message.ShouldNotContain("hunter2");
    }

    [Fact]
    public void Cloud_options_are_checked_and_defaults_follow_the_os()
    {
        // Arrange
        _content.Definition(
            "aws.yaml",
            """
            name: aws
            description: AWS
            os: { family: debian, release: "11" }
            baseline: debian-11-anssi
            targets:
              - provider: aws
                base_image: ami-0123456789abcdef0
                regions: [eu-west-1, us-east-1]
                options:
                  ami_users: "123456789012, 210987654321"
                  encrypt: TRUE
                  region_kms_key_ids: eu-west-1=alias/images,us-east-1=alias/images
            """
        );
        _content.Definition(
            "gcp.yaml",
            """
            name: gcp
            description: GCP
            os: { family: debian, release: "11" }
            baseline: debian-11-anssi
            targets:
              - provider: gcp
                base_image: debian-11
                regions: [europe-west1]
                options: { project_id: my-project-123, zone: europe-west1-b }
            """
        );
        var azure = _content.Definition(
            "azure.yaml",
            """
            name: azure
            description: Azure
            os: { family: debian, release: "11" }
            baseline: debian-11-anssi
            targets:
              - provider: azure
                base_image: Debian:debian-11:11-gen2:latest
                regions: [westeurope]
                options:
                  subscription_id: not-a-guid
                  vm_size: B2s
                  resource_group: images
            """
        );

        // Act
        var set = _content.Load();

        // Assert
        var aws = set.FindImage("aws")!.Targets.ShouldHaveSingleItem();
        aws.Regions.ShouldBe(["eu-west-1", "us-east-1"]);
        aws.Options["ami_users"].ShouldBe("123456789012,210987654321");
        aws.Options["encrypt"].ShouldBe("true");
        aws.Options["ssh_username"].ShouldBe("admin");
        aws.Options["instance_type"].ShouldBe("t3.small");
        aws.Options.ContainsKey("subnet_id").ShouldBeFalse();
        var gcp = set.FindImage("gcp")!.Targets.ShouldHaveSingleItem();
        gcp.Options["source_image_project_id"].ShouldBe("debian-cloud");
        gcp.Options["base_image_kind"].ShouldBe("family");
        gcp.Options["machine_type"].ShouldBe("e2-medium");
        gcp.Options["zone"].ShouldBe("europe-west1-b");
        set.ShouldHaveProblem(azure, 10, "targets[0].options.subscription_id", "expected a GUID");
        set.ShouldHaveProblem(
            azure,
            11,
            "targets[0].options.vm_size",
            "a VM size such as Standard_B2s",
            "found 'B2s'"
        );
        set.Problems.Count.ShouldBe(2);
    }

    [Fact]
    public void An_ami_users_list_with_a_bad_account_is_refused()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture
                .MinimalDefinition.Replace("provider: local", "provider: aws")
                .Replace("bullseye", "ami-0123456789abcdef0")
                + "    regions: [eu-west-1]\n    options: { ami_users: \"123456789012,all\" }\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            11,
            "targets[0].options.ami_users",
            "12-digit AWS account ids",
            "'all'"
        );
    }

    [Fact]
    public void A_secret_names_an_environment_variable_and_never_carries_the_value()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + "    secrets:\n      mirror_auth: \"me:hunter2\"\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        var problem = set.ShouldHaveProblem(
            file,
            11,
            "targets[0].secrets.mirror_auth",
            "the NAME of an environment variable",
            "secret values never go into a definition"
        );
        problem.Message.ShouldNotContain("hunter2");
    }

    [Fact]
    public void An_unknown_secret_is_refused_with_the_providers_secret_variables()
    {
        // Arrange
        var local = _content.Definition(
            "local.yaml",
            ContentFixture.MinimalDefinition.Replace("name: web", "name: local")
                + "    secrets:\n      mirror_password: MIRROR_PASSWORD\n"
        );
        var aws = _content.Definition(
            "aws.yaml",
            ContentFixture
                .MinimalDefinition.Replace("name: web", "name: aws")
                .Replace("provider: local", "provider: aws")
                .Replace("bullseye", "ami-0123456789abcdef0")
                + "    regions: [eu-west-1]\n    secrets: { aws_secret_key: AWS_SECRET_ACCESS_KEY }\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            local,
            11,
            "targets[0].secrets.mirror_password",
            "unknown secret 'mirror_password'",
            "expected one of: mirror_auth"
        );
        set.ShouldHaveProblem(
            aws,
            11,
            "targets[0].secrets.aws_secret_key",
            "the aws target takes no secrets",
            "standard AWS environment"
        );
    }

    [Fact]
    public void Channels_must_not_be_empty()
    {
        // Arrange
        var file = _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition + "channels: []\n"
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 10, "channels", "expected at least one channel");
    }

    [Fact]
    public void A_relative_definitions_directory_gives_relative_file_names()
    {
        // Arrange
        _content.Definition(
            "web.yaml",
            ContentFixture.MinimalDefinition.Replace("name: web", "name: WEB")
        );
        var relative = Path.GetRelativePath(
            Environment.CurrentDirectory,
            _content.Paths.Definitions
        );
        var paths = _content.Paths.WithDefinitions(relative);

        // Act
        var set = DefinitionLoader.Load(paths, ContentFixture.Today, TestProviders.Shipped);

        // Assert
        var problem = set.Problems.ShouldHaveSingleItem();
        problem.File.ShouldBe(Path.Combine(relative, "web.yaml"));
        Path.IsPathRooted(problem.File).ShouldBeFalse();
    }

    [Fact]
    public void Missing_content_directories_are_reported()
    {
        // Arrange
        var paths = _content.Paths.WithDefinitions(Path.Combine(_content.Root, "nope"));

        // Act
        var set = DefinitionLoader.Load(paths, ContentFixture.Today, TestProviders.Shipped);

        // Assert
        set.ShouldHaveProblem(paths.Definitions, 0, "(file)", "directory not found");
    }
}
