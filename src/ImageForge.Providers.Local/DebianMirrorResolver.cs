using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using ImageForge.Core.Builds;
using ImageForge.Core.Definitions;
using ImageForge.Core.Errors;
using ImageForge.Core.Vulnerabilities;

namespace ImageForge.Providers.Local;

/// <summary>
/// What the local target would install if it built now, read from its apt mirrors: for each suite the build uses
/// (<c>base_image</c> from <c>options.mirror</c>, and its security suite from <c>options.security_mirror</c> when
/// <c>security_updates</c> is true, exactly the sources <c>templates/packer/local/scripts/bootstrap.sh</c> gives
/// mmdebstrap), the Release file and the <c>main/binary-&lt;arch&gt;/Packages.gz</c> it lists, verified against the
/// Release's SHA256. A package's candidate is its highest version across those suites, as apt picks it.
/// <para>
/// Each parsed index is cached below the cache directory by the sha256 the Release gives for it, so a suite whose
/// Release is unchanged costs one small download. The Release's PGP signature is not checked here: apt checks it
/// when the build runs, and a forged Release can only make this resolver report a change.
/// </para>
/// </summary>
/// <param name="http">The client for the mirrors (its timeout applies to each request).</param>
/// <param name="cacheDirectory">Where parsed indexes are kept, e.g. <c>&lt;data-dir&gt;/cache/local/mirror</c>.</param>
/// <param name="architecture">The dpkg architecture the build installs (the build host's), amd64 by default.</param>
public sealed class DebianMirrorResolver(
    HttpClient http,
    string cacheDirectory,
    string architecture = "amd64"
) : IInputResolver
{
    private const string CacheHeader = "imageforge-packages-index 1";

    // Requests for the same Release or the same Packages.gz while one is under way share it: twenty build requests
    // arriving together make one download each, not twenty. Finished work is not kept (a later call asks again).
    private readonly InFlight _inFlight = new();

    /// <inheritdoc />
    public string Provider => LocalProvider.ProviderName;

    /// <summary>
    /// Two entries: <c>base:&lt;base_image&gt;</c>, the sha256 of the sorted <c>suite codename</c> lines of the
    /// suites used (it changes when a suite name such as <c>stable</c> moves to another release, or when the security
    /// suite is switched on or off); and <c>packages</c>, the sha256 of the sorted <c>name=version</c> lines of the
    /// candidates of the requested packages and of every local disk's boot packages and kernel
    /// (<c>name=absent</c> for a package no suite has).
    /// </summary>
    public async Task<IReadOnlyList<(string Name, string Digest)>> ResolveAsync(
        TargetSpec target,
        IReadOnlyCollection<string> packages,
        CancellationToken cancellationToken = default
    )
    {
        if (target.Provider != Provider)
        {
            throw new ArgumentException(
                $"the {Provider} resolver cannot resolve a {target.Provider} target",
                nameof(target)
            );
        }
        // Every local disk also gets the boot packages and the kernel: a new kernel on the mirror is a change too.
        var requested = packages
            .Concat(LocalTargetBuilder.BootPackages)
            .Append(LocalTargetBuilder.KernelPackage)
            .ToHashSet(StringComparer.Ordinal);
        var suites = await Task.WhenAll(
            Suites(target)
                .Select(s => ResolveSuiteAsync(s.Mirror, s.Dist, requested, cancellationToken))
        );

        var candidates = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (_, versions) in suites)
        {
            foreach (var (name, version) in versions)
            {
                if (
                    !candidates.TryGetValue(name, out var best)
                    || DebianVersionComparer.Instance.Compare(version, best) > 0
                )
                {
                    candidates[name] = version;
                }
            }
        }

        var baseLines = suites.Select(s => s.Line);
        var packageLines = requested.Select(name =>
            $"{name}={(candidates.TryGetValue(name, out var v) ? v : "absent")}"
        );
        return
        [
            ($"base:{target.BaseImage}", Digest(baseLines)),
            ("packages", Digest(packageLines)),
        ];
    }

    /// <summary>The apt sources of a local build: (mirror root without a trailing slash, suite).</summary>
    internal static IReadOnlyList<(string Mirror, string Dist)> Suites(TargetSpec target)
    {
        var suite = target.BaseImage;
        var mirror = Required(target, "mirror");
        var suites = new List<(string, string)> { (mirror, suite) };
        if (target.Option("security_updates") == "true")
        {
            // Debian 10 and older name the security suite <suite>/updates (as bootstrap.sh does).
            var security = suite is "stretch" or "buster"
                ? $"{suite}/updates"
                : $"{suite}-security";
            suites.Add((Required(target, "security_mirror"), security));
        }
        return suites;
    }

    private static string Required(TargetSpec target, string option) =>
        target.Option(option)?.TrimEnd('/')
        ?? throw new InvalidInputException(
            $"the local target has no options.{option}; give the mirror's URL (docs/definitions.md, options)"
        );

    private async Task<(
        string Line,
        IReadOnlyDictionary<string, string> Versions
    )> ResolveSuiteAsync(
        string mirror,
        string dist,
        IReadOnlySet<string> requested,
        CancellationToken cancellationToken
    )
    {
        var (releaseUrl, release) = await _inFlight.RunAsync(
            $"release {mirror}/dists/{dist}",
            () => ReadReleaseAsync(mirror, dist, CancellationToken.None),
            cancellationToken
        );
        var path = $"main/binary-{architecture}/Packages.gz";
        if (!release.Sha256.TryGetValue(path, out var expected))
        {
            throw new ToolFailedException(
                "mirror",
                $"{releaseUrl} lists no SHA256 for {path}; check options.mirror, base_image and that the mirror carries {architecture}",
                []
            );
        }

        var cacheFile = Path.Combine(cacheDirectory, expected.Sha256 + ".index");
        var versions = ReadCachedIndex(cacheFile, requested);
        if (versions is null)
        {
            var url = $"{mirror}/dists/{dist}/{path}";
            await _inFlight.RunAsync(
                $"index {expected.Sha256}",
                async () =>
                {
                    await DownloadIndexAsync(
                        url,
                        releaseUrl,
                        expected,
                        cacheFile,
                        CancellationToken.None
                    );
                    return true;
                },
                cancellationToken
            );
            versions =
                ReadCachedIndex(cacheFile, requested)
                ?? throw new IOException($"{cacheFile} was written but cannot be read back");
        }
        return ($"{dist} {release.Codename ?? "(no codename)"}", versions);
    }

    private async Task<(string Url, ReleaseFile Release)> ReadReleaseAsync(
        string mirror,
        string dist,
        CancellationToken cancellationToken
    )
    {
        // InRelease is what apt reads first; mirrors that only carry the older Release (with Release.gpg) still work.
        string? lastUrl = null;
        foreach (var name in new[] { "InRelease", "Release" })
        {
            var url = $"{mirror}/dists/{dist}/{name}";
            lastUrl = url;
            var text = await SendAsync(
                url,
                allowNotFound: true,
                async (response, ct) =>
                    response.StatusCode == HttpStatusCode.NotFound
                        ? null
                        : await response.Content.ReadAsStringAsync(ct),
                cancellationToken
            );
            if (text is not null)
            {
                return (url, ParseRelease(text));
            }
        }
        throw new ToolFailedException(
            "mirror",
            $"GET {lastUrl}: 404 Not Found (and no InRelease either); check options.mirror and base_image '{dist}'",
            []
        );
    }

    private async Task DownloadIndexAsync(
        string url,
        string releaseUrl,
        (string Sha256, long Size) expected,
        string cacheFile,
        CancellationToken cancellationToken
    )
    {
        Directory.CreateDirectory(cacheDirectory);
        var unique = $"{Environment.ProcessId}.{Guid.NewGuid():N}";
        var download = Path.Combine(cacheDirectory, $".{expected.Sha256}.gz.{unique}");
        var partial = $"{cacheFile}.partial.{unique}";
        try
        {
            var (sha256, size) = await SendAsync(
                url,
                allowNotFound: false,
                async (response, ct) =>
                {
                    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    await using var body = await response.Content.ReadAsStreamAsync(ct);
                    await using var file = File.Create(download);
                    var buffer = new byte[81920];
                    long total = 0;
                    int read;
                    while ((read = await body.ReadAsync(buffer, ct)) > 0)
                    {
                        hash.AppendData(buffer, 0, read);
                        await file.WriteAsync(buffer.AsMemory(0, read), ct);
                        total += read;
                    }
                    return (Convert.ToHexStringLower(hash.GetHashAndReset()), total);
                },
                cancellationToken
            );
            if (
                !string.Equals(sha256, expected.Sha256, StringComparison.OrdinalIgnoreCase)
                || size != expected.Size
            )
            {
                throw new ToolFailedException(
                    "mirror",
                    $"{url} has sha256 {sha256} ({size} bytes) but {releaseUrl} lists {expected.Sha256} ({expected.Size} bytes); "
                        + "the mirror may be in the middle of an update (try again later) or serve a corrupt file (check options.mirror)",
                    []
                );
            }

            WriteIndex(download, partial, url);
            File.Move(partial, cacheFile, overwrite: true);
        }
        finally
        {
            File.Delete(download);
            File.Delete(partial);
        }
    }

    /// <summary>Parses the verified Packages.gz into the cache format: a header, then "name version" per package.</summary>
    private static void WriteIndex(string gzFile, string target, string url)
    {
        Dictionary<string, DebianArchivePackage> newest;
        try
        {
            using var input = File.OpenRead(gzFile);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            using var reader = new StreamReader(gzip, Encoding.UTF8);
            newest = DebianPackagesIndex.Newest(DebianPackagesIndex.Read(reader));
        }
        catch (InvalidDataException e)
        {
            throw new ToolFailedException(
                "mirror",
                $"{url} matches its Release checksum but is not a gzip file ({e.Message}); check options.mirror",
                [],
                e
            );
        }
        using var output = new StreamWriter(target, append: false, new UTF8Encoding(false));
        output.Write(CacheHeader + "\n");
        foreach (var package in newest.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            output.Write($"{package.Name} {package.Version}\n");
        }
    }

    /// <summary>The requested packages' versions in a cached index, or null when it is not cached (or unreadable).</summary>
    private static Dictionary<string, string>? ReadCachedIndex(
        string cacheFile,
        IReadOnlySet<string> requested
    )
    {
        if (!File.Exists(cacheFile))
        {
            return null;
        }
        using var reader = new StreamReader(cacheFile, Encoding.UTF8);
        if (reader.ReadLine() != CacheHeader)
        {
            return null;
        }
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && requested.Contains(line[..space]))
            {
                versions[line[..space]] = line[(space + 1)..];
            }
        }
        return versions;
    }

    /// <summary>
    /// GETs <paramref name="url"/> and reads the answer with <paramref name="read"/> (which sees a 404 only when
    /// <paramref name="allowNotFound"/>; other failures are errors). Network failures and timeouts become a
    /// <see cref="ToolFailedException"/> naming the URL.
    /// </summary>
    private async Task<T> SendAsync<T>(
        string url,
        bool allowNotFound,
        Func<HttpResponseMessage, CancellationToken, Task<T>> read,
        CancellationToken cancellationToken
    )
    {
        try
        {
            using var response = await http.GetAsync(
                url,
                HttpCompletionOption.ResponseHeadersRead,
                cancellationToken
            );
            if (
                !response.IsSuccessStatusCode
                && !(allowNotFound && response.StatusCode == HttpStatusCode.NotFound)
            )
            {
                throw new ToolFailedException(
                    "mirror",
                    $"GET {url}: {(int)response.StatusCode} {response.ReasonPhrase}; check options.mirror and options.security_mirror"
                        + (
                            response.StatusCode
                                is HttpStatusCode.Unauthorized
                                    or HttpStatusCode.Forbidden
                                ? " (the resolver does not send secrets.mirror_auth)"
                                : ""
                        ),
                    []
                );
            }
            return await read(response, cancellationToken);
        }
        catch (Exception e)
            when (e is HttpRequestException or IOException
                || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested)
            )
        {
            var what = e is TaskCanceledException ? $"timed out after {http.Timeout}" : e.Message;
            throw new ToolFailedException(
                "mirror",
                $"GET {url} failed: {what}; check that the mirror is reachable from this machine",
                [],
                e
            );
        }
    }

    private static string Digest(IEnumerable<string> lines)
    {
        var text = new StringBuilder();
        foreach (var line in lines.Order(StringComparer.Ordinal))
        {
            text.Append(line).Append('\n');
        }
        return "sha256:"
            + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>What the resolver needs of a Release file: its codename and the SHA256 list (path to sha256 and size).</summary>
    internal sealed record ReleaseFile(
        string? Codename,
        IReadOnlyDictionary<string, (string Sha256, long Size)> Sha256
    );

    /// <summary>Reads a Release file, or an InRelease (the same text inside a PGP clearsigned message).</summary>
    internal static ReleaseFile ParseRelease(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').ToList();
        if (lines.Count > 0 && lines[0] == "-----BEGIN PGP SIGNED MESSAGE-----")
        {
            // Armor headers ("Hash: SHA512") end at the first blank line; the signature block ends the text.
            var start = lines.IndexOf("") + 1;
            var end = lines.IndexOf("-----BEGIN PGP SIGNATURE-----");
            lines = lines[start..(end < 0 ? lines.Count : end)]
                .Select(l => l.StartsWith("- ", StringComparison.Ordinal) ? l[2..] : l)
                .ToList();
        }

        string? codename = null;
        var sums = new Dictionary<string, (string, long)>(StringComparer.Ordinal);
        var inSha256 = false;
        foreach (var line in lines)
        {
            if (line.Length > 0 && line[0] is ' ' or '\t')
            {
                if (!inSha256)
                {
                    continue;
                }
                // " <sha256> <size> <path>"
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (
                    parts.Length == 3
                    && long.TryParse(
                        parts[1],
                        NumberStyles.None,
                        CultureInfo.InvariantCulture,
                        out var size
                    )
                )
                {
                    sums[parts[2]] = (parts[0].ToLowerInvariant(), size);
                }
                continue;
            }
            inSha256 = line.StartsWith("SHA256:", StringComparison.Ordinal);
            if (line.StartsWith("Codename:", StringComparison.Ordinal))
            {
                codename = line["Codename:".Length..].Trim();
            }
        }
        return new ReleaseFile(codename, sums);
    }

    /// <summary>Shares one run of the work for a key among the callers that ask while it runs.</summary>
    private sealed class InFlight
    {
        private readonly ConcurrentDictionary<string, Lazy<Task<object>>> _running = new(
            StringComparer.Ordinal
        );

        public async Task<T> RunAsync<T>(
            string key,
            Func<Task<T>> work,
            CancellationToken cancellationToken
        )
            where T : notnull
        {
            var shared = _running.GetOrAdd(
                key,
                name => new Lazy<Task<object>>(async () =>
                {
                    try
                    {
                        return await work();
                    }
                    finally
                    {
                        _running.TryRemove(name, out var _);
                    }
                })
            );
            // One caller giving up does not cancel the download the others wait for.
            return (T)await shared.Value.WaitAsync(cancellationToken);
        }
    }
}
