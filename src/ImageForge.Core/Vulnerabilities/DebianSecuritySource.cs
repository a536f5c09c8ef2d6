using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using ImageForge.Core.Inventory;

namespace ImageForge.Core.Vulnerabilities;

/// <summary>Reads files out of a downloaded <c>.deb</c> (port; the Toolchain implements it with dpkg-deb).</summary>
public interface IDebPackageReader
{
    /// <summary>
    /// The text of <c>/usr/share/doc/&lt;package&gt;/changelog.Debian.gz</c> in the .deb, decompressed, or null
    /// when the package has none (its doc directory is a symlink to another package's).
    /// </summary>
    Task<string?> ReadChangelogAsync(
        string debPath,
        string package,
        CancellationToken cancellationToken = default
    );
}

/// <summary>One entry of a Debian changelog: its version and the CVE ids it mentions.</summary>
internal sealed record ChangelogEntry(string Version, IReadOnlyList<string> Cves);

/// <summary>
/// The Debian security suite as a vulnerability source: installed packages older than their candidate in
/// <c>&lt;suite&gt;-security</c> (read from the mirror's Packages index), with the CVE ids the newer version fixes,
/// taken from the changelog entries newer than the installed source version in the candidate's .deb.
/// Downloads are cached below the cache directory by their pool file name (which never changes content).
/// </summary>
public sealed partial class DebianSecuritySource(
    HttpClient http,
    IDebPackageReader debs,
    string cacheDirectory
)
{
    /// <summary>The name findings carry as their source.</summary>
    public const string Name = "debian-security";

    /// <summary>Scans an inventory against <paramref name="securityMirror"/> for <paramref name="suite"/> (bullseye, bookworm).</summary>
    public async Task<(IReadOnlyList<Finding> Findings, string Detail)> ScanAsync(
        PackageInventory inventory,
        string securityMirror,
        string suite,
        CancellationToken cancellationToken = default
    )
    {
        var arch =
            inventory
                .Packages.Where(p => p.Architecture != "all")
                .GroupBy(p => p.Architecture, StringComparer.Ordinal)
                .OrderByDescending(g => g.Count())
                .Select(g => g.Key)
                .FirstOrDefault()
            ?? "amd64";
        var dist = suite is "buster" or "stretch" or "jessie"
            ? $"{suite}/updates"
            : $"{suite}-security";
        var mirror = securityMirror.TrimEnd('/');
        var indexUrl = $"{mirror}/dists/{dist}/main/binary-{arch}/Packages.gz";
        var index = await DownloadIndexAsync(indexUrl, cancellationToken);
        var candidates = ParsePackages(index);

        var outdated = new List<(InstalledPackage Installed, DebianArchivePackage Candidate)>();
        foreach (var p in inventory.Packages)
        {
            if (
                candidates.TryGetValue(p.Name, out var c)
                && (
                    c.Architecture == p.Architecture
                    || c.Architecture == "all"
                    || p.Architecture == "all"
                )
                && DebianVersionComparer.Instance.Compare(p.Version, c.Version) < 0
            )
            {
                outdated.Add((p, c));
            }
        }

        var findings = new List<Finding>();
        var groups = outdated
            .GroupBy(o => (o.Candidate.SourceName, o.Candidate.SourceVersion))
            .OrderBy(g => g.Key.SourceName, StringComparer.Ordinal)
            .ToList();
        await Parallel.ForEachAsync(
            groups,
            new ParallelOptions
            {
                MaxDegreeOfParallelism = 4,
                CancellationToken = cancellationToken,
            },
            async (group, ct) =>
            {
                var entries = await ChangelogAsync(mirror, group.Select(g => g.Candidate), ct);
                var local = new List<Finding>();
                foreach (var (installed, candidate) in group)
                {
                    var cves = entries
                        .Where(e =>
                            DebianVersionComparer.Instance.Compare(
                                e.Version,
                                installed.SourceVersion
                            ) > 0
                        )
                        .SelectMany(e => e.Cves)
                        .Distinct(StringComparer.Ordinal)
                        .Order(StringComparer.Ordinal)
                        .ToList();
                    var title =
                        $"{installed.Name} {candidate.Version} in {dist} (source {candidate.SourceName} {candidate.SourceVersion})";
                    if (cves.Count == 0)
                    {
                        local.Add(
                            Make(
                                $"DEBIAN-SECURITY-{candidate.SourceName}-{candidate.SourceVersion}",
                                installed,
                                candidate,
                                title + "; its changelog names no CVE id"
                            )
                        );
                    }
                    foreach (var cve in cves)
                    {
                        local.Add(Make(cve, installed, candidate, title));
                    }
                }
                lock (findings)
                {
                    findings.AddRange(local);
                }
            }
        );
        var sorted = findings
            .OrderBy(f => f.Package, StringComparer.Ordinal)
            .ThenBy(f => f.Advisory, StringComparer.Ordinal)
            .ToList();
        return (
            sorted,
            $"{indexUrl}: {outdated.Count} of {inventory.Packages.Count} packages have a newer version in {dist}"
        );
    }

    private static Finding Make(
        string advisory,
        InstalledPackage installed,
        DebianArchivePackage candidate,
        string title
    ) =>
        new(
            advisory,
            [],
            installed.Name,
            installed.SourceName,
            installed.Version,
            candidate.Version,
            Severity.Unknown,
            null,
            null,
            Name,
            title
        );

    private async Task<IReadOnlyList<ChangelogEntry>> ChangelogAsync(
        string mirror,
        IEnumerable<DebianArchivePackage> binaries,
        CancellationToken cancellationToken
    )
    {
        // A binary whose doc directory is a symlink has no changelog of its own: try the next one of the source.
        foreach (
            var binary in binaries
                .OrderBy(b => b.Name == b.SourceName ? 0 : 1)
                .ThenBy(b => b.Name, StringComparer.Ordinal)
        )
        {
            var deb = await DownloadDebAsync($"{mirror}/{binary.Filename}", cancellationToken);
            var text = await debs.ReadChangelogAsync(deb, binary.Name, cancellationToken);
            if (text is not null)
            {
                return ParseChangelog(text);
            }
        }
        return [];
    }

    private async Task<string> DownloadIndexAsync(string url, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(
            url,
            HttpCompletionOption.ResponseHeadersRead,
            cancellationToken
        );
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"GET {url}: {(int)response.StatusCode} {response.ReasonPhrase}; check security_mirror and the suite"
            );
        }
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await using var gzip = new GZipStream(body, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    private async Task<string> DownloadDebAsync(string url, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(cacheDirectory, "debs");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, Path.GetFileName(new Uri(url).LocalPath));
        if (File.Exists(path))
        {
            return path;
        }
        using var response = await http.GetAsync(
            url,
            HttpCompletionOption.ResponseHeadersRead,
            cancellationToken
        );
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"GET {url}: {(int)response.StatusCode} {response.ReasonPhrase}"
            );
        }
        var partial = $"{path}.partial.{Environment.ProcessId}.{Guid.NewGuid():N}";
        await using (var file = File.Create(partial))
        {
            await response.Content.CopyToAsync(file, cancellationToken);
        }
        File.Move(partial, path, overwrite: true);
        return path;
    }

    /// <summary>Packages index stanzas by package name (the newest version when a name appears twice).</summary>
    internal static Dictionary<string, DebianArchivePackage> ParsePackages(string index) =>
        DebianPackagesIndex.Parse(index);

    /// <summary>The entries of a Debian changelog, newest first, with the CVE ids each one mentions.</summary>
    internal static IReadOnlyList<ChangelogEntry> ParseChangelog(string text)
    {
        var entries = new List<ChangelogEntry>();
        string? version = null;
        var cves = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var header = ChangelogHeader().Match(line);
            if (header.Success)
            {
                if (version is not null)
                {
                    entries.Add(new ChangelogEntry(version, [.. cves]));
                }
                version = header.Groups[1].Value;
                cves = new SortedSet<string>(StringComparer.Ordinal);
                continue;
            }
            if (version is null)
            {
                continue;
            }
            foreach (Match m in CveId().Matches(line))
            {
                cves.Add(m.Value.ToUpperInvariant());
            }
        }
        if (version is not null)
        {
            entries.Add(new ChangelogEntry(version, [.. cves]));
        }
        return entries;
    }

    // "openssl (1.1.1w-0+deb11u1) bullseye-security; urgency=medium"
    [GeneratedRegex(@"^[a-z0-9][a-z0-9+.\-]* \(([^)\s]+)\) [^;]*;")]
    private static partial Regex ChangelogHeader();

    [GeneratedRegex(@"CVE-\d{4}-\d{4,}", RegexOptions.IgnoreCase)]
    private static partial Regex CveId();
}
