using System.Text;
using System.Text.Json;
using ImageForge.Core.Definitions;
using ImageForge.Core.Inventory;
using ImageForge.Core.Sbom;
using ImageForge.Core.Tests.Support;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Sbom;

public sealed class SbomSpecs
{
    private static readonly SbomSubject Subject = new(
        "debian-11-cis",
        "2026.04.11.1",
        "b-123",
        "Minimal Debian 11 server",
        new OsSpec("debian", "11")
    );

    private static readonly DateTimeOffset At = new(2026, 4, 11, 8, 0, 0, TimeSpan.Zero);

    private static PackageInventory Inventory() =>
        new([
            new(
                "libstdc++6",
                "10.2.1-6",
                "amd64",
                "gcc-10",
                "10.2.1-6",
                "Debian GCC Maintainers <debian-gcc@lists.debian.org>",
                2367,
                "GPL-3+ with GCC-exception-3.1"
            ),
            new(
                "openssh-server",
                "1:8.4p1-5+deb11u3",
                "amd64",
                "openssh",
                "1:8.4p1-5+deb11u3",
                "Debian OpenSSH Maintainers <debian-ssh@lists.debian.org>",
                1567,
                "BSD-2-clause"
            ),
            new(
                "sudo",
                "1.9.5p2-3+deb11u1",
                "amd64",
                "sudo",
                "1.9.5p2-3+deb11u1",
                "Sudo Maintainers <sudo@packages.debian.org>",
                4210,
                "ISC or GPL-2+"
            ),
            new(
                "zlib1g",
                "1:1.2.11.dfsg-2+deb11u2",
                "amd64",
                "zlib",
                "1:1.2.11.dfsg-2+deb11u2",
                "Mark Brown <broonie@debian.org>",
                174,
                null
            ),
            new(
                "tzdata",
                "2024a-0+deb11u1",
                "all",
                "tzdata",
                "2024a-0+deb11u1",
                "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
                3413,
                "public-domain"
            ),
        ]);

    [Fact]
    public void Package_URLs_follow_the_purl_spec_for_deb_and_rpm()
    {
        var deb = Inventory().Packages[0];
        Purl.For(deb, Subject.Os)
            .ShouldBe("pkg:deb/debian/libstdc%2B%2B6@10.2.1-6?arch=amd64&distro=debian-11");
        Purl.For(Inventory().Packages[1], Subject.Os)
            .ShouldBe(
                "pkg:deb/debian/openssh-server@1:8.4p1-5%2Bdeb11u3?arch=amd64&distro=debian-11"
            );
        var rpm = new InstalledPackage(
            "nss",
            "1:3.79.0-17.el9_1",
            "x86_64",
            "nss",
            "1:3.79.0-17.el9_1",
            "Red Hat, Inc.",
            10,
            "MPL-2.0",
            PackageType.Rpm
        );
        Purl.For(rpm, new OsSpec("rhel", "9"))
            .ShouldBe("pkg:rpm/redhat/nss@3.79.0-17.el9_1?arch=x86_64&epoch=1&distro=rhel-9");
    }

    [Fact]
    public void The_same_inventory_gives_the_same_bytes_apart_from_timestamp_and_serial()
    {
        var a = SbomWriter.CycloneDx(Inventory(), Subject, At, Guid.NewGuid());
        var b = SbomWriter.CycloneDx(
            new PackageInventory(Inventory().Packages.Reverse().ToList()),
            Subject,
            At.AddHours(1),
            Guid.NewGuid()
        );
        var sa = SbomWriter.Spdx(
            Inventory(),
            Subject,
            At,
            SbomWriter.SpdxNamespace(Subject, Guid.NewGuid())
        );
        var sb = SbomWriter.Spdx(
            Inventory(),
            Subject,
            At.AddHours(1),
            SbomWriter.SpdxNamespace(Subject, Guid.NewGuid())
        );

        Masked(a).ShouldBe(Masked(b));
        Masked(sa).ShouldBe(Masked(sb));
    }

    [Fact]
    public void The_image_version_is_the_subject_of_both_documents()
    {
        using var cdx = JsonDocument.Parse(
            SbomWriter.CycloneDx(Inventory(), Subject, At, Guid.NewGuid())
        );
        using var spdx = JsonDocument.Parse(
            SbomWriter.Spdx(Inventory(), Subject, At, "https://x.invalid/1")
        );

        var component = cdx.RootElement.GetProperty("metadata").GetProperty("component");
        component.GetProperty("name").GetString().ShouldBe("debian-11-cis");
        component.GetProperty("version").GetString().ShouldBe("2026.04.11.1");
        var described = spdx.RootElement.GetProperty("documentDescribes")[0].GetString();
        var image = spdx
            .RootElement.GetProperty("packages")
            .EnumerateArray()
            .Single(p => p.GetProperty("SPDXID").GetString() == described);
        image.GetProperty("versionInfo").GetString().ShouldBe("2026.04.11.1");
    }

