using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ImageForge.Cli;
using ImageForge.Core.Anomalies;
using ImageForge.Core.Builds;
using ImageForge.Core.Compliance;
using ImageForge.Core.Definitions;
using ImageForge.Core.Inventory;
using ImageForge.Core.Sbom;
using ImageForge.Core.Vulnerabilities;
using ImageForge.Signing;
using ImageForge.Storage;
using ImageForge.TestUtils;
using Microsoft.Data.Sqlite;

namespace ImageForge.Benchmarks;

/// <summary>
/// The catalog of the dashboard benchmark: a content directory with one definition per image (the shipped
/// debian-11-cis under another name, so each image has its channel path), the bulk of the versions as catalog rows
/// written directly (build, version, the local target's artifacts and the evidence a build records, lineage, channels
/// and their history), and a few versions recorded as the pipeline records them, signed, with their evidence files.
/// </summary>
internal static class DashboardSeed
{
    /// <summary>The evidence a local build of the shipped definition records, as (file, kind, media type).</summary>
    private static readonly (string File, string Kind, string MediaType)[] EvidenceFiles =
    [
        ("disk.json", "disk-layout", "application/json"),
        ("packages.tsv", Core.Sbom.EvidenceFiles.PackageInventory, "text/tab-separated-values"),
        ("hardening-report.tsv", "hardening-report", "text/tab-separated-values"),
        ("compliance-before-results.xml", ComplianceCollector.BeforeResultsKind, "application/xml"),
        ("compliance-before-report.html", "compliance-before-report", "text/html"),
        ("compliance-after-results.xml", ComplianceCollector.AfterResultsKind, "application/xml"),
        ("compliance-after-report.html", "compliance-after-report", "text/html"),
        ("image-facts.json", "image-facts", "application/json"),
        ("boot-test.json", "boot-test", "application/json"),
        ("boot-test-console.log", "boot-test-transcript", "text/plain"),
        ("compliance-summary.json", ComplianceCollector.SummaryKind, "application/json"),
        ("sbom.cdx.json", Core.Sbom.EvidenceFiles.CycloneDx, SbomWriter.CycloneDxMediaType),
        ("sbom.spdx.json", Core.Sbom.EvidenceFiles.Spdx, SbomWriter.SpdxMediaType),
        (
            "vulnerability-findings.json",
            Core.Sbom.EvidenceFiles.VulnerabilityFindings,
            "application/json"
        ),
        ("anomalies.json", AnomalyReport.Kind, "application/json"),
        ("gate-decision.json", "gate-decision", "application/json"),
        ("provenance.json", "provenance", "application/vnd.in-toto+json"),
        ("provenance.dsse.json", "provenance-dsse", "application/vnd.dsse.envelope+json"),
        ("signing-key.pub.pem", "signing-public-key", "application/x-pem-file"),
    ];

    public static string ImageName(int index) =>
        "bench-" + index.ToString("000", CultureInfo.InvariantCulture);

    /// <summary>
    /// The repository's content with <paramref name="images"/> definitions in place of the shipped ones: each is
    /// debian-11-cis (local target, channels dev, staging, prod) under the name <see cref="ImageName"/>.
    /// </summary>
    public static ContentPaths WriteContent(string directory, int images)
    {
        var definitions = Path.Combine(directory, "images");
        Directory.CreateDirectory(definitions);
        var shipped = File.ReadAllText(
            Path.Combine(RepoPaths.Root, "templates", "images", "debian-11-cis.yaml")
        );
        for (var i = 0; i < images; i++)
        {
            File.WriteAllText(
                Path.Combine(definitions, ImageName(i) + ".yaml"),
                shipped.Replace(
                    "name: debian-11-cis",
                    "name: " + ImageName(i),
                    StringComparison.Ordinal
                )
            );
        }

        return ContentPaths.UnderRoot(RepoPaths.Root) with
        {
            Definitions = definitions,
        };
    }

