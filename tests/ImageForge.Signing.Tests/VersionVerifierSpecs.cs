using ImageForge.Core.Provenance;
using Shouldly;
using Xunit;

namespace ImageForge.Signing.Tests;

public sealed class VersionVerifierSpecs
{
    [Fact]
    public async Task A_freshly_signed_version_verifies_with_every_file_ok()
    {
        using var version = await SignedVersion.CreateAsync();

        var report = await VersionVerifier.VerifyAsync(version.Version);

        report.Problems.ShouldBeEmpty();
        report.Ok.ShouldBeTrue();
        report.SignatureValid.ShouldBeTrue();
        report.SubjectCount.ShouldBe(4);
        report.KeyId.ShouldBe(version.Signer.KeyId);
        report.Algorithm.ShouldBe("ECDSA_P256_SHA256");
        report.Items.Count.ShouldBe(7);
        report.Items.ShouldAllBe(i => i.Status == ItemStatus.Ok && i.Covered);
    }

    [Theory]
    [InlineData("disk-raw", "artifact disk-raw changed")]
    [InlineData("package-inventory", "evidence package-inventory changed")]
    [InlineData("provenance-dsse", "the signature does not verify")]
    [InlineData("provenance", "evidence provenance changed")]
    [InlineData("signing-public-key", "evidence signing-public-key changed")]
    public async Task Changing_one_byte_of_any_file_fails_verification_naming_it(
        string kind,
        string problem
    )
    {
        using var version = await SignedVersion.CreateAsync();
        var path =
            version.Version.Artifacts.FirstOrDefault(a => a.Kind == kind)?.Location
            ?? version.PathOf(kind);
        var bytes = await File.ReadAllBytesAsync(path);
        // In the envelope, change a character inside the base64 payload so it still parses.
        var at =
            kind == "provenance-dsse"
                ? System
                    .Text.Encoding.ASCII.GetString(bytes)
                    .IndexOf("\"payload\": \"", StringComparison.Ordinal) + 20
                : 0;
        bytes[at] = (byte)(bytes[at] == (byte)'A' ? 'B' : 'A');
        await File.WriteAllBytesAsync(path, bytes);

        var report = await VersionVerifier.VerifyAsync(version.Version);

        report.Ok.ShouldBeFalse();
        report.Problems.ShouldContain(
            p => p.Contains(problem, StringComparison.Ordinal),
            string.Join("\n", report.Problems)
        );
        report.Items.ShouldContain(i => i.Kind == kind && i.Status == ItemStatus.Changed);
    }

    [Fact]
    public async Task A_catalog_digest_changed_to_match_a_replaced_file_is_caught_by_the_signed_subjects()
    {
        using var version = await SignedVersion.CreateAsync();
        var inventory = version.Version.Evidence.First(e => e.Kind == "package-inventory");
        await File.WriteAllTextAsync(inventory.Location, "swapped\n");
        var swapped = version.Version with
        {
            Evidence =
            [
                .. version.Version.Evidence.Select(e =>
                    e == inventory
                        ? e with
                        {
                            Sha256 = Convert.ToHexStringLower(
                                System.Security.Cryptography.SHA256.HashData("swapped\n"u8)
                            ),
                        }
                        : e
                ),
            ],
        };

        var report = await VersionVerifier.VerifyAsync(swapped);

        report.Ok.ShouldBeFalse();
        report.Problems.ShouldContain(
            "evidence/package-inventory/packages.tsv changed in the catalog: "
                + $"recorded sha256 {swapped.Evidence.First(e => e.Kind == "package-inventory").Sha256}, signed {inventory.Sha256}"
        );
    }

    [Fact]
    public async Task Evidence_recorded_after_signing_is_listed_as_not_signed_without_failing()
    {
        using var version = await SignedVersion.CreateAsync();
        var later = new Core.Builds.EvidenceDocument
        {
            Kind = "vulnerabilities",
            Location = version.Version.Evidence[0].Location,
            Sha256 = version.Version.Evidence[0].Sha256,
            MediaType = "application/json",
            RecordedAt = version.Version.CreatedAt.AddDays(1),
        };

        var report = await VersionVerifier.VerifyAsync(
            version.Version with
            {
                Evidence = [.. version.Version.Evidence, later],
            }
        );

        report.Ok.ShouldBeTrue(string.Join("\n", report.Problems));
        report.Items.Single(i => i.Kind == "vulnerabilities").Covered.ShouldBeFalse();
    }

    [Fact]
    public async Task A_version_without_an_envelope_is_not_signed_and_fails()
    {
        using var version = await SignedVersion.CreateAsync();

        var report = await VersionVerifier.VerifyAsync(
            version.Version with
            {
                Evidence =
                [
                    .. version.Version.Evidence.Where(e =>
                        !ProvenanceSubjects.SignatureKinds.Contains(e.Kind)
                    ),
                ],
            }
        );

        report.Ok.ShouldBeFalse();
        report.Problems.ShouldBe([
            "debian-11-cis@2026.01.02.1 is not signed: it has no provenance-dsse evidence",
        ]);
    }

    [Fact]
    public async Task A_trusted_key_other_than_the_signers_fails_the_signature()
    {
        using var version = await SignedVersion.CreateAsync();
        using var other = System.Security.Cryptography.ECDsa.Create(
            System.Security.Cryptography.ECCurve.NamedCurves.nistP256
        );

        var report = await VersionVerifier.VerifyAsync(
            version.Version,
            other.ExportSubjectPublicKeyInfoPem()
        );

        report.SignatureValid.ShouldBeFalse();
        report.Problems.ShouldContain(p =>
            p.StartsWith("the signature does not verify", StringComparison.Ordinal)
        );
    }
}
