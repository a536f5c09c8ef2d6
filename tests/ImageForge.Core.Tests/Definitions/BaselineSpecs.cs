using ImageForge.Core.Definitions;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Definitions;

public sealed class BaselineSpecs : IDisposable
{
    private readonly ContentFixture _content = new(withBaseline: false);

    public void Dispose() => _content.Dispose();

    private string WriteBaseline(string yaml) => _content.Baseline("debian-11-anssi.yaml", yaml);

    [Fact]
    public void A_valid_baseline_loads_with_its_waivers()
    {
        // Arrange
        var file = WriteBaseline(
            ContentFixture.ValidBaseline.Replace("waivers: []\n", "")
                + """
                waivers:
                  - rule: xccdf_org.ssgproject.content_rule_partition_for_tmp
                    reason: /tmp is a tmpfs mounted by systemd
                    owner: platform-team
                    expires: 2025-12-31
                """
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveNoProblems();
        var baseline = set.FindBaseline("debian-11-anssi").ShouldNotBeNull();
        baseline.Description.ShouldBe("Debian 11 hardened to ANSSI high");
        baseline.Os.ShouldBe(new OsSpec("debian", "11"));
        baseline.Hardening.ShouldBe("cis/debian-11");
        baseline.Scap.ShouldBe(
            new ScapSpec(
                "ssg-debian11-ds.xml",
                "xccdf_org.ssgproject.content_profile_anssi_np_nt28_high"
            )
        );
        baseline.MinScore.ShouldBe(60);
        baseline.SourceFile.ShouldBe(file);
        baseline.Waivers.ShouldBe([
            new Waiver(
                "xccdf_org.ssgproject.content_rule_partition_for_tmp",
                "/tmp is a tmpfs mounted by systemd",
                "platform-team",
                new DateOnly(2025, 12, 31)
            ),
        ]);
    }

    [Fact]
    public void A_baseline_name_must_equal_its_file_name()
    {
        // Arrange
        var file = WriteBaseline(
            ContentFixture.ValidBaseline.Replace("name: debian-11-anssi", "name: debian-11-cis")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            1,
            "name",
            "differs from its file name",
            "expected 'debian-11-anssi'"
        );
    }

    [Fact]
    public void A_hardening_directory_that_does_not_exist_is_refused()
    {
        // Arrange
        var file = WriteBaseline(
            ContentFixture.ValidBaseline.Replace("cis/debian-11", "cis/debian-12")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            6,
            "hardening",
            "hardening directory 'cis/debian-12' not found",
            "with a run.sh"
        );
    }

    [Fact]
    public void A_hardening_directory_without_run_sh_is_refused()
    {
        // Arrange
        Directory.CreateDirectory(Path.Combine(_content.Paths.Hardening, "stig", "debian-11"));
        var file = WriteBaseline(
            ContentFixture.ValidBaseline.Replace("cis/debian-11", "stig/debian-11")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 6, "hardening", "has no run.sh");
    }

    [Theory]
    [InlineData("../../etc")]
    [InlineData("cis/../../outside")]
    [InlineData("/etc/cis")]
    public void A_hardening_path_that_leaves_the_hardening_root_is_refused(string path)
    {
        // Arrange
        var file = WriteBaseline(ContentFixture.ValidBaseline.Replace("cis/debian-11", path));

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            6,
            "hardening",
            "relative path below the hardening root without '..'"
        );
    }

    [Fact]
    public void Scap_needs_a_datastream_file_name_and_a_profile_id()
    {
        // Arrange
        var file = WriteBaseline(
            ContentFixture
                .ValidBaseline.Replace("ssg-debian11-ds.xml", "content/ssg-debian11-ds.xml")
                .Replace("  profile: xccdf_org.ssgproject.content_profile_anssi_np_nt28_high\n", "")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 8, "scap.datastream", "invalid datastream", "no directories");
        set.ShouldHaveProblem(
            file,
            8,
            "scap.profile",
            "missing required field 'profile'",
            "an XCCDF profile id"
        );
    }

    [Theory]
    [InlineData("101")]
    [InlineData("-1")]
    [InlineData("sixty")]
    [InlineData("60.5")]
    public void The_minimum_score_is_a_whole_number_from_0_to_100(string score)
    {
        // Arrange
        var file = WriteBaseline(
            ContentFixture.ValidBaseline.Replace("min_score: 60", $"min_score: {score}")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            10,
            "min_score",
            "expected a whole number from 0 to 100",
            $"found '{score}'"
        );
    }