    /// <summary>
    /// Writes <paramref name="versionsEach"/> versions of each of <paramref name="images"/> images straight into the
    /// SQLite catalog at <paramref name="path"/> (created by <see cref="Catalog.OpenAsync(string, TimeProvider, CancellationToken)"/>):
    /// two a day from 2025-03-01, every 23rd rejected, the local target's rootfs and disk as artifacts, the evidence
    /// rows of a local build (files not written), the base as lineage, and dev, staging and prod pointing at three of
    /// the newest versions with one promotion in ten versions as their history.
    /// </summary>
    public static async Task FillAsync(string path, int images, int versionsEach)
    {
        await using var db = new SqliteConnection($"Data Source={path}");
        await db.OpenAsync();
        await using var tx = (SqliteTransaction)await db.BeginTransactionAsync();
        var statements = new Statements(db, tx);
        var start = new DateTime(2025, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        var build = 0;
        for (var image = 0; image < images; image++)
        {
            var name = ImageName(image);
            await statements.RunAsync(
                "INSERT INTO images (image) VALUES ($image)",
                ("$image", name)
            );
            var numbers = new List<string>();
            for (var i = 0; i < versionsEach; i++)
            {
                build++;
                var day = start.AddDays(i / 2);
                var seq = i % 2 + 1;
                var dayText = day.ToString("yyyy.MM.dd", CultureInfo.InvariantCulture);
                var number = $"{dayText}.{seq}";
                numbers.Add(number);
                var at = Time(day.AddHours(2 + seq));
                await statements.RunAsync(
                    "INSERT INTO builds (id, image, target, \"trigger\", requester, fingerprint, started_at, ended_at, status, version) "
                        + "VALUES ($id, $image, 'local', 'schedule', 'scheduler', $fp, $at, $at, 'succeeded', $v)",
                    ("$id", build),
                    ("$image", name),
                    ("$fp", $"fp-{build}"),
                    ("$at", at),
                    ("$v", number)
                );
                await statements.RunAsync(
                    "INSERT INTO image_versions (image, version, version_day, version_seq, build_id, created_at, status, fingerprint) "
                        + "VALUES ($image, $v, $day, $seq, $id, $at, $status, $fp)",
                    ("$image", name),
                    ("$v", number),
                    ("$day", dayText),
                    ("$seq", seq),
                    ("$id", build),
                    ("$at", at),
                    ("$status", i % 23 == 22 ? "rejected" : "built"),
                    ("$fp", $"fp-{build}")
                );
                var folder = $"artifacts/{name}/{build}";
                var position = 0;
                foreach (var (file, kind, size) in ArtifactFiles)
                {
                    await statements.RunAsync(
                        "INSERT INTO artifacts (image, version, position, target, region, kind, location, sha256, size_bytes, in_data_dir) "
                            + "VALUES ($image, $v, $pos, 'local', 'local', $kind, $loc, $sha, $size, 1)",
                        ("$image", name),
                        ("$v", number),
                        ("$pos", position++),
                        ("$kind", kind),
                        ("$loc", $"{folder}/{file}"),
                        ("$sha", Digest($"{build}/{file}")),
                        ("$size", size)
                    );
                }

                foreach (var (file, kind, mediaType) in EvidenceFiles)
                {
                    await statements.RunAsync(
                        "INSERT INTO evidence (image, version, kind, location, sha256, size_bytes, media_type, recorded_at, in_data_dir) "
                            + "VALUES ($image, $v, $kind, $loc, $sha, 4096, $media, $at, 1)",
                        ("$image", name),
                        ("$v", number),
                        ("$kind", kind),
                        ("$loc", $"{folder}/evidence/{file}"),
                        ("$sha", Digest($"{build}/evidence/{file}")),
                        ("$media", mediaType),
                        ("$at", at)
                    );
                }

                await statements.RunAsync(
                    "INSERT INTO version_lineage (image, version, base_image) VALUES ($image, $v, 'debian/bullseye')",
                    ("$image", name),
                    ("$v", number)
                );
            }

            await statements.RunAsync(
                "UPDATE images SET version_count = $count, (latest_version, latest_created_at) = "
                    + "(SELECT version, created_at FROM image_versions WHERE image = $image ORDER BY version_day DESC, version_seq DESC LIMIT 1) "
                    + "WHERE image = $image",
                ("$image", name),
                ("$count", versionsEach)
            );
            await ChannelsAsync(statements, name, numbers, start);
        }

        await tx.CommitAsync();
    }

    /// <summary>The local target's artifacts as the shipped definition (raw disk) records them, with their sizes.</summary>
    public static readonly (string File, string Kind, long Size)[] ArtifactFiles =
    [
        ("rootfs.tar.zst", "rootfs-tar-zst", 128L << 20),
        ("disk.raw", "disk-raw", 2L << 30),
    ];

    // One promotion to dev in ten versions, staging and prod following dev ten and twenty versions later.
    private static async Task ChannelsAsync(
        Statements statements,
        string image,
        List<string> numbers,
        DateTime start
    )
    {
        var last = new Dictionary<string, (string Version, long Id)>(StringComparer.Ordinal);
        for (var i = 9; i < numbers.Count; i += 10)
        {
            foreach (
                var (channel, index) in new[] { ("dev", i), ("staging", i - 10), ("prod", i - 20) }
            )
            {
                if (index < 0)
                {
                    continue;
                }

                var previous = last.TryGetValue(channel, out var p) ? p.Version : null;
                var id = await statements.InsertAsync(
                    "INSERT INTO channel_assignments (image, channel, version, previous_version, action, actor, reason, at) "
                        + "VALUES ($image, $channel, $v, $prev, 'promote', 'release-bot', NULL, $at) RETURNING id",
                    ("$image", image),
                    ("$channel", channel),
                    ("$v", numbers[index]),
                    ("$prev", previous),
                    ("$at", Time(start.AddDays(i / 2).AddHours(6)))
                );
                last[channel] = (numbers[index], id);
            }
        }

        foreach (var (channel, (version, id)) in last)
        {
            await statements.RunAsync(
                "INSERT INTO channel_pointers (image, channel, version, assignment_id) VALUES ($image, $channel, $v, $id)",
                ("$image", image),
                ("$channel", channel),
                ("$v", version),
                ("$id", id)
            );
        }
    }

    /// <summary>
    /// Records one version of <paramref name="image"/> as the pipeline records a local build: build row, reserved
    /// number, the artifacts as sparse files of the local target's sizes (re-hashing them costs what it costs for real
    /// data, without taking the disk), the evidence documents written with the product's writers (400 packages as
    /// inventory, CycloneDX and SPDX, 60 findings, a compliance summary, an anomaly report, XCCDF results and reports of
    /// their usual size), and the provenance collector's signature over all of it.
    /// </summary>
    public static async Task<ImageVersion> RecordSignedAsync(
        string dataDir,
        ContentPaths content,
        string image,
        TimeProvider time
    )
    {
        var set = DefinitionLoader.Load(
            content,
            DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime),
            CliComposition.Providers()
        );
        var definition = set.FindImage(image)!;
        var baseline = set.FindBaseline(definition.Baseline)!;
        await using var catalog = await Catalog.OpenAsync(dataDir, time);
        var build = await catalog.StartBuildAsync(
            new NewBuild(image, "local", BuildTrigger.Manual, "bench", null, "fp-signed"),
            Environment.ProcessId
        );
        var version = await catalog.ReserveVersionAsync(build.Id, time.GetUtcNow());
        var output = new DataPaths(dataDir).ArtifactsFor(image, build.Id);
        var evidenceDir = Path.Combine(output, "evidence");
        Directory.CreateDirectory(evidenceDir);
        var artifacts = new List<Artifact>();
        foreach (var (file, kind, size) in ArtifactFiles)
        {
            var path = Path.Combine(output, file);
            await using (var stream = File.Create(path))
            {
                stream.SetLength(size);
            }

            artifacts.Add(
                new Artifact
                {
                    Target = "local",
                    Region = "local",
                    Kind = kind,
                    Location = path,
                    Sha256 = await ZerosDigestAsync(path, size),
                    SizeBytes = size,
                }
            );
        }

        var now = time.GetUtcNow();
        var documents = Documents(image, version, build.Id, definition, baseline.Name, now);
        var evidence = new List<EvidenceDocument>();
        foreach (
            var (file, kind, mediaType) in EvidenceFiles.Where(e => documents.ContainsKey(e.File))
        )
        {
            evidence.Add(
                await Core.Sbom.EvidenceFiles.WriteAsync(
                    Path.Combine(evidenceDir, file),
                    documents[file],
                    kind,
                    mediaType
                )
            );
        }

        var signer = Signers.Create(null, dataDir);
        var signature = await new ProvenanceCollector(
            signer,
            content,
            (id, ct) => catalog.GetBuildAsync(id, ct)
        ).CollectAsync(
            new EvidenceContext(
                definition,
                baseline,
                definition.Targets[0],
                version,
                build.Id,
                artifacts,
                evidence,
                evidenceDir,
                now
            )
            {
                BaseImage = CliComposition
                    .Providers()
                    .Get(definition.Targets[0].Provider)
                    .BaseImage(definition, definition.Targets[0]),
            },
            new NoSink()
        );
        (signer as IDisposable)?.Dispose();
        return await catalog.CompleteBuildAsync(
            build.Id,
            artifacts,
            [.. evidence, .. signature],
            VersionStatus.Built,
            time.GetUtcNow()
        );
    }

