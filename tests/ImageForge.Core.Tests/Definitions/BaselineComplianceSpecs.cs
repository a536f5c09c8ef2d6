using ImageForge.Core.Definitions;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Definitions;

/// <summary>The SCAP side of a baseline: profile and rule ids checked against the content, tailoring, waivers.</summary>
public sealed class BaselineComplianceSpecs : IDisposable
{
    private readonly ContentFixture _content = new(withBaseline: false);

    public void Dispose() => _content.Dispose();

    private string WriteBaseline(string yaml) => _content.Baseline("debian-11-anssi.yaml", yaml);

    private static string With(string tail) =>
        ContentFixture.ValidBaseline.Replace("waivers: []\n", "") + tail;

    [Fact]
    public void A_profile_the_installed_datastream_lacks_is_a_problem_listing_the_known_ones()
    {
        var file = WriteBaseline(ContentFixture.ValidBaseline.Replace("nt28_high", "nt28_hihg"));

        var set = _content.Load();

        set.ShouldHaveProblem(
            file,
            9,
            "scap.profile",
            "unknown profile 'xccdf_org.ssgproject.content_profile_anssi_np_nt28_hihg'",
            "xccdf_org.ssgproject.content_profile_anssi_np_nt28_high"
        );
    }

    [Fact]
    public void A_datastream_that_is_not_installed_is_checked_against_the_shipped_profile_list()
    {
        Directory.CreateDirectory(_content.Paths.ScapProfileLists!);
        File.WriteAllText(
            Path.Combine(_content.Paths.ScapProfileLists!, "ssg-rhel9-ds.xml.txt"),
            "# comment\nxccdf_org.ssgproject.content_profile_stig\n"
        );
        var good = WriteBaseline(
            ContentFixture
                .ValidBaseline.Replace("ssg-debian11-ds.xml", "ssg-rhel9-ds.xml")
                .Replace("content_profile_anssi_np_nt28_high", "content_profile_stig")
        );
        _content.Load().ShouldHaveNoProblems();

        File.WriteAllText(
            good,
            ContentFixture
                .ValidBaseline.Replace("ssg-debian11-ds.xml", "ssg-rhel9-ds.xml")
                .Replace("content_profile_anssi_np_nt28_high", "content_profile_stig_typo")
        );
        _content
            .Load()
            .ShouldHaveProblem(good, 9, "scap.profile", "unknown profile", "ssg-rhel9-ds.xml.txt");
    }

    [Fact]
    public void A_datastream_neither_installed_nor_listed_is_a_problem()
    {
        var file = WriteBaseline(
            ContentFixture.ValidBaseline.Replace("ssg-debian11-ds.xml", "ssg-sle15-ds.xml")
        );

        _content
            .Load()
            .ShouldHaveProblem(
                file,
                8,
                "scap.datastream",
                "is not installed",
                "ships no profile list"
            );
    }

    [Fact]
    public void Tailoring_turns_rules_off_with_a_justification()
    {
        WriteBaseline(
            With(
                """
                tailoring:
                  - rule: xccdf_org.ssgproject.content_rule_package_ntp_installed
                    justification: chrony keeps the time
                """
            )
        );

        var set = _content.Load();

        set.ShouldHaveNoProblems();
        set.FindBaseline("debian-11-anssi")!
            .Tailoring.ShouldBe([
                new TailoredRule(
                    "xccdf_org.ssgproject.content_rule_package_ntp_installed",
                    "chrony keeps the time"
                ),
            ]);
    }

    [Fact]
    public void A_tailored_rule_without_justification_or_unknown_to_the_datastream_is_a_problem()
    {
        var file = WriteBaseline(
            With(
                """
                tailoring:
                  - rule: xccdf_org.ssgproject.content_rule_package_ntp_installed
                  - rule: package_syslogng_installed
                    justification: rsyslog
                """
            )
        );

        var set = _content.Load();

        set.ShouldHaveProblem(
            file,
            12,
            "tailoring[0].justification",
            "missing required field 'justification'"
        );
        set.ShouldHaveProblem(
            file,
            13,
            "tailoring[1].rule",
            "unknown rule 'package_syslogng_installed'",
            "did you mean 'xccdf_org.ssgproject.content_rule_package_syslogng_installed'?"
        );
    }

    [Fact]
    public void A_waiver_without_reason_or_expiry_or_with_a_malformed_date_is_a_problem_on_its_line()
    {
        var file = WriteBaseline(
            With(
                """
                waivers:
                  - rule: xccdf_org.ssgproject.content_rule_partition_for_tmp
                    owner: platform-team
                    expires: 2030-01-01
                  - rule: xccdf_org.ssgproject.content_rule_partition_for_var
                    reason: no partitions in a root filesystem
                    owner: platform-team
                  - rule: xccdf_org.ssgproject.content_rule_partition_for_home
                    reason: no partitions in a root filesystem
                    owner: platform-team
                    expires: 30.01.2030
                """
            )
        );

        var set = _content.Load();

        set.ShouldHaveProblem(file, 12, "waivers[0].reason", "missing required field 'reason'");
        set.ShouldHaveProblem(file, 15, "waivers[1].expires", "missing required field 'expires'");
        set.ShouldHaveProblem(file, 21, "waivers[2].expires", "YYYY-MM-DD", "found '30.01.2030'");
    }

    [Fact]
    public void A_rule_both_waived_and_turned_off_is_a_problem()
    {
        var file = WriteBaseline(
            With(
                """
                waivers:
                  - rule: xccdf_org.ssgproject.content_rule_partition_for_tmp
                    reason: tmpfs
                    owner: platform-team
                    expires: 2030-01-01
                tailoring:
                  - rule: xccdf_org.ssgproject.content_rule_partition_for_tmp
                    justification: tmpfs
                """
            )
        );

        _content
            .Load()
            .ShouldHaveProblem(file, 17, "tailoring[0].rule", "both waived and turned off");
    }
}
