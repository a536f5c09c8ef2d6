using ImageForge.Core.Definitions;
using ImageForge.Core.Inventory;
using ImageForge.Core.Tests.Support;
using ImageForge.Core.Vulnerabilities;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Vulnerabilities;

public sealed class OsvMatchingSpecs : IDisposable
{
    private static readonly OsSpec Debian11 = new("debian", "11");
    private readonly TempDirectory _dir = new("imageforge-osv");

    public void Dispose() => _dir.Dispose();

    private void Record(string file, string json) => File.WriteAllText(_dir.Combine(file), json);

    private static string Ranged(
        string id,
        string ecosystem,
        string name,
        string events,
        string extra = ""
    ) =>
        $$"""
            {"id":"{{id}}","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2024-{{id.Length}}000"],
             "affected":[{"package":{"ecosystem":"{{ecosystem}}","name":"{{name}}"},
                          "ranges":[{"type":"ECOSYSTEM","events":[{{events}}]}]{{extra}}}]}
            """;

    private static InstalledPackage Deb(string name, string version, string? source = null) =>
        new(name, version, "amd64", source ?? name, version, "", null, null);

    private IReadOnlyList<Finding> Scan(params InstalledPackage[] packages) =>
        VulnerabilityScanner.MatchOsv(
            new PackageInventory(packages),
            Debian11,
            _dir.Path,
            out _,
            out _
        );

    [Theory]
    [InlineData("1.0-1", true, "1.0-3")]
    [InlineData("1.0-3", false, null)]
    [InlineData("1.0-2+deb11u1", true, "1.0-3")]
    [InlineData("0.9-1", false, null)]
    [InlineData("1:0.1-1", false, null)]
    public void An_introduced_fixed_range_matches_exactly_the_versions_between(
        string installed,
        bool affected,
        string? fixedVersion
    )
    {
        // Arrange
        Record(
            "A.json",
            Ranged("A", "Debian:11", "openssl", """{"introduced":"1.0-1"},{"fixed":"1.0-3"}""")
        );

        // Act
        var findings = Scan(Deb("libssl1.1", installed, "openssl"));

        // Assert
        findings.Count.ShouldBe(affected ? 1 : 0);
        if (affected)
        {
            findings[0].Package.ShouldBe("libssl1.1");
            findings[0].SourcePackage.ShouldBe("openssl");
            findings[0].FixedVersion.ShouldBe(fixedVersion);
            findings[0].Aliases.ShouldContain("CVE-2024-1000");
            findings[0].Source.ShouldBe("osv");
        }
    }

    [Theory]
    [InlineData("2.0-1", true)]
    [InlineData("2.0-1~rc1", true)]
    [InlineData("2.0-1+b1", false)]
    [InlineData("2.1", false)]
    public void A_last_affected_range_includes_its_last_version_and_nothing_after(
        string installed,
        bool affected
    )
    {
        Record(
            "B.json",
            Ranged("B", "Debian:11", "zlib", """{"introduced":"0"},{"last_affected":"2.0-1"}""")
        );

        var findings = Scan(Deb("zlib1g", installed, "zlib"));

        findings.Count.ShouldBe(affected ? 1 : 0);
        if (affected)
        {
            findings[0].FixedVersion.ShouldBeNull();
        }
    }

    [Fact]
    public void Several_introduced_and_fixed_pairs_in_one_range_leave_gaps_unaffected()
    {
        Record(
            "C.json",
            Ranged(
                "C",
                "Debian:11",
                "bash",
                """{"introduced":"0"},{"fixed":"5.0-4"},{"introduced":"5.1-1"},{"fixed":"5.1-2+deb11u1"}"""
            )
        );

        Scan(Deb("bash", "5.0-3")).Single().FixedVersion.ShouldBe("5.0-4");
        Scan(Deb("bash", "5.0-6")).ShouldBeEmpty();
        Scan(Deb("bash", "5.1-2")).Single().FixedVersion.ShouldBe("5.1-2+deb11u1");
        Scan(Deb("bash", "5.1-2+deb11u1")).ShouldBeEmpty();
    }

    [Fact]
    public void A_versions_list_matches_only_the_listed_versions()
    {
        Record(
            "D.json",
            """
            {"id":"D","modified":"2024-01-01T00:00:00Z",
             "affected":[{"package":{"ecosystem":"Debian:11","name":"curl"},"versions":["7.74.0-1.3+deb11u1","7.74.0-1.3+deb11u2"]}]}
            """
        );

        Scan(Deb("curl", "7.74.0-1.3+deb11u2")).Count.ShouldBe(1);
        Scan(Deb("curl", "7.74.0-1.3+deb11u3")).ShouldBeEmpty();
    }

    [Fact]
    public void Records_of_another_ecosystem_or_release_do_not_match()
    {
        Record(
            "E.json",
            Ranged("E", "Debian:12", "openssl", """{"introduced":"0"},{"fixed":"9"}""")
        );
        Record(
            "F.json",
            Ranged("F", "Ubuntu:22.04:LTS", "openssl", """{"introduced":"0"},{"fixed":"9"}""")
        );
        Record("G.json", Ranged("G", "Debian", "openssl", """{"introduced":"0"},{"fixed":"9"}"""));

        Scan(Deb("openssl", "1.1.1n-0+deb11u4")).ShouldBeEmpty();
        OsvDatabase.EcosystemMatches("Ubuntu:22.04:LTS", "Ubuntu:22.04").ShouldBeTrue();
        OsvDatabase.EcosystemMatches("Ubuntu:Pro:22.04:LTS", "Ubuntu:22.04").ShouldBeTrue();
        OsvDatabase
            .EcosystemMatches("Red Hat:enterprise_linux:9::baseos", "Red Hat:9")
            .ShouldBeTrue();
        OsvDatabase
            .EcosystemMatches("Red Hat:enterprise_linux:8::baseos", "Red Hat:9")
            .ShouldBeFalse();
    }

