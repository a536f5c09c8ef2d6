using System.Text.Json;
using ImageForge.Core.Provenance;
using Shouldly;
using Xunit;

namespace ImageForge.Signing.Tests;

public sealed class ProvenanceSpecs
{
    [Fact]
    public async Task The_statement_is_an_in_toto_v1_slsa_provenance_over_every_artifact_and_evidence_document()
    {
        using var version = await SignedVersion.CreateAsync();

        using var statement = JsonDocument.Parse(
            await File.ReadAllBytesAsync(version.PathOf("provenance"))
        );
        var root = statement.RootElement;

        root.GetProperty("_type").GetString().ShouldBe("https://in-toto.io/Statement/v1");
        root.GetProperty("predicateType").GetString().ShouldBe("https://slsa.dev/provenance/v1");
        root.GetProperty("subject")
            .EnumerateArray()
            .Select(s => s.GetProperty("name").GetString())
            .ShouldBe([
                "artifact/local/local/disk-raw/disk.raw",
                "artifact/local/local/rootfs-tar-zst/rootfs.tar.zst",
                "evidence/hardening-report/hardening-report.tsv",
                "evidence/package-inventory/packages.tsv",
            ]);
        var definition = root.GetProperty("predicate").GetProperty("buildDefinition");
        definition
            .GetProperty("externalParameters")
            .GetRawText()
            .ShouldBe(
                """{"image":"debian-11-cis","target":"local","trigger":"cve","requester":"alice","reason":"CVE-2026-1234"}"""
            );
        var dependencies = definition.GetProperty("resolvedDependencies").EnumerateArray().ToList();
        var names = dependencies.Select(d => d.GetProperty("name").GetString()!).ToList();
        names.ShouldContain("templates/images/debian-11-cis.yaml");
        names.ShouldContain(n => n.StartsWith("baselines/", StringComparison.Ordinal));
        names.ShouldContain("templates/packer/local/local.pkr.hcl");
        names.ShouldContain("hardening/cis/debian-11/run.sh");
        names.ShouldContain("debian/bullseye");
        names.ShouldContain("packer");
        dependencies
            .Where(d => !d.TryGetProperty("uri", out _))
            .ShouldAllBe(d =>
                d.GetProperty("digest").GetProperty("sha256").GetString()!.Length == 64
            );
        dependencies
            .Single(d => d.GetProperty("name").GetString() == "packer")
            .GetProperty("uri")
            .GetString()
            .ShouldBe("pkg:generic/packer@1.6.6");
        var metadata = root.GetProperty("predicate")
            .GetProperty("runDetails")
            .GetProperty("metadata");
        metadata.GetProperty("invocationId").GetString().ShouldBe("7");
        metadata.GetProperty("startedOn").GetString().ShouldBe("2026-01-02T09:55:00Z");
        metadata.GetProperty("finishedOn").GetString().ShouldBe("2026-01-02T10:00:00Z");
    }

    [Fact]
    public async Task The_same_version_gives_byte_identical_statements()
    {
        using var version = await SignedVersion.CreateAsync();
        var evidence = version
            .Version.Evidence.Where(e => !ProvenanceSubjects.SignatureKinds.Contains(e.Kind))
            .ToList();
        var request = Request(version.Version.Artifacts, evidence);

        var first = ProvenanceStatement.Write(request);
        var second = ProvenanceStatement.Write(
            request with
            {
                Artifacts = [.. request.Artifacts.Reverse()],
                Evidence = [.. evidence.AsEnumerable().Reverse()],
            }
        );

        second.ShouldBe(first);
    }

    [Fact]
    public void An_artifacts_source_and_details_are_written_on_its_subject_and_the_subjects_stay_the_same()
    {
        Core.Builds.Artifact Disk(string kind, string file, char digit) =>
            new()
            {
                Target = "local",
                Region = "local",
                Kind = kind,
                Location = "/out/" + file,
                Sha256 = new string(digit, 64),
            };
        var raw = Disk("disk-raw", "disk.raw", 'a');
        var vhd = Disk("disk-vhd", "disk.vhd", 'b') with
        {
            SourceSha256 = raw.Sha256,
            Details = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["format"] = "vhd",
                ["disk"] = "artifact/local/local/disk-raw/disk.raw",
            },
        };
        var request = Request([raw, vhd], []);

        var statement = ProvenanceStatement.Write(request);

        using var json = JsonDocument.Parse(statement);
        var subjects = json.RootElement.GetProperty("subject").EnumerateArray().ToList();
        subjects[0].TryGetProperty("annotations", out _).ShouldBeFalse();
        // Keys sorted, like the dependencies' annotations.
        subjects[1]
            .GetProperty("annotations")
            .GetRawText()
            .ShouldBe(
                $$"""{"disk":"artifact/local/local/disk-raw/disk.raw","format":"vhd","source_sha256":"{{raw.Sha256}}"}"""
            );
        // The verifier compares names and digests only: annotations change neither.
        ProvenanceStatement
            .ReadSubjects(statement)
            .ShouldBe(
                ProvenanceSubjects.For(
                    [
                        raw,
                        vhd with
                        {
                            SourceSha256 = null,
                            Details = new SortedDictionary<string, string>(StringComparer.Ordinal),
                        },
                    ],
                    []
                )
            );
    }

    [Fact]
    public void A_provider_image_is_a_subject_by_its_id_with_the_digest_of_its_manifest_document()
    {
        var ami = new Core.Builds.Artifact
        {
            Target = "aws",
            Region = "eu-west-1",
            Kind = "ami",
            Location = "ami-0123456789abcdef0",
        };

        var subject = ProvenanceSubjects.For([ami], []).Single();

        subject.Name.ShouldBe("image/aws/eu-west-1/ami/ami-0123456789abcdef0");
        System
            .Text.Encoding.UTF8.GetString(ProvenanceSubjects.ImageManifest(ami))
            .ShouldBe(
                """{"provider":"aws","region":"eu-west-1","kind":"ami","id":"ami-0123456789abcdef0"}"""
            );
        subject.Sha256.ShouldBe(
            Convert.ToHexStringLower(
                System.Security.Cryptography.SHA256.HashData(ProvenanceSubjects.ImageManifest(ami))
            )
        );
    }

    private static ProvenanceRequest Request(
        IReadOnlyList<Core.Builds.Artifact> artifacts,
        IReadOnlyList<Core.Builds.EvidenceDocument> evidence
    ) =>
        new()
        {
            Image = "i",
            Version = "2026.01.02.1",
            Target = "local",
            BuildId = "1",
            Trigger = Core.Builds.BuildTrigger.Manual,
            Requester = "r",
            Fingerprint = "f",
            Artifacts = artifacts,
            Evidence = evidence,
            Dependencies = [],
            StartedOn = DateTimeOffset.UnixEpoch,
            FinishedOn = DateTimeOffset.UnixEpoch,
            BuilderVersion = "1",
        };
}