    [Fact(Timeout = 60_000)]
    public async Task Both_documents_validate_against_the_official_schemas()
    {
        // Arrange
        using var dir = new TempDirectory();
        var cdx = dir.Combine("sbom.cdx.json");
        var spdx = dir.Combine("sbom.spdx.json");
        await File.WriteAllBytesAsync(
            cdx,
            SbomWriter.CycloneDx(Inventory(), Subject, At, Guid.NewGuid())
        );
        await File.WriteAllBytesAsync(
            spdx,
            SbomWriter.Spdx(
                Inventory(),
                Subject,
                At,
                SbomWriter.SpdxNamespace(Subject, Guid.NewGuid())
            )
        );
        var broken = dir.Combine("broken.cdx.json");
        await File.WriteAllTextAsync(
            broken,
            Encoding
                .UTF8.GetString(await File.ReadAllBytesAsync(cdx))
                .Replace(
                    "\"specVersion\": \"1.6\"",
                    "\"specVersion\": 1.6",
                    StringComparison.Ordinal
                )
        );

        // Act
        var cdxResults = await SchemaValidator.ValidateAsync(
            SchemaValidator.CycloneDx16,
            SchemaValidator.CycloneDxRefs,
            cdx,
            broken
        );
        var spdxResults = await SchemaValidator.ValidateAsync(SchemaValidator.Spdx23, [], spdx);

        // Assert
        cdxResults[cdx].ShouldBeNull();
        cdxResults[broken].ShouldNotBeNull();
        spdxResults[spdx].ShouldBeNull();
    }

    [Fact]
    public void Licenses_become_SPDX_ids_or_expressions_when_every_part_is_known_and_names_otherwise()
    {
        using var cdx = JsonDocument.Parse(
            SbomWriter.CycloneDx(Inventory(), Subject, At, Guid.NewGuid())
        );
        using var spdx = JsonDocument.Parse(
            SbomWriter.Spdx(Inventory(), Subject, At, "https://x.invalid/1")
        );
        JsonElement Component(string name) =>
            cdx
                .RootElement.GetProperty("components")
                .EnumerateArray()
                .Single(c => c.GetProperty("name").GetString() == name);
        JsonElement Package(string name) =>
            spdx
                .RootElement.GetProperty("packages")
                .EnumerateArray()
                .Single(c => c.GetProperty("name").GetString() == name);

        Component("openssh-server")
            .GetProperty("licenses")[0]
            .GetProperty("license")
            .GetProperty("id")
            .GetString()
            .ShouldBe("BSD-2-Clause");
        Component("sudo")
            .GetProperty("licenses")[0]
            .GetProperty("expression")
            .GetString()
            .ShouldBe("ISC OR GPL-2.0-or-later");
        Component("tzdata")
            .GetProperty("licenses")[0]
            .GetProperty("license")
            .GetProperty("name")
            .GetString()
            .ShouldBe("public-domain");
        Component("zlib1g").TryGetProperty("licenses", out _).ShouldBeFalse();
        Package("tzdata")
            .GetProperty("licenseDeclared")
            .GetString()
            .ShouldBe("LicenseRef-public-domain");
        Package("zlib1g").GetProperty("licenseDeclared").GetString().ShouldBe("NOASSERTION");
    }

    [Fact]
    public void A_stored_CycloneDX_SBOM_reads_back_into_the_same_packages()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("sbom.cdx.json");
        File.WriteAllBytes(path, SbomWriter.CycloneDx(Inventory(), Subject, At, Guid.NewGuid()));

        var read = SbomReader.ReadCycloneDx(path);

        read.Packages.Select(p =>
                (p.Name, p.Version, p.Architecture, p.SourceName, p.SourceVersion)
            )
            .ShouldBe(
                Inventory()
                    .Packages.OrderBy(p => p.Name, StringComparer.Ordinal)
                    .Select(p => (p.Name, p.Version, p.Architecture, p.SourceName, p.SourceVersion))
            );
    }

    // Timestamp, serial number and namespace are the only parts allowed to differ.
    private static string Masked(byte[] json) =>
        System.Text.RegularExpressions.Regex.Replace(
            Encoding.UTF8.GetString(json),
            "\"(timestamp|created|serialNumber|documentNamespace)\": \"[^\"]*\"",
            "\"$1\": \"*\""
        );
}
