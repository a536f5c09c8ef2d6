using ImageForge.Core.Errors;
using ImageForge.Core.Vulnerabilities;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Vulnerabilities;

public sealed class ReportImporterSpecs
{
    private static string Spec(params string[] parts) => Path.Combine([RepoPaths.Specs, .. parts]);

    [Fact]
    public void A_Trivy_report_imports_with_package_versions_severity_and_CVSS()
    {
        var findings = ReportImporters.Import(Spec("trivy", "debian-buster.json.golden"));

        findings.Count.ShouldBe(2);
        var bash = findings.Single(f => f.Package == "bash");
        bash.Advisory.ShouldBe("CVE-2019-18276");
        bash.InstalledVersion.ShouldBe("5.0-4");
        bash.FixedVersion.ShouldBeNull();
        bash.Severity.ShouldBe(Severity.Low);
        bash.CvssScore.ShouldBe(7.8);
        bash.Source.ShouldBe("trivy");
        var idn = findings.Single(f => f.Package == "libidn2-0");
        idn.InstalledVersion.ShouldBe("2.0.5-1");
        idn.FixedVersion.ShouldBe("2.0.5-1+deb10u1");
        idn.Severity.ShouldBe(Severity.Critical);
    }

    [Fact]
    public void A_Grype_report_imports_with_package_version_severity_and_fix()
    {
        var findings = ReportImporters.Import(Spec("grype", "keycloak-test.json"));

        findings.Count.ShouldBe(6);
        var nspr = findings.First(f => f.Package == "nspr");
        nspr.Advisory.ShouldBe("CVE-2020-12413");
        nspr.InstalledVersion.ShouldBe("4.34.0-17.el9_1");
        nspr.Severity.ShouldBe(Severity.Low);
        nspr.CvssScore.ShouldBe(5.9);
        nspr.FixedVersion.ShouldBeNull();
        nspr.Source.ShouldBe("grype");
    }

    [Fact]
    public void Every_Trivy_and_Grype_JSON_sample_imports()
    {
        foreach (
            var file in new[]
            {
                "alpine-310.json.golden",
                "debian-stretch.json.golden",
                "ubuntu-1804.json.golden",
                "amazonlinux2-gp2-x86-vm.json.golden",
            }
        )
        {
            ReportImporters.ImportTrivy(Spec("trivy", file)).ShouldNotBeEmpty(file);
        }
        foreach (
            var file in new[]
            {
                "ghsa-test.json",
                "chainguard-ruby-test.json",
                "TestJsonImgsPresenter.golden",
            }
        )
        {
            ReportImporters.ImportGrype(Spec("grype", file)).ShouldNotBeEmpty(file);
        }
        ReportImporters.ImportGrype(Spec("grype", "TestEmptyJsonPresenter.golden")).ShouldBeEmpty();
    }

    [Fact]
    public void A_Trivy_report_of_another_schema_version_is_refused_naming_the_file()
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("old-trivy.json");
        File.WriteAllText(
            file,
            File.ReadAllText(Spec("trivy", "debian-buster.json.golden"))
                .Replace("\"SchemaVersion\": 2", "\"SchemaVersion\": 1", StringComparison.Ordinal)
        );

        var error = Should.Throw<InvalidInputException>(() => ReportImporters.Import(file));

        error.Message.ShouldContain(file);
        error.Message.ShouldContain("schema version 1 is not supported");
    }

    [Fact]
    public void Broken_JSON_is_refused_naming_the_file()
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("broken.json");
        File.WriteAllText(file, "{\"SchemaVersion\": 2, \"Results\": [");

        var error = Should.Throw<InvalidInputException>(() => ReportImporters.Import(file));

        error.Message.ShouldStartWith(file + ": not valid JSON at line 1");
    }
}
