namespace ImageForge.Core.Vulnerabilities;

/// <summary>Severity of a finding, lowest first. Unknown when no source rated it.</summary>
public enum Severity
{
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

/// <summary>
/// One known vulnerability in one installed package, whatever source found it.
/// </summary>
/// <param name="Advisory">The source's advisory id (CVE-2023-1234, DSA-5000-1, GHSA-..., RHSA-...).</param>
/// <param name="Aliases">Other ids of the same vulnerability (CVE ids among them), sorted, without <paramref name="Advisory"/>.</param>
/// <param name="Package">Installed binary package name.</param>
/// <param name="SourcePackage">Its source package, when known.</param>
/// <param name="InstalledVersion">The version installed in the image.</param>
/// <param name="FixedVersion">The first version without the vulnerability, when one exists.</param>
/// <param name="Severity">Severity, from the source's rating or the CVSS score.</param>
/// <param name="CvssScore">CVSS base score (v3 or v4) when known.</param>
/// <param name="CvssVector">The CVSS vector it was computed from or given with.</param>
/// <param name="Source">Which source found it: osv, debian-security, trivy, grype.</param>
/// <param name="Title">A one-line summary, when the source has one.</param>
public sealed record Finding(
    string Advisory,
    IReadOnlyList<string> Aliases,
    string Package,
    string? SourcePackage,
    string InstalledVersion,
    string? FixedVersion,
    Severity Severity,
    double? CvssScore,
    string? CvssVector,
    string Source,
    string? Title
)
{
    /// <summary>All ids: the advisory and its aliases.</summary>
    public IEnumerable<string> Ids => Aliases.Prepend(Advisory);

    /// <summary>The CVE ids among <see cref="Ids"/>.</summary>
    public IEnumerable<string> CveIds =>
        Ids.Where(id => id.StartsWith("CVE-", StringComparison.OrdinalIgnoreCase));

    /// <summary>Identity across scans: source, advisory and package.</summary>
    public string Key => $"{Source}|{Advisory}|{Package}";
}

/// <summary>A malformed input that a scan skipped or refused: the file and what is wrong with it.</summary>
public sealed record ScanProblem(string File, string Message)
{
    public override string ToString() => $"{File}: {Message}";
}

/// <summary>Severity names as the sources write them.</summary>
public static class Severities
{
    /// <summary>Parses LOW/Low/low, MODERATE/IMPORTANT (Red Hat), NEGLIGIBLE; anything else is Unknown.</summary>
    public static Severity Parse(string? text) =>
        text?.Trim().ToUpperInvariant() switch
        {
            "CRITICAL" => Severity.Critical,
            "HIGH" or "IMPORTANT" => Severity.High,
            "MEDIUM" or "MODERATE" => Severity.Medium,
            "LOW" => Severity.Low,
            "NEGLIGIBLE" or "UNIMPORTANT" or "NONE" => Severity.Negligible,
            _ => Severity.Unknown,
        };

    /// <summary>The qualitative rating of a CVSS v3/v4 base score.</summary>
    public static Severity FromScore(double score) =>
        score switch
        {
            >= 9.0 => Severity.Critical,
            >= 7.0 => Severity.High,
            >= 4.0 => Severity.Medium,
            > 0.0 => Severity.Low,
            _ => Severity.Negligible,
        };

    /// <summary>lower-case name for documents.</summary>
    public static string Name(Severity s) => s.ToString().ToLowerInvariant();
}