    [Fact]
    public void Severity_comes_from_the_CVSS_vector_when_the_record_has_one()
    {
        Record(
            "H.json",
            """
            {"id":"H","modified":"2024-01-01T00:00:00Z",
             "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
             "affected":[{"package":{"ecosystem":"Debian:11","name":"sudo"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.9.5p2-3+deb11u1"}]}]}]}
            """
        );

        var finding = Scan(Deb("sudo", "1.9.5p2-3")).Single();

        finding.CvssScore.ShouldBe(9.8);
        finding.Severity.ShouldBe(Severity.Critical);
    }

    [Fact]
    public void Malformed_records_are_skipped_with_a_problem_naming_the_file_and_the_rest_still_match()
    {
        // Arrange
        Record("broken.json", "{\"id\": \"X\", ");
        Record("no-modified.json", """{"id":"Y","affected":[]}""");
        Record(
            "bad-range.json",
            Ranged("Z", "Debian:11", "bash", """{"introduced":"0","fixed":"1"}""")
        );
        Record(
            "wrong-type.json",
            """{"id":"W","modified":"2024-01-01T00:00:00Z","aliases":"CVE-1"}"""
        );
        Record(
            "good.json",
            Ranged("OK", "Debian:11", "bash", """{"introduced":"0"},{"fixed":"9"}""")
        );

        // Act
        var findings = VulnerabilityScanner.MatchOsv(
            new PackageInventory([Deb("bash", "5.1-2")]),
            Debian11,
            _dir.Path,
            out var problems,
            out _
        );

        // Assert
        findings.Select(f => f.Advisory).ShouldBe(["OK"]);
        problems.Count.ShouldBe(4);
        problems.ShouldContain(p =>
            p.File.EndsWith("broken.json", StringComparison.Ordinal)
            && p.Message.Contains("not valid JSON", StringComparison.Ordinal)
        );
        problems.ShouldContain(p =>
            p.File.EndsWith("no-modified.json", StringComparison.Ordinal)
            && p.Message.Contains("modified", StringComparison.Ordinal)
        );
        problems.ShouldContain(p =>
            p.File.EndsWith("bad-range.json", StringComparison.Ordinal)
            && p.Message.Contains("more than one", StringComparison.Ordinal)
        );
        problems.ShouldContain(p =>
            p.File.EndsWith("wrong-type.json", StringComparison.Ordinal)
            && p.Message.Contains("aliases must be array", StringComparison.Ordinal)
        );
    }

    [Fact(Timeout = 60_000)]
    public async Task The_hand_made_records_are_valid_OSV_and_the_malformed_ones_are_not()
    {
        Record(
            "good.json",
            Ranged(
                "DEBIAN-CVE-2024-0001",
                "Debian:11",
                "bash",
                """{"introduced":"0"},{"fixed":"9"}"""
            )
        );
        Record("no-modified.json", """{"id":"DEBIAN-CVE-2024-0002","affected":[]}""");

        var results = await SchemaValidator.ValidateAsync(
            SchemaValidator.Osv,
            [],
            _dir.Combine("good.json"),
            _dir.Combine("no-modified.json")
        );

        results[_dir.Combine("good.json")].ShouldBeNull();
        results[_dir.Combine("no-modified.json")].ShouldNotBeNull();
    }

    [Fact]
    public void The_real_Debian_advisory_matches_the_nginx_versions_it_names()
    {
        // DSA-3029-1: nginx in Debian:7, fixed in 1.2.1-2.2+wheezy3.
        File.Copy(
            Path.Combine(RepoPaths.Specs, "osv", "debian", "DSA-3029-1.json"),
            _dir.Combine("DSA-3029-1.json")
        );
        var wheezy = new OsSpec("debian", "7");

        var before = VulnerabilityScanner.MatchOsv(
            new PackageInventory([Deb("nginx-common", "1.2.1-2.2+wheezy2", "nginx")]),
            wheezy,
            _dir.Path,
            out var problems,
            out _
        );
        var after = VulnerabilityScanner.MatchOsv(
            new PackageInventory([Deb("nginx-common", "1.2.1-2.2+wheezy3", "nginx")]),
            wheezy,
            _dir.Path,
            out _,
            out _
        );

        problems.ShouldBeEmpty();
        var finding = before.Single();
        finding.Advisory.ShouldBe("DSA-3029-1");
        finding.Aliases.ShouldBe(["CVE-2014-3616"]);
        finding.FixedVersion.ShouldBe("1.2.1-2.2+wheezy3");
        after.ShouldBeEmpty();
        Scan(Deb("nginx-common", "1.2.1-2.2+wheezy2", "nginx")).ShouldBeEmpty();
    }

    [Fact]
    public void Every_real_example_record_loads_without_a_problem()
    {
        foreach (
            var file in Directory.GetFiles(
                Path.Combine(RepoPaths.Specs, "osv", "examples"),
                "*.json"
            )
        )
        {
            File.Copy(file, _dir.Combine(Path.GetFileName(file)));
        }
        File.Copy(
            Path.Combine(RepoPaths.Specs, "osv", "debian", "DLA-3623-1.json"),
            _dir.Combine("DLA-3623-1.json")
        );

        var db = OsvDatabase.Load(_dir.Path);

        db.Problems.ShouldBeEmpty();
        db.RecordCount.ShouldBe(7);
    }
}