    [Fact]
    public void A_waiver_needs_rule_reason_owner_and_expiry()
    {
        // Arrange
        var file = WriteBaseline(
            ContentFixture.ValidBaseline.Replace("waivers: []\n", "")
                + """
                waivers:
                  - rule: xccdf_org.ssgproject.content_rule_partition_for_home
                    expiry: 2026-01-01
                """
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 12, "waivers[0].reason", "missing required field 'reason'");
        set.ShouldHaveProblem(file, 12, "waivers[0].owner", "missing required field 'owner'");
        set.ShouldHaveProblem(
            file,
            12,
            "waivers[0].expires",
            "missing required field 'expires'",
            "YYYY-MM-DD"
        );
        set.ShouldHaveProblem(
            file,
            13,
            "waivers[0].expiry",
            "unknown key 'expiry'",
            "did you mean 'expires'?"
        );
    }

    [Theory]
    [InlineData("2025-13-01")]
    [InlineData("01.06.2026")]
    [InlineData("2026-6-1")]
    public void A_waiver_expiry_must_be_an_iso_date(string date)
    {
        // Arrange
        var file = WriteBaseline(
            Waiver("xccdf_org.ssgproject.content_rule_partition_for_home", date)
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 15, "waivers[0].expires", "as YYYY-MM-DD", $"found '{date}'");
    }

    [Fact]
    public void An_expired_waiver_is_a_problem_and_one_expiring_today_is_not()
    {
        // Arrange
        var expired = WriteBaseline(
            Waiver("xccdf_org.ssgproject.content_rule_partition_for_home", "2025-05-31")
        );
        var today = _content.Baseline(
            "today.yaml",
            Waiver("xccdf_org.ssgproject.content_rule_partition_for_home", "2025-06-01")
                .Replace("name: debian-11-anssi", "name: today")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            expired,
            15,
            "waivers[0].expires",
            "expired on 2025-05-31",
            "renew it"
        );
        set.Problems.ShouldNotContain(p => p.File == today);
        set.FindBaseline("today")!
            .Waivers.ShouldHaveSingleItem()
            .Expires.ShouldBe(ContentFixture.Today);
    }

    [Fact]
    public void A_rule_may_be_waived_once()
    {
        // Arrange
        var file = WriteBaseline(
            Waiver("xccdf_org.ssgproject.content_rule_partition_for_home", "2026-01-01")
                + """
                  - rule: xccdf_org.ssgproject.content_rule_partition_for_home
                    reason: again
                    owner: someone
                    expires: 2026-01-01
                """
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(file, 16, "waivers[1].rule", "already waived (line 12)");
    }

    [Fact]
    public void Waivers_of_the_wrong_shape_are_reported()
    {
        // Arrange
        var file = WriteBaseline(
            ContentFixture.ValidBaseline.Replace("waivers: []", "waivers:\n  - just a rule id")
        );

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            12,
            "waivers[0]",
            "expected a waiver mapping with rule, reason, owner and expires, found a scalar"
        );
    }

    [Fact]
    public void An_unknown_baseline_key_is_reported_with_the_expected_ones()
    {
        // Arrange
        var file = WriteBaseline(ContentFixture.ValidBaseline + "release_rules: {}\n");

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(
            file,
            12,
            "release_rules",
            "unknown key 'release_rules'",
            "expected one of: name, description, os, hardening, scap, min_score, waivers"
        );
    }

    [Fact]
    public void Two_files_for_one_baseline_are_refused()
    {
        // Arrange
        var yaml = WriteBaseline(ContentFixture.ValidBaseline);
        var yml = _content.Baseline("debian-11-anssi.yml", ContentFixture.ValidBaseline);

        // Act
        var set = _content.Load();

        // Assert
        set.ShouldHaveProblem(yaml, 1, "name", "also defined in", yml);
        set.ShouldHaveProblem(yml, 1, "name", "also defined in", yaml);
        set.Baselines.ShouldBeEmpty();
    }

    private static string Waiver(string rule, string expires) =>
        ContentFixture.ValidBaseline.Replace("waivers: []\n", "")
        + $"""
            waivers:
              - rule: {rule}
                reason: accepted
                owner: security-team
                expires: {expires}

            """;
}
