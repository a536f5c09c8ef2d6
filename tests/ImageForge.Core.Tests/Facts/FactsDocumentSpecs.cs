using ImageForge.Core.Builds;
using ImageForge.Core.Errors;
using ImageForge.Core.Facts;
using ImageForge.TestUtils;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Facts;

public sealed class FactsDocumentSpecs : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 3, 4, 9, 0, 0, TimeSpan.Zero);

    private static readonly string Sample = Path.Combine(
        RepoPaths.Root,
        "tests",
        "ImageForge.Core.Tests",
        "Facts",
        "image-facts.sample.json"
    );

    private readonly TempDirectory _dir = new("imageforge-facts");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_collectors_document_reads_into_the_typed_model()
    {
        var facts = FactsDocuments.ReadImageFacts(Sample);

        facts.Users.Select(u => (u.Name, u.Uid)).ShouldBe([("root", 0), ("toor", 0)]);
        facts.SetuidFiles.Single().Path.ShouldBe("/usr/bin/su");
        facts.Sshd.Settings["permitrootlogin"].ShouldBe("yes");
        facts.Systemd.Enabled.ShouldBe(["nginx.service"]);
        facts.Sizes["rootfs_bytes"].ShouldBeGreaterThan(0);
    }

    [Theory]
    [InlineData("\"users\": [", "\"users\": 7, \"x\": [", "$.users")]
    [InlineData("\"uid\": 0,", "\"uid\": \"zero\",", "$.setuid_files[0].uid")]
    [InlineData("\"schema\": \"imageforge.image-facts/v1\"", "\"schema\": \"v0\"", "$.schema")]
    public void A_wrong_field_is_named_with_its_file_and_json_path(
        string from,
        string to,
        string path
    )
    {
        var text = File.ReadAllText(Sample);
        text.ShouldContain(from);
        var bad = _dir.Combine("image-facts.json");
        File.WriteAllText(bad, ReplaceFirst(text, from, to));

        var error = Should.Throw<InvalidInputException>(() => FactsDocuments.ReadImageFacts(bad));

        error.Message.ShouldStartWith(bad + ": ");
        error.Message.ShouldContain(path);
    }

    [Fact]
    public void A_missing_section_is_refused_by_name()
    {
        var bad = _dir.Combine("image-facts.json");
        File.WriteAllText(bad, File.ReadAllText(Sample).Replace("\"sudoers\"", "\"sudo\""));

        var error = Should.Throw<InvalidInputException>(() => FactsDocuments.ReadImageFacts(bad));

        error.Message.ShouldContain("sudoers");
    }

    [Fact]
    public void The_snapshot_flattens_every_section_into_named_sets_and_measurements()
    {
        var document = Document(
            new BuildFacts(
                new Dictionary<string, double> { ["bootstrap"] = 30, ["harden"] = 12 },
                0.9,
                ["rule_a"],
                new Dictionary<string, int> { ["critical"] = 1 },
                ["CVE-1 openssl"]
            )
        );

        var snapshot = FactSnapshot.From(document);

        snapshot.Set(FactNames.User).ShouldContain("toor uid=0 gid=0 shell=/bin/sh");
        snapshot.Set(FactNames.Sudoers).Single().ShouldContain("NOPASSWD");
        snapshot.Set(FactNames.Sshd).ShouldContain("permitrootlogin yes");
        snapshot.Set(FactNames.SetuidFile).Single().ShouldStartWith("/usr/bin/su ");
        snapshot.Set(FactNames.FailedRule).ShouldBe(["rule_a"]);
        snapshot.Set(FactNames.CriticalFinding).ShouldBe(["CVE-1 openssl"]);
        snapshot.Metrics[FactNames.BuildSeconds].ShouldBe(42);
        snapshot.Metrics["duration.harden"].ShouldBe(12);
        snapshot.Metrics[FactNames.ComplianceScore].ShouldBe(0.9);
        snapshot.Metrics["findings.critical"].ShouldBe(1);
        snapshot.Metrics[FactNames.RootfsBytes].ShouldBeGreaterThan(0);
    }

    [Fact]
    public void A_facts_document_written_reads_back_the_same()
    {
        var document = Document(
            new BuildFacts(
                new Dictionary<string, double>(),
                null,
                [],
                new Dictionary<string, int>(),
                []
            )
        );
        var path = _dir.Combine("facts.json");
        File.WriteAllBytes(path, FactsDocuments.ToJson(document));

        var read = FactsDocuments.Read(path);

        Flat(FactSnapshot.From(read)).ShouldBe(Flat(FactSnapshot.From(document)));
        read.Build.ComplianceScore.ShouldBeNull();
    }

    [Fact]
    public void Stages_last_from_their_first_step_to_the_next_stages_and_the_last_until_the_end()
    {
        IReadOnlyList<LogLine> log =
        [
            new(1, Start, "step", "bootstrap | cache miss"),
            new(2, Start.AddSeconds(5), "stdout", "noise"),
            new(3, Start.AddSeconds(10), "step", "bootstrap | purging"),
            new(4, Start.AddSeconds(30), "step", "harden | applying"),
            new(5, Start.AddSeconds(45), "step", "export | writing"),
        ];

        var seconds = FactsCollector.StageSeconds(log, Start.AddSeconds(60));

        seconds.ShouldBe(
            new Dictionary<string, double>
            {
                ["bootstrap"] = 30,
                ["harden"] = 15,
                ["export"] = 15,
            },
            ignoreOrder: true
        );
    }

    private static FactsDocument Document(BuildFacts build) =>
        new()
        {
            Image = "web",
            Version = "2025.03.04.1",
            Target = "local",
            ImageFacts = FactsDocuments.ReadImageFacts(Sample),
            Build = build,
        };

    private static List<string> Flat(FactSnapshot snapshot) =>
        [.. snapshot.Sets.SelectMany(s => s.Value.Select(m => s.Key + ": " + m))];

    private static string ReplaceFirst(string text, string from, string to)
    {
        var at = text.IndexOf(from, StringComparison.Ordinal);
        return text[..at] + to + text[(at + from.Length)..];
    }
}
