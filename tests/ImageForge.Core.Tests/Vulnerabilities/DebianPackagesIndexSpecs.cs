using ImageForge.Core.Vulnerabilities;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Vulnerabilities;

public sealed class DebianPackagesIndexSpecs
{
    private const string Index = """
        Package: openssh-server
        Source: openssh
        Version: 1:8.4p1-5+deb11u3
        Architecture: amd64
        Description: secure shell (SSH) server
         Package: not-a-package
         .
        	Version: 9.9-9
        Filename: pool/main/o/openssh/openssh-server_8.4p1-5+deb11u3_amd64.deb

        Package: no-file
        Version: 1.0-1

        Package: openssh-server
        Source: openssh
        Version: 1:8.4p1-5+deb11u1
        Filename: pool/main/o/openssh/openssh-server_8.4p1-5+deb11u1_amd64.deb

        Package: tzdata
        Version: 2024a-0+deb11u1
        Architecture: all
        Filename: pool/main/t/tzdata/tzdata_2024a-0+deb11u1_all.deb
        """;

    [Fact]
    public void Every_complete_stanza_is_read_in_order_and_continuation_lines_are_ignored()
    {
        using var reader = new StringReader(Index);

        var packages = DebianPackagesIndex.Read(reader).ToList();

        packages
            .Select(p => $"{p.Name} {p.Version}")
            .ShouldBe([
                "openssh-server 1:8.4p1-5+deb11u3",
                "openssh-server 1:8.4p1-5+deb11u1",
                "tzdata 2024a-0+deb11u1",
            ]);
        packages[0].SourceName.ShouldBe("openssh");
        packages[0].SourceVersion.ShouldBe("1:8.4p1-5+deb11u3");
        packages[2].Architecture.ShouldBe("all");
        packages[2].SourceName.ShouldBe("tzdata");
    }

    [Fact]
    public void The_newest_version_of_a_name_wins_in_Debian_order()
    {
        var packages = DebianPackagesIndex.Parse(Index);

        packages.Keys.Order(StringComparer.Ordinal).ShouldBe(["openssh-server", "tzdata"]);
        packages["openssh-server"].Version.ShouldBe("1:8.4p1-5+deb11u3");
    }

    [Fact]
    public void Windows_line_ends_still_separate_stanzas()
    {
        var packages = DebianPackagesIndex.Parse(Index.Replace("\n", "\r\n"));

        packages["tzdata"].Filename.ShouldBe("pool/main/t/tzdata/tzdata_2024a-0+deb11u1_all.deb");
        packages["openssh-server"].Version.ShouldBe("1:8.4p1-5+deb11u3");
    }
}
