using System.Text.Json;
using ImageForge.Core.Errors;
using ImageForge.Core.Inputs;

namespace ImageForge.Core.Vulnerabilities;

/// <summary>
/// Imports the JSON reports Trivy (<c>trivy ... --format json</c>, schema version 2) and Grype (<c>grype -o json</c>)
/// write inside cloud builds. A file that is not valid JSON, not such a report, or a Trivy report of another
/// schema version is refused with an <see cref="InvalidInputException"/> naming the file.
/// </summary>
internal static class ReportImporters
{
    /// <summary>The Trivy JSON schema version this importer reads.</summary>
    public const int TrivySchemaVersion = 2;

    private const string What = "a Trivy or Grype JSON report";

    /// <summary>Reads a report, telling Trivy from Grype by its shape.</summary>
    public static IReadOnlyList<Finding> Import(string path)
    {
        using var doc = JsonInput.ParseObjectFile(path, What);
        var root = JsonValueAt.Root(doc, path);
        if (root.Optional("SchemaVersion") is not null)
        {
            return Trivy(root);
        }
        if (root.Optional("matches") is not null)
        {
            return Grype(root);
        }
        throw root.Error(
            "neither a Trivy JSON report (SchemaVersion, Results) nor a Grype JSON report (matches)"
        );
    }

    /// <summary>A Trivy JSON report.</summary>
    public static IReadOnlyList<Finding> ImportTrivy(string path)
    {
        using var doc = JsonInput.ParseObjectFile(path, "a Trivy JSON report");
        return Trivy(JsonValueAt.Root(doc, path));
    }

    /// <summary>A Grype JSON report.</summary>
    public static IReadOnlyList<Finding> ImportGrype(string path)
    {
        using var doc = JsonInput.ParseObjectFile(path, "a Grype JSON report");
        return Grype(JsonValueAt.Root(doc, path));
    }

    private static List<Finding> Trivy(JsonValueAt root)
    {
        if (root.Optional("SchemaVersion") is not { Kind: JsonValueKind.Number } schema)
        {
            throw root.Error("not a Trivy JSON report (no numeric SchemaVersion)");
        }
        if (!schema.Value.TryGetInt32(out var version) || version != TrivySchemaVersion)
        {
            throw root.Error(
                $"Trivy report schema version {schema.Value.GetRawText()} is not supported; expected {TrivySchemaVersion} (Trivy 0.20 or later with --format json)"
            );
        }
        var findings = new List<Finding>();
        // Results and Vulnerabilities are left out, not empty, when there is nothing to report.
        foreach (var result in root.Optional("Results")?.Items() ?? [])
        {
            foreach (var v in result.Optional("Vulnerabilities")?.Items() ?? [])
            {
                var id = v.Required("VulnerabilityID").AsString();
                var aliases = Strings(v.Value, "VendorIDs")
                    .Where(a => a != id)
                    .Order(StringComparer.Ordinal)
                    .ToList();
                var (score, vector) = TrivyCvss(v.Value);
                var severity = Severities.Parse(Str(v.Value, "Severity"));
                findings.Add(
                    new Finding(
                        id,
                        aliases,
                        v.Required("PkgName").AsString(),
                        Str(v.Value, "SrcName"),
                        v.Required("InstalledVersion").AsString(),
                        NullIfEmpty(Str(v.Value, "FixedVersion")),
                        severity == Severity.Unknown && score is { } s
                            ? Severities.FromScore(s)
                            : severity,
                        score,
                        vector,
                        "trivy",
                        Str(v.Value, "Title")
                    )
                );
            }
        }
        return findings;
    }

    private static (double? Score, string? Vector) TrivyCvss(JsonElement v)
    {
        if (!v.TryGetProperty("CVSS", out var cvss) || cvss.ValueKind != JsonValueKind.Object)
        {
            return (null, null);
        }
        // Prefer the severity source's own rating, then NVD, then any.
        var preferred = Str(v, "SeveritySource");
        var sources = cvss.EnumerateObject()
            .OrderBy(p =>
                p.Name == preferred ? 0
                : p.Name == "nvd" ? 1
                : 2
            )
            .ThenBy(p => p.Name, StringComparer.Ordinal);
        foreach (var source in sources)
        {
            if (
                source.Value.ValueKind == JsonValueKind.Object
                && source.Value.TryGetProperty("V3Score", out var score)
                && score.ValueKind == JsonValueKind.Number
            )
            {
                return (score.GetDouble(), Str(source.Value, "V3Vector"));
            }
        }
        return (null, null);
    }

    private static List<Finding> Grype(JsonValueAt root)
    {
        if (root.Optional("matches") is not { Kind: JsonValueKind.Array } matches)
        {
            throw root.Error("not a Grype JSON report (no matches array)");
        }
        var findings = new List<Finding>();
        foreach (var m in matches.Items())
        {
            var vuln = m.Required("vulnerability").AsObject();
            var artifact = m.Required("artifact").AsObject();
            var id = vuln.Required("id").AsString();
            var aliases = new SortedSet<string>(StringComparer.Ordinal);
            var (score, vector) = GrypeCvss(vuln.Value);
            foreach (var r in m.Optional("relatedVulnerabilities")?.Items() ?? [])
            {
                var rid = r.Required("id").AsString();
                if (rid != id)
                {
                    aliases.Add(rid);
                }
                if (score is null)
                {
                    (score, vector) = GrypeCvss(r.Value);
                }
            }
            var fixedVersion = vuln.Optional("fix")
                ?.Optional("versions")
                ?.Items()
                .Select(x => x.AsString())
                .FirstOrDefault();
            var upstream = artifact
                .Optional("upstreams")
                ?.Items()
                .Select(u => Str(u.Value, "name"))
                .FirstOrDefault();
            var severity = Severities.Parse(Str(vuln.Value, "severity"));
            findings.Add(
                new Finding(
                    id,
                    [.. aliases],
                    artifact.Required("name").AsString(),
                    upstream,
                    artifact.Required("version").AsString(),
                    NullIfEmpty(fixedVersion),
                    severity == Severity.Unknown && score is { } s
                        ? Severities.FromScore(s)
                        : severity,
                    score,
                    vector,
                    "grype",
                    Str(vuln.Value, "description") is { } d ? FirstLine(d) : null
                )
            );
        }
        return findings;
    }

    private static (double? Score, string? Vector) GrypeCvss(JsonElement vuln)
    {
        if (!vuln.TryGetProperty("cvss", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return (null, null);
        }
        foreach (var c in list.EnumerateArray().OrderByDescending(c => Str(c, "version")))
        {
            if (
                c.ValueKind == JsonValueKind.Object
                && c.TryGetProperty("metrics", out var metrics)
                && metrics.ValueKind == JsonValueKind.Object
                && metrics.TryGetProperty("baseScore", out var score)
                && score.ValueKind == JsonValueKind.Number
            )
            {
                return (score.GetDouble(), Str(c, "vector"));
            }
        }
        return (null, null);
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object
        && e.TryGetProperty(name, out var v)
        && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;

    private static IEnumerable<string> Strings(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object
        && e.TryGetProperty(name, out var v)
        && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray()
                .Where(x => x.ValueKind == JsonValueKind.String)
                .Select(x => x.GetString()!)
            : [];

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length > 200 ? line[..200] + "..." : line;
    }
}