    // Every evidence document but the signature's, by file name.
    private static Dictionary<string, byte[]> Documents(
        string image,
        string version,
        string buildId,
        ImageDefinition definition,
        string baseline,
        DateTimeOffset now
    )
    {
        var packages = Enumerable
            .Range(0, 400)
            .Select(i => new InstalledPackage(
                $"package-{i:000}",
                $"1.{i % 17}.{i % 5}-{i % 3 + 1}+deb11u{i % 4}",
                i % 9 == 0 ? "all" : "amd64",
                $"source-{i / 3:000}",
                $"1.{i % 17}.{i % 5}-{i % 3 + 1}",
                "Debian Maintainers <debian-devel@lists.debian.org>",
                64 + i * 13 % 4000,
                i % 4 == 0 ? "GPL-2.0-or-later" : "MIT"
            ))
            .ToList();
        var inventory = new PackageInventory(packages);
        var subject = new SbomSubject(
            image,
            version,
            buildId,
            definition.Description,
            definition.Os
        );
        var tsv = new StringWriter(CultureInfo.InvariantCulture);
        inventory.Write(tsv);
        var findings = Enumerable
            .Range(0, 60)
            .Select(i => new Finding(
                $"DSA-{5000 + i}-1",
                [$"CVE-2026-{1000 + i * 7}"],
                packages[i * 6].Name,
                packages[i * 6].SourceName,
                packages[i * 6].Version,
                i % 3 == 0 ? null : packages[i * 6].Version + ".1",
                (Severity)(i % 5 + 1),
                i % 10,
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "debian-security",
                $"vulnerability {i} in {packages[i * 6].SourceName}"
            ))
            .ToList();
        var rules = Enumerable
            .Range(0, 12)
            .Select(i => new FailedRule(
                $"xccdf_org.ssgproject.content_rule_rule_{i}",
                $"Rule {i} of the profile",
                i % 2 == 0 ? "medium" : "low",
                RuleOutcome.Fail
            ))
            .ToList();
        var compliance = new ComplianceSummary
        {
            Image = image,
            Version = version,
            Baseline = baseline,
            Datastream = "ssg-debian11-ds.xml",
            Profile = "xccdf_org.ssgproject.content_profile_anssi_bp28_high",
            MinScore = 80,
            EvaluatedAt = now,
            Before = new ScanCounts
            {
                Pass = 120,
                Fail = 180,
                NotApplicable = 40,
                Score = 40.0,
            },
            After = new ScanCounts
            {
                Pass = 281,
                Fail = 12,
                NotApplicable = 40,
                Waived = 7,
                Score = 93.7,
            },
            FailedRules = rules,
            UnknownRules = [],
            Waivers =
            [
                .. Enumerable
                    .Range(0, 7)
                    .Select(i => new WaiverStatus(
                        $"xccdf_org.ssgproject.content_rule_waived_{i}",
                        $"Waived rule {i}",
                        "accepted for the build network",
                        "security-team",
                        new DateOnly(2027, 6, 30),
                        WaiverState.Applied
                    )),
            ],
            Tailoring = [],
            Verdict = new ComplianceVerdict(true, [], [], false),
        };
        var anomalies = new AnomalyReport
        {
            Image = image,
            Version = version,
            Target = "local",
            ComparedWith = ["2025.11.06.1", "2025.11.06.2"],
            Anomalies =
            [
                new Anomaly
                {
                    Id = Anomaly.IdOf("enabled_unit", "nginx.service"),
                    Signal = "enabled_unit",
                    Detector = AnomalyDetectorKind.FirstSeen,
                    Severity = AnomalySeverity.Medium,
                    Subject = "nginx.service",
                    Baseline = "absent in the last 20 builds",
                    Explanation = "new enabled service nginx.service: absent in the last 20 builds",
                },
            ],
        };
        return new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["disk.json"] = Filler("{\"partitions\": []}\n", 4 << 10),
            ["packages.tsv"] = Encoding.UTF8.GetBytes(tsv.ToString()),
            ["hardening-report.tsv"] = Filler("rule\tstatus\tdetail\n", 60 << 10),
            ["compliance-before-results.xml"] = Filler("<rule-result/>\n", 1536 << 10),
            ["compliance-before-report.html"] = Filler("<tr><td>rule</td></tr>\n", 1024 << 10),
            ["compliance-after-results.xml"] = Filler("<rule-result/>\n", 1536 << 10),
            ["compliance-after-report.html"] = Filler("<tr><td>rule</td></tr>\n", 1024 << 10),
            ["image-facts.json"] = Filler("{\"facts\": []}\n", 80 << 10),
            ["boot-test.json"] = Filler("{\"booted\": true}\n", 2 << 10),
            ["boot-test-console.log"] = Filler("[    0.000000] Linux version 5.10\n", 200 << 10),
            ["compliance-summary.json"] = Encoding.UTF8.GetBytes(compliance.ToJson()),
            ["sbom.cdx.json"] = SbomWriter.CycloneDx(inventory, subject, now, Guid.NewGuid()),
            ["sbom.spdx.json"] = SbomWriter.Spdx(
                inventory,
                subject,
                now,
                SbomWriter.SpdxNamespace(subject, Guid.NewGuid())
            ),
            ["vulnerability-findings.json"] = FindingsDocument
                .From(image, version, now, new ScanResult(findings, [], [], [], []))
                .ToJson(),
            ["anomalies.json"] = anomalies.ToJson(),
            ["gate-decision.json"] = JsonSerializer.SerializeToUtf8Bytes(
                new
                {
                    decision = "pass",
                    baseline,
                    evaluated_at = now,
                    reasons = Array.Empty<object>(),
                }
            ),
        };
    }

    // A document of a kind the version page only hashes, of its usual size.
    private static byte[] Filler(string line, int size)
    {
        var text = new StringBuilder(size + line.Length);
        while (text.Length < size)
        {
            text.Append(line);
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    // A sparse file is zeros: its digest depends on its size only, so each size is hashed once.
    private static readonly Dictionary<long, string> ZeroDigests = [];

    private static async Task<string> ZerosDigestAsync(string path, long size)
    {
        if (!ZeroDigests.TryGetValue(size, out var digest))
        {
            await using var stream = File.OpenRead(path);
            digest = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
            ZeroDigests[size] = digest;
        }

        return digest;
    }

    private static string Digest(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string Time(DateTime at) =>
        at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private sealed class NoSink : ITargetBuildSink
    {
        public void Progress(string stage, string detail) { }

        public void Log(string stream, string text) { }

        public void ToolStarted(int processGroup) { }
    }

    // Prepared statements by text, reused across rows, inside the one transaction of the fill.
    private sealed class Statements(SqliteConnection db, SqliteTransaction tx)
    {
        private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

        public async Task RunAsync(string sql, params (string Name, object? Value)[] values) =>
            await Command(sql, values).ExecuteNonQueryAsync();

        public async Task<long> InsertAsync(
            string sql,
            params (string Name, object? Value)[] values
        ) => (long)(await Command(sql, values).ExecuteScalarAsync())!;

        private SqliteCommand Command(string sql, (string Name, object? Value)[] values)
        {
            if (!_commands.TryGetValue(sql, out var command))
            {
                command = db.CreateCommand();
                command.CommandText = sql;
                command.Transaction = tx;
                foreach (var (name, _) in values)
                {
                    command.Parameters.Add(new SqliteParameter(name, null));
                }

                _commands[sql] = command;
            }

            foreach (var (name, value) in values)
            {
                command.Parameters[name].Value = value ?? DBNull.Value;
            }

            return command;
        }
    }
}
