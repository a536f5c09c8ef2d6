using ImageForge.Core.Vulnerabilities;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Definitions;

public sealed class BaselineVulnerabilitiesSpecs : IDisposable
{
    private readonly ContentFixture _content = new(withBaseline: false);

    public void Dispose() => _content.Dispose();

    private string WriteBaseline(string section) =>
        _content.Baseline("debian-11-anssi.yaml", ContentFixture.ValidBaseline + section);

    [Fact]
    public void Sources_and_suppressions_load_with_their_status_and_expiry()
    {
        WriteBaseline(
            """
            vulnerabilities:
              sources: [debian-security]
              suppressions:
                - advisory: CVE-2023-4911
                  package: glibc
                  status: not_affected
                  justification: the image sets no setuid binaries that read GLIBC_TUNABLES
                  expires: 2027-01-31
            """
        );

        var set = _content.Load();

        set.ShouldHaveNoProblems();
        var policy = set.FindBaseline("debian-11-anssi").ShouldNotBeNull().Vulnerabilities;
        policy.Sources.ShouldBe(["debian-security"]);
        policy
            .Suppressions.Single()
            .ShouldBe(
                new Suppression(
                    "CVE-2023-4911",
                    "glibc",
                    SuppressionStatus.NotAffected,
                    "the image sets no setuid binaries that read GLIBC_TUNABLES",
                    new DateOnly(2027, 1, 31)
                )
            );
    }

    [Theory]
    [InlineData("  sources: [nvd]\n", "vulnerabilities.sources", "nvd")]
    [InlineData(
        "  suppressions:\n    - advisory: CVE-1\n      package: glibc\n      status: fixed\n      justification: x\n      expires: 2027-01-31\n",
        "vulnerabilities.suppressions[0].status",
        "not_affected"
    )]
    [InlineData(
        "  suppressions:\n    - advisory: CVE-1\n      package: glibc\n      status: accepted\n      expires: 2027-01-31\n",
        "vulnerabilities.suppressions[0]",
        "justification"
    )]
    [InlineData(
        "  suppressions:\n    - advisory: CVE-1\n      package: glibc\n      status: accepted\n      justification: x\n      expires: 31/01/2027\n",
        "vulnerabilities.suppressions[0].expires",
        "YYYY-MM-DD"
    )]
    public void A_bad_vulnerabilities_section_is_a_file_and_line_problem(
        string body,
        string field,
        string message
    )
    {
        var file = WriteBaseline("vulnerabilities:\n" + body);

        var set = _content.Load();

        var problem = set.Problems.ShouldHaveSingleItem(string.Join("\n", set.Problems));
        problem.File.ShouldBe(file);
        problem.Line.ShouldBeGreaterThan(
            File.ReadAllLines(file).ToList().IndexOf("vulnerabilities:")
        );
        problem.Field.ShouldStartWith(field);
        problem.Message.ShouldContain(message);
    }
}
