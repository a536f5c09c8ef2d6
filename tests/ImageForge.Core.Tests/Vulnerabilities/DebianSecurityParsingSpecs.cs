using ImageForge.Core.Vulnerabilities;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Vulnerabilities;

public sealed class DebianSecurityParsingSpecs
{
    [Fact]
    public void A_changelog_splits_into_entries_with_the_CVE_ids_each_mentions()
    {
        const string Changelog = """
            openssl (1.1.1w-0+deb11u2) bullseye-security; urgency=medium

              * Fix CVE-2024-0727 (PKCS12 NULL dereference).
              * Fix cve-2023-5678.

             -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Sun, 01 Dec 2024 10:00:00 +0100

            openssl (1.1.1w-0+deb11u1) bullseye-security; urgency=medium

              * New upstream release: CVE-2023-4807, CVE-2023-3817

             -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Mon, 02 Oct 2023 10:00:00 +0100
            """;

        var entries = DebianSecuritySource.ParseChangelog(Changelog);

        entries.Select(e => e.Version).ShouldBe(["1.1.1w-0+deb11u2", "1.1.1w-0+deb11u1"]);
        entries[0].Cves.ShouldBe(["CVE-2023-5678", "CVE-2024-0727"]);
        entries[1].Cves.ShouldBe(["CVE-2023-3817", "CVE-2023-4807"]);
    }

    [Fact]
    public void A_Packages_index_gives_each_package_its_source_and_pool_file()
    {
        const string Index = """
            Package: libssl1.1
            Source: openssl
            Version: 1.1.1w-0+deb11u2
            Architecture: amd64
            Filename: pool/updates/main/o/openssl/libssl1.1_1.1.1w-0+deb11u2_amd64.deb

            Package: libc6
            Source: glibc (2.31-13+deb11u11)
            Version: 2.31-13+deb11u11+b1
            Architecture: amd64
            Filename: pool/updates/main/g/glibc/libc6_2.31-13+deb11u11+b1_amd64.deb

            """;

        var packages = DebianSecuritySource.ParsePackages(Index);

        packages["libssl1.1"].SourceName.ShouldBe("openssl");
        packages["libssl1.1"].SourceVersion.ShouldBe("1.1.1w-0+deb11u2");
        packages["libc6"].SourceVersion.ShouldBe("2.31-13+deb11u11");
        packages["libc6"].Filename.ShouldEndWith("libc6_2.31-13+deb11u11+b1_amd64.deb");
    }
}
