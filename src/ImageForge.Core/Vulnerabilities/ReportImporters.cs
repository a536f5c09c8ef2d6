using System.Text.Json;
using ImageForge.Core.Errors;

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

    /// <summary>Reads a report, telling Trivy from Grype by its shape.</summary>
    public static IReadOnlyList<Finding> Import(string path)
    {
        using var doc = Open(path);
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("SchemaVersion", out _))
        {
            return Trivy(root, path);
        }
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("matches", out _))
        {
            return Grype(root, path);
        }
        throw new InvalidInputException(
            $"{path}: neither a Trivy JSON report (SchemaVersion, Results) nor a Grype JSON report (matches)"
        );
    }

    /// <summary>A Trivy JSON report.</summary>
    public static IReadOnlyList<Finding> ImportTrivy(string path)
    {
        using var doc = Open(path);
        return Trivy(doc.RootElement, path);
    }

    /// <summary>A Grype JSON report.</summary>
    public static IReadOnlyList<Finding> ImportGrype(string path)
    {
        using var doc = Open(path);
        return Grype(doc.RootElement, path);
    }

    private static JsonDocument Open(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{path}: not valid JSON: {e.Message}");
        }
        catch (IOException e)
        {
            throw new InvalidInputException($"{path}: cannot be read: {e.Message}");
        }
    }

    private static List<Finding> Trivy(JsonElement root, string path)
    {
        if (
            root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("SchemaVersion", out var schema)
            || schema.ValueKind != JsonValueKind.Number
        )
        {
            throw new InvalidInputException(
                $"{path}: not a Trivy JSON report (no numeric SchemaVersion)"
            );
        }
        if (schema.GetInt32() != TrivySchemaVersion)
        {
            throw new InvalidInputException(
                $"{path}: Trivy report schema version {schema.GetRawText()} is not supported; expected {TrivySchemaVersion} (Trivy 0.20 or later with --format json)"
            );
        }
        var findings = new List<Finding>();
        try
        {
            if (
                !root.TryGetProperty("Results", out var results)
                || results.ValueKind != JsonValueKind.Array
            )
            {
                return findings;
            }
            foreach (var result in results.EnumerateArray())
            {
                if (
                    !result.TryGetProperty("Vulnerabilities", out var vulns)
                    || vulns.ValueKind != JsonValueKind.Array
                )
                {
                    continue;
                }
                foreach (var v in vulns.EnumerateArray())
                {
                    var id = v.GetProperty("VulnerabilityID").GetString()!;
                    var aliases = Strings(v, "VendorIDs")
                        .Where(a => a != id)
                        .Order(StringComparer.Ordinal)
                        .ToList();
                    var (score, vector) = TrivyCvss(v);
                    var severity = Severities.Parse(Str(v, "Severity"));
                    findings.Add(
                        new Finding(
                            id,
                            aliases,
                            v.GetProperty("PkgName").GetString()!,
                            Str(v, "SrcName"),
                            v.GetProperty("InstalledVersion").GetString()!,
                            NullIfEmpty(Str(v, "FixedVersion")),
                            severity == Severity.Unknown && score is { } s
                                ? Severities.FromScore(s)
                                : severity,
                            score,
                            vector,
                            "trivy",
                            Str(v, "Title")
                        )
                    );
                }
            }
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidInputException(
                $"{path}: malformed Trivy vulnerability entry: {e.Message}"
            );
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
                source.Value.TryGetProperty("V3Score", out var score)
                && score.ValueKind == JsonValueKind.Number
            )
            {
                return (score.GetDouble(), Str(source.Value, "V3Vector"));
            }
        }
        return (null, null);
    }

    private static List<Finding> Grype(JsonElement root, string path)
    {
        if (
            root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("matches", out var matches)
            || matches.ValueKind != JsonValueKind.Array
        )
        {
            throw new InvalidInputException($"{path}: not a Grype JSON report (no matches array)");
        }
        var findings = new List<Finding>();
        try
        {
            foreach (var m in matches.EnumerateArray())
            {
                var vuln = m.GetProperty("vulnerability");
                var artifact = m.GetProperty("artifact");
                var id = vuln.GetProperty("id").GetString()!;
                var aliases = new SortedSet<string>(StringComparer.Ordinal);
                var (score, vector) = GrypeCvss(vuln);
                if (m.TryGetProperty("relatedVulnerabilities", out var related))
                {
                    foreach (var r in related.EnumerateArray())
                    {
                        var rid = r.GetProperty("id").GetString()!;
                        if (rid != id)
                        {
                            aliases.Add(rid);
                        }
                        if (score is null)
                        {
                            (score, vector) = GrypeCvss(r);
                        }
                    }
                }
                string? fixedVersion = null;
                if (
                    vuln.TryGetProperty("fix", out var fix)
                    && fix.TryGetProperty("versions", out var versions)
                    && versions.ValueKind == JsonValueKind.Array
                )
                {
                    fixedVersion = versions
                        .EnumerateArray()
                        .Select(x => x.GetString())
                        .FirstOrDefault();
                }
                string? upstream = null;
                if (
                    artifact.TryGetProperty("upstreams", out var ups)
                    && ups.ValueKind == JsonValueKind.Array
                )
                {
                    upstream = ups.EnumerateArray().Select(u => Str(u, "name")).FirstOrDefault();
                }
                var severity = Severities.Parse(Str(vuln, "severity"));
                findings.Add(
                    new Finding(
                        id,
                        [.. aliases],
                        artifact.GetProperty("name").GetString()!,
                        upstream,
                        artifact.GetProperty("version").GetString()!,
                        NullIfEmpty(fixedVersion),
                        severity == Severity.Unknown && score is { } s
                            ? Severities.FromScore(s)
                            : severity,
                        score,
                        vector,
                        "grype",
                        Str(vuln, "description") is { } d ? FirstLine(d) : null
                    )
                );
            }
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidInputException($"{path}: malformed Grype match: {e.Message}");
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
                c.TryGetProperty("metrics", out var metrics)
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
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
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
